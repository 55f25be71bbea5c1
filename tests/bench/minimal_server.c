/* minimal_server: the floor for the reject-path benchmark (tests/bench/run.sh).
 *
 * Owns nothing but this: accept on 127.0.0.1:PORT, write one 521 line, close.
 * It does no parsing, no logging and no policy lookup, so its connections/s on
 * a given number of threads is the most any SMTP screener can reach on this
 * machine; mxscreen's reject rate is reported as a fraction of it.
 *
 * Usage: minimal_server PORT [THREADS]
 * Each thread owns its own SO_REUSEPORT listener and blocks in accept(), so
 * the kernel spreads connections without a shared accept queue or a lock.
 * Runs until killed (SIGTERM/SIGINT take the default action: exit). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char reply[] = "521 5.3.2 Service currently unavailable\r\n";
static int port;

static int open_listener(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        perror("SO_REUSEPORT");
        exit(1);
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("bind 127.0.0.1");
        exit(1);
    }
    /* Deep backlog so the floor is never limited by SYN/accept-queue drops. */
    if (listen(fd, 4096) < 0) {
        perror("listen");
        exit(1);
    }
    return fd;
}

static void *acceptor(void *arg) {
    int lfd = (int)(long)arg;
    for (;;) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: back off briefly rather than spin. */
                usleep(1000);
                continue;
            }
            perror("accept4");
            exit(1);
        }
        /* One send into an empty socket buffer never blocks; a peer that is
         * already gone just gets its error ignored. */
        (void)send(c, reply, sizeof reply - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(c);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    int threads = argc == 3 ? atoi(argv[2]) : 1;
    if (port <= 0 || port > 65535 || threads <= 0 || threads > 256) {
        fprintf(stderr, "%s: bad PORT or THREADS\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Open every listener before serving so a bind failure aborts cleanly
     * and the caller can probe readiness with one connect. */
    int fds[256];
    for (int i = 0; i < threads; i++)
        fds[i] = open_listener();
    for (int i = 1; i < threads; i++) {
        pthread_t t;
        int rc = pthread_create(&t, NULL, acceptor, (void *)(long)fds[i]);
        if (rc != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(rc));
            return 1;
        }
        pthread_detach(t);
    }
    acceptor((void *)(long)fds[0]);
    return 0;
}

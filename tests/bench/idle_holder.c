/* idle_holder: the client side of tests/bench/idle.sh, the idle-connection
 * benchmark ("the screening cycle").
 *
 * hold:  opens up to N connections to an SMTP screener and keeps them idle in
 *        the greet wait: each one is bound to its own source address in
 *        127.0.0.0/8 (so no per-client limit applies), never sends a byte,
 *        and reads and discards whatever the server writes (the `220-`
 *        teaser). A connection counts as held once its teaser line has
 *        arrived, i.e. once the server has accepted it and started the test.
 *        Connections are opened in bounded batches (--batch in flight).
 *        --steps 1000,5000,19900: after reaching each step it prints
 *          STEP target=T held=H ...
 *        and waits for SIGUSR1 before growing to the next one (so the driver
 *        can read the server's memory at each step). When the server stops
 *        taking connections (no teaser for --stall seconds) the growth ends
 *        there: the stuck attempts are closed and the step reports what is
 *        held (the "max reachable"). The growth also ends when the server
 *        closes connections it held (lost=K; peak= is what was held before
 *        the first loss). After the last step it prints HOLDING
 *        and keeps every connection until SIGTERM/SIGINT; SIGUSR2 prints a
 *        STATUS line (held, closed by the server, bytes received beyond the
 *        teaser).
 * probe: COUNT fresh clients one after another: time from connect() to the
 *        end of the first line the server sends (the teaser), then close.
 *        Prints one PROBE line (n, ok, p50/p95/min/max in microseconds).
 *
 * Usage:
 *   idle_holder hold  --target 127.0.0.1:PORT --sources A-B --steps N1,N2,...
 *                     [--batch 128] [--stall 10]
 *   idle_holder probe --target 127.0.0.1:PORT --sources A-B [--count 20]
 *                     [--timeout 10] [--gap-ms 50]
 * Only 127.0.0.0/8 is accepted for the target and the sources.
 * The process raises its own RLIMIT_NOFILE to the hard limit.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("idle_holder: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int is_loopback(uint32_t host_order) { return (host_order >> 24) == 127; }

static struct sockaddr_in target;
static uint32_t src_lo, src_hi, src_next; /* host order */

static void parse_target(const char *s) {
    char buf[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof buf) die("bad --target %s", s);
    memcpy(buf, s, colon - s);
    buf[colon - s] = 0;
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    if (inet_pton(AF_INET, buf, &target.sin_addr) != 1) die("bad --target address %s", buf);
    if (!is_loopback(ntohl(target.sin_addr.s_addr))) die("--target must be in 127.0.0.0/8");
    int port = atoi(colon + 1);
    if (port <= 0 || port > 65535) die("bad --target port");
    target.sin_port = htons(port);
}

static void parse_sources(const char *s) {
    char a[32], b[32];
    const char *dash = strchr(s, '-');
    if (!dash || (size_t)(dash - s) >= sizeof a || strlen(dash + 1) >= sizeof b) die("bad --sources %s", s);
    memcpy(a, s, dash - s);
    a[dash - s] = 0;
    strcpy(b, dash + 1);
    struct in_addr x, y;
    if (inet_pton(AF_INET, a, &x) != 1 || inet_pton(AF_INET, b, &y) != 1) die("bad --sources %s", s);
    src_lo = ntohl(x.s_addr);
    src_hi = ntohl(y.s_addr);
    if (!is_loopback(src_lo) || !is_loopback(src_hi) || src_hi < src_lo)
        die("--sources must be a range inside 127.0.0.0/8");
    src_next = src_lo;
}

/* A new non-blocking socket bound to the next source address, connect started.
 * Returns the fd, or -1 with errno set. */
static int open_conn(int nonblock) {
    if (src_next > src_hi) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in src;
    memset(&src, 0, sizeof src);
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(src_next++);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ------------------------------------------------------------------ hold */

enum { ST_FREE = 0, ST_CONNECTING, ST_TEASER, ST_HELD };
struct conn {
    uint8_t state;
    uint8_t seen; /* bytes of the first line seen so far (capped) */
    char head[4]; /* first 4 bytes of the first line */
    double t0;
};

static struct conn *conns;
static int nconns_max;
static long held, peak_held, first_loss_held = -1, inflight, closed_by_server, extra_bytes, bad_teaser, connect_errors,
    stalled_closed, last_errno;

static void drop(int ep, int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    conns[fd].state = ST_FREE;
}

static void on_event(int ep, int fd, uint32_t ev) {
    struct conn *c = &conns[fd];
    if (c->state == ST_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (ev & (EPOLLERR | EPOLLHUP))) {
            connect_errors++;
            last_errno = err;
            inflight--;
            drop(ep, fd);
            return;
        }
        c->state = ST_TEASER;
        struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
        if (!(ev & EPOLLIN)) return;
    }
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            /* EOF or error: the server let go of this connection. */
            if (c->state == ST_HELD) {
                if (first_loss_held < 0) first_loss_held = held; /* what was held before any loss */
                held--;
                closed_by_server++;
            } else {
                inflight--;
                connect_errors++;
                last_errno = n < 0 ? errno : ECONNRESET;
            }
            drop(ep, fd);
            return;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (c->state == ST_HELD) {
                extra_bytes += n - i; /* anything after the teaser line */
                break;
            }
            if (c->seen < 4) c->head[c->seen] = buf[i];
            if (c->seen < 255) c->seen++;
            if (buf[i] == '\n') {
                if (c->seen < 4 || memcmp(c->head, "220", 3) != 0) bad_teaser++;
                c->state = ST_HELD;
                inflight--;
                held++;
                if (held > peak_held) peak_held = held;
            }
        }
    }
}

static int cmd_hold(int argc, char **argv) {
    const char *steps_arg = NULL;
    int batch = 128;
    double stall = 10;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--target") && i + 1 < argc) parse_target(argv[++i]);
        else if (!strcmp(argv[i], "--sources") && i + 1 < argc) parse_sources(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps_arg = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--stall") && i + 1 < argc) stall = atof(argv[++i]);
        else die("hold: unknown argument %s", argv[i]);
    }
    if (!target.sin_port || !src_lo || !steps_arg) die("hold needs --target, --sources and --steps");
    long steps[64];
    int nsteps = 0;
    for (char *s = strdup(steps_arg), *tok; (tok = strsep(&s, ",")) && nsteps < 64;)
        if (*tok) steps[nsteps++] = atol(tok);
    if (nsteps == 0) die("no --steps");
    if (batch < 1) batch = 1;

    raise_nofile();
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    nconns_max = (int)(rl.rlim_cur > 1u << 20 ? 1u << 20 : rl.rlim_cur);
    conns = calloc(nconns_max, sizeof *conns);
    if (!conns) die("out of memory");

    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGUSR1);
    sigaddset(&ss, SIGUSR2);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    int sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || ep < 0) die("signalfd/epoll: %s", strerror(errno));
    struct epoll_event se = {.events = EPOLLIN, .data.fd = sfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &se);
    printf("START nofile=%ld target=%s:%d sources=%u.%u.%u.%u-... batch=%d\n", (long)rl.rlim_cur,
           inet_ntoa(target.sin_addr), ntohs(target.sin_port), src_lo >> 24, (src_lo >> 16) & 255,
           (src_lo >> 8) & 255, src_lo & 255, batch);
    fflush(stdout);

    int step = 0, growing = 1, exhausted = 0, quit = 0;
    long lost_at_step_start = 0;
    double step_t0 = now_s(), last_progress = now_s();
    long last_held = 0;
    struct epoll_event evs[256];
    while (!quit) {
        long want = step < nsteps ? steps[step] : 0;
        /* Open more while below the step's target (in-flight bounded). */
        while (growing && !exhausted && held + inflight < want && inflight < batch) {
            int fd = open_conn(1);
            if (fd < 0) {
                last_errno = errno;
                connect_errors++;
                /* Out of descriptors or addresses here: no further growth. */
                if (errno == EMFILE || errno == ENFILE || errno == EADDRNOTAVAIL) exhausted = 1;
                break;
            }
            if (fd >= nconns_max) die("fd %d beyond table", fd);
            conns[fd] = (struct conn){.state = ST_CONNECTING, .t0 = now_s()};
            struct epoll_event e = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.fd = fd};
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
            inflight++;
        }
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == sfd) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == sizeof si) {
                    if (si.ssi_signo == SIGUSR1 && !growing) {
                        step++;
                        growing = step < nsteps;
                        step_t0 = now_s();
                        last_progress = now_s();
                        lost_at_step_start = closed_by_server;
                        if (!growing) {
                            printf("HOLDING held=%ld\n", held);
                            fflush(stdout);
                        }
                    } else if (si.ssi_signo == SIGUSR2) {
                        printf("STATUS held=%ld peak=%ld closed_by_server=%ld extra_bytes=%ld "
                               "bad_teaser=%ld connect_errors=%ld\n",
                               held, peak_held, closed_by_server, extra_bytes, bad_teaser,
                               connect_errors);
                        fflush(stdout);
                    } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                        quit = 1;
                    }
                }
                continue;
            }
            on_event(ep, fd, evs[i].events);
        }
        if (held != last_held) {
            last_held = held;
            last_progress = now_s();
        }
        if (!growing) continue;
        want = step < nsteps ? steps[step] : 0; /* a SIGUSR1 above may have moved on */
        int stalled = inflight > 0 && now_s() - last_progress > stall;
        /* The server let go of held connections while we were adding more
         * (postscreen exits when it runs out of descriptors): stop here. */
        int lost = closed_by_server > lost_at_step_start;
        if (held >= want || stalled || lost || (exhausted && inflight == 0)) {
            int limited = held < want;
            if (inflight > 0) {
                /* No teaser for `stall` seconds: the server takes no more. */
                for (int fd = 0; fd < nconns_max; fd++) {
                    if (conns[fd].state == ST_CONNECTING || conns[fd].state == ST_TEASER) {
                        drop(ep, fd);
                        stalled_closed++;
                    }
                }
                inflight = 0;
            }
            if (limited) exhausted = 1; /* later steps stay at this count */
            if (lost) exhausted = 1;
            printf("STEP target=%ld held=%ld peak=%ld limited=%d lost=%ld secs=%.2f connect_errors=%ld "
                   "last_errno=%s stalled_closed=%ld closed_by_server=%ld bad_teaser=%ld\n",
                   want, held, first_loss_held >= 0 ? first_loss_held : peak_held, limited, closed_by_server - lost_at_step_start,
                   now_s() - step_t0, connect_errors, last_errno ? strerror((int)last_errno) : "-",
                   stalled_closed, closed_by_server, bad_teaser);
            fflush(stdout);
            growing = 0; /* until SIGUSR1 */
        }
    }
    for (int fd = 0; fd < nconns_max; fd++)
        if (conns[fd].state != ST_FREE) close(fd);
    printf("DONE held=%ld closed_by_server=%ld extra_bytes=%ld\n", held, closed_by_server, extra_bytes);
    fflush(stdout);
    return 0;
}

/* ----------------------------------------------------------------- probe */

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* One client: connect, read the first line. Returns microseconds or -1. */
static long probe_one(double timeout, char *why, size_t whylen) {
    double t0 = now_s();
    int fd = open_conn(1);
    if (fd < 0) {
        snprintf(why, whylen, "connect: %s", strerror(errno));
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int ms = (int)(timeout * 1000);
    if (poll(&p, 1, ms) != 1) {
        snprintf(why, whylen, "connect timeout");
        close(fd);
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        snprintf(why, whylen, "connect: %s", strerror(err));
        close(fd);
        return -1;
    }
    char line[512];
    size_t got = 0;
    for (;;) {
        double left = timeout - (now_s() - t0);
        if (left <= 0) {
            snprintf(why, whylen, "no teaser within %.0f s", timeout);
            close(fd);
            return -1;
        }
        p.events = POLLIN;
        if (poll(&p, 1, (int)(left * 1000) + 1) != 1) continue;
        ssize_t n = read(fd, line + got, sizeof line - 1 - got);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
            snprintf(why, whylen, "closed before a line");
            close(fd);
            return -1;
        }
        got += n;
        line[got] = 0;
        if (memchr(line, '\n', got) || got >= sizeof line - 1) break;
    }
    long us = (long)((now_s() - t0) * 1e6);
    close(fd);
    if (strncmp(line, "220", 3) != 0) {
        snprintf(why, whylen, "first line is not 220: %.40s", line);
        return -1;
    }
    return us;
}

static int cmd_probe(int argc, char **argv) {
    int count = 20, gap_ms = 50;
    double timeout = 10;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--target") && i + 1 < argc) parse_target(argv[++i]);
        else if (!strcmp(argv[i], "--sources") && i + 1 < argc) parse_sources(argv[++i]);
        else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = atof(argv[++i]);
        else if (!strcmp(argv[i], "--gap-ms") && i + 1 < argc) gap_ms = atoi(argv[++i]);
        else die("probe: unknown argument %s", argv[i]);
    }
    if (!target.sin_port || !src_lo || count < 1) die("probe needs --target and --sources");
    long *us = calloc(count, sizeof *us);
    int ok = 0;
    char why[128] = "";
    for (int i = 0; i < count; i++) {
        char w[128];
        long t = probe_one(timeout, w, sizeof w);
        if (t >= 0) {
            us[ok++] = t;
            printf("SAMPLE %d us=%ld\n", i, t);
        } else {
            snprintf(why, sizeof why, "%s", w);
            printf("SAMPLE %d error=%s\n", i, w);
        }
        fflush(stdout);
        if (gap_ms > 0) usleep(gap_ms * 1000);
    }
    if (ok == 0) {
        printf("PROBE n=%d ok=0 p50_us=- p95_us=- min_us=- max_us=- error=%s\n", count, why);
        return 1;
    }
    qsort(us, ok, sizeof *us, cmp_long);
    /* nearest rank */
    int r50 = (ok * 50 + 99) / 100, r95 = (ok * 95 + 99) / 100;
    printf("PROBE n=%d ok=%d p50_us=%ld p95_us=%ld min_us=%ld max_us=%ld%s%s\n", count, ok,
           us[r50 - 1], us[r95 - 1], us[0], us[ok - 1], ok < count ? " error=" : "",
           ok < count ? why : "");
    return ok == count ? 0 : 1;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && !strcmp(argv[1], "hold")) return cmd_hold(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "probe")) return cmd_probe(argc - 2, argv + 2);
    fprintf(stderr,
            "usage: idle_holder hold --target IP:PORT --sources A-B --steps N1,N2,... [--batch 128] [--stall 10]\n"
            "       idle_holder probe --target IP:PORT --sources A-B [--count 20] [--timeout 10] [--gap-ms 50]\n");
    return 2;
}

// mxs_loadgen: loopback SMTP load generator for tests/bench/run.sh.
//
// Owns the client side of the three foundation benchmarks:
//   reject  - connections/s against a server that answers 521/421 and closes
//             (Postfix's smtp-source gives up on the first rejected banner,
//             so it cannot measure a reject path);
//   session - full short SMTP sessions/s (greeting .. QUIT);
//   data    - MB/s of the DATA phase for one or a few very large messages.
// One thread, one epoll set, a fixed number of connections in flight. Each
// connection may be bound to a different 127/8 source address (round robin),
// so a screener sees thousands of distinct clients. It refuses any target or
// source address outside 127.0.0.0/8: this tool never leaves the machine.
// Every run is bounded by --duration and/or --count plus a per-connection idle
// timeout and an error budget. The last line on stdout is machine readable:
//   RESULT mode=reject conns=... secs=... rate=... errors=... p50_us=... ...
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

enum class Mode { kReject, kSession, kData };

struct Options {
  Mode mode = Mode::kReject;
  std::string mode_name = "reject";
  sockaddr_in target{};
  std::string target_str;
  int concurrency = 16;
  double duration = 0;  // seconds; 0 = not given
  uint64_t count = 0;   // 0 = not given
  uint32_t src_first = 0;  // host byte order; src_count 0 = don't bind
  uint32_t src_count = 0;
  uint64_t bytes = 256ull << 20;
  double timeout = 30;  // idle seconds per connection
  uint64_t max_errors = 1000;
  std::string helo = "loadgen.bench.example";
  bool verbose = false;
};

[[noreturn]] void usage(const char* why) {
  if (why) std::fprintf(stderr, "mxs_loadgen: %s\n", why);
  std::fprintf(
      stderr,
      "usage: mxs_loadgen --target 127.0.0.1:PORT [--mode reject|session|data]\n"
      "  [--concurrency N (16)] [--duration SECONDS] [--count N]\n"
      "  [--sources 127.A.B.C-127.D.E.F | --source-count K] [--bytes N[K|M|G]]\n"
      "  [--timeout SECONDS (30, idle)] [--max-errors N (1000)] [--helo NAME]\n"
      "  [--verbose]\n"
      "Without --duration and --count: reject/session run 10 s, data sends 1\n"
      "message. With only --count the run is still capped at 600 s.\n");
  std::exit(2);
}

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str()) return false;
  uint64_t mul = 1;
  std::string suf(end);
  if (suf == "K" || suf == "k") mul = 1ull << 10;
  else if (suf == "M" || suf == "m") mul = 1ull << 20;
  else if (suf == "G" || suf == "g") mul = 1ull << 30;
  else if (!suf.empty()) return false;
  out = uint64_t(v) * mul;
  return true;
}

bool parse_double(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0' && out >= 0;
}

bool parse_ipv4(const std::string& s, uint32_t& host_order) {
  in_addr a;
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
  host_order = ntohl(a.s_addr);
  return true;
}

bool is_loopback(uint32_t a) { return (a >> 24) == 127; }

// 127.0.0.0 and 127.255.255.255 are the /8's network and broadcast
// addresses; everything between is a usable local address on Linux.
bool usable_source(uint32_t a) {
  return is_loopback(a) && a != 0x7f000000u && a != 0x7fffffffu;
}

std::string ipv4_str(uint32_t host_order) {
  in_addr a;
  a.s_addr = htonl(host_order);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

Options parse_args(int argc, char** argv) {
  Options o;
  bool have_sources = false, have_source_count = false;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i], val;
    if (arg == "--help" || arg == "-h") usage(nullptr);
    if (arg == "--verbose") {
      o.verbose = true;
      continue;
    }
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      val = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else {
      if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
      val = argv[++i];
    }
    uint64_t u = 0;
    if (arg == "--target") {
      auto colon = val.rfind(':');
      uint32_t ip = 0;
      if (colon == std::string::npos || !parse_ipv4(val.substr(0, colon), ip) ||
          !parse_u64(val.substr(colon + 1), u) || u == 0 || u > 65535)
        usage("--target wants IPV4:PORT");
      if (!is_loopback(ip)) usage("--target must be in 127.0.0.0/8");
      o.target.sin_family = AF_INET;
      o.target.sin_addr.s_addr = htonl(ip);
      o.target.sin_port = htons(uint16_t(u));
      o.target_str = val;
    } else if (arg == "--mode") {
      o.mode_name = val;
      if (val == "reject") o.mode = Mode::kReject;
      else if (val == "session") o.mode = Mode::kSession;
      else if (val == "data") o.mode = Mode::kData;
      else usage("--mode is reject, session or data");
    } else if (arg == "--concurrency") {
      if (!parse_u64(val, u) || u == 0 || u > 100000) usage("bad --concurrency");
      o.concurrency = int(u);
    } else if (arg == "--duration") {
      if (!parse_double(val, o.duration) || o.duration <= 0) usage("bad --duration");
    } else if (arg == "--count") {
      if (!parse_u64(val, o.count) || o.count == 0) usage("bad --count");
    } else if (arg == "--sources") {
      auto dash = val.find('-');
      uint32_t a = 0, b = 0;
      bool ok = dash == std::string::npos
                    ? parse_ipv4(val, a) && (b = a, true)
                    : parse_ipv4(val.substr(0, dash), a) && parse_ipv4(val.substr(dash + 1), b);
      if (!ok || a > b) usage("--sources wants A or A-B (IPv4, A <= B)");
      if (!usable_source(a) || !usable_source(b))
        usage("--sources must lie inside 127.0.0.1-127.255.255.254");
      o.src_first = a;
      o.src_count = b - a + 1;
      have_sources = true;
    } else if (arg == "--source-count") {
      if (!parse_u64(val, u) || u == 0 || u > 0x00fffffdull) usage("bad --source-count");
      o.src_first = 0x7f000002u;  // 127.0.0.2: 127.0.0.1 stays the "trusted" address
      o.src_count = uint32_t(u);
      have_source_count = true;
    } else if (arg == "--bytes") {
      if (!parse_u64(val, o.bytes) || o.bytes == 0) usage("bad --bytes");
    } else if (arg == "--timeout") {
      if (!parse_double(val, o.timeout) || o.timeout <= 0) usage("bad --timeout");
    } else if (arg == "--max-errors") {
      if (!parse_u64(val, o.max_errors)) usage("bad --max-errors");
    } else if (arg == "--helo") {
      o.helo = val;
    } else {
      usage(("unknown option " + arg).c_str());
    }
  }
  if (o.target_str.empty()) usage("--target is required");
  if (have_sources && have_source_count) usage("give --sources or --source-count, not both");
  if (o.duration == 0 && o.count == 0) {
    if (o.mode == Mode::kData) o.count = 1;
    else o.duration = 10;
  }
  if (o.duration == 0) o.duration = 600;  // --count alone is still bounded in time
  return o;
}

enum State : uint8_t {
  kReject,    // waiting for the 521/421 line, then for the close
  kGreeting,  // 220 (possibly a 220- teaser followed by the backend's 220 line)
  kEhlo,
  kMail,
  kRcpt,
  kData,      // waiting for 354
  kBody,      // streaming the large body (data mode)
  kDot,       // body and "." sent, waiting for 250
  kQuit,      // waiting for 221
  kClosing,   // reply complete, waiting for the server's close
};

const char* state_name(State s) {
  static const char* const names[] = {"reject", "greeting", "ehlo", "mail", "rcpt",
                                      "data", "body", "dot", "quit", "closing"};
  return names[s];
}

struct Conn {
  int fd = -1;
  State state = kReject;
  bool want_out = false;
  bool got_line = false;  // reject mode: saw the 521/421 line
  uint64_t t_start = 0, t_last = 0, t_data = 0;
  std::string rbuf;
  std::string wbuf;
  size_t woff = 0;
  uint64_t body_sent = 0;
};

struct Stats {
  uint64_t started = 0, ok = 0, abandoned = 0, c421 = 0, resets_after_reply = 0;
  uint64_t err_connect = 0, err_timeout = 0, err_proto = 0, err_io = 0;
  uint64_t data_bytes = 0, data_first_ns = 0, data_last_ns = 0;
  std::vector<uint32_t> lat_us;
  uint64_t errors() const { return err_connect + err_timeout + err_proto + err_io; }
};

// The body of data mode: 78 printable characters + CRLF per line, never a
// leading '.', so no dot-stuffing is needed and every byte is sent as-is.
constexpr size_t kLineLen = 80;
constexpr size_t kChunkLines = 13107;  // ~1 MiB, a whole number of lines
const char kHeader[] =
    "From: <a@b.example>\r\nTo: <c@d.example>\r\nSubject: mxs_loadgen data\r\n\r\n";
const char kSmallMessage[] =
    "From: <a@b.example>\r\nTo: <c@d.example>\r\nSubject: mxs_loadgen session\r\n\r\n"
    "A short benchmark message.\r\n.\r\n";

class LoadGen {
 public:
  explicit LoadGen(const Options& o) : o_(o), conns_(size_t(o.concurrency)) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) {
      std::perror("epoll_create1");
      std::exit(1);
    }
    for (int i = o.concurrency - 1; i >= 0; i--) free_.push_back(i);
    if (o.mode == Mode::kData) {
      chunk_.reserve(kLineLen * kChunkLines);
      for (size_t l = 0; l < kChunkLines; l++) {
        for (size_t c = 0; c < kLineLen - 2; c++) chunk_.push_back(char('A' + (l + c) % 26));
        chunk_ += "\r\n";
      }
      body_total_ = (o.bytes + kLineLen - 1) / kLineLen * kLineLen;
    }
    stats_.lat_us.reserve(1 << 20);
  }

  int run() {
    const uint64_t t0 = now_ns();
    const uint64_t deadline = t0 + uint64_t(o_.duration * 1e9);
    const uint64_t idle_ns = uint64_t(o_.timeout * 1e9);
    uint64_t next_scan = t0, t_end = 0, last_report = t0;
    bool aborted = false;
    std::vector<epoll_event> evs(256);
    for (;;) {
      uint64_t now = now_ns();
      if (now >= deadline) {
        t_end = deadline;
        break;
      }
      if (stats_.errors() > o_.max_errors) {
        std::fprintf(stderr, "mxs_loadgen: more than %" PRIu64 " errors, giving up\n",
                     o_.max_errors);
        aborted = true;
        t_end = now;
        break;
      }
      while (!free_.empty() && (o_.count == 0 || stats_.started < o_.count)) launch();
      if (free_.size() == conns_.size() && o_.count != 0 && stats_.started >= o_.count) {
        t_end = now_ns();
        break;
      }
      int n = epoll_wait(ep_, evs.data(), int(evs.size()), 20);
      if (n < 0 && errno != EINTR) {
        std::perror("epoll_wait");
        return 1;
      }
      for (int i = 0; i < n; i++) handle(int(evs[i].data.u32), evs[i].events);
      now = now_ns();
      if (now >= next_scan) {
        next_scan = now + 100000000ull;
        for (size_t s = 0; s < conns_.size(); s++)
          if (conns_[s].fd >= 0 && now - conns_[s].t_last > idle_ns)
            fail(int(s), stats_.err_timeout, "idle timeout");
      }
      if (o_.verbose && now - last_report >= 1000000000ull) {
        last_report = now;
        std::fprintf(stderr, "  t=%.1fs ok=%" PRIu64 " errors=%" PRIu64 "\n", double(now - t0) / 1e9,
                     stats_.ok, stats_.errors());
      }
    }
    // Whatever is still in flight when time runs out is neither a success
    // nor an error; it just did not finish inside the measured window.
    for (size_t s = 0; s < conns_.size(); s++)
      if (conns_[s].fd >= 0) {
        stats_.abandoned++;
        close_slot(int(s));
      }
    report(double(t_end - t0) / 1e9);
    return aborted || stats_.ok == 0 ? 1 : 0;
  }

 private:
  void launch() {
    int slot = free_.back();
    free_.pop_back();
    Conn& c = conns_[size_t(slot)];
    c = Conn();
    c.t_start = c.t_last = now_ns();
    c.state = o_.mode == Mode::kReject ? kReject : kGreeting;
    stats_.started++;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      note_error("socket", std::strerror(errno));
      stats_.err_connect++;
      free_.push_back(slot);
      return;
    }
    c.fd = fd;
    if (o_.src_count != 0) {
      // Defer the source port choice to connect(): the kernel can then reuse
      // ports per (source, destination) pair instead of running one global
      // ephemeral range dry at high connection rates.
      int one = 1;
      setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      sockaddr_in src{};
      src.sin_family = AF_INET;
      src.sin_addr.s_addr = htonl(o_.src_first + uint32_t(next_src_ % o_.src_count));
      next_src_++;
      if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) < 0) {
        fail(slot, stats_.err_connect, "bind source address", errno);
        return;
      }
    }
    if (o_.mode != Mode::kReject) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&o_.target), sizeof o_.target) < 0 &&
        errno != EINPROGRESS) {
      fail(slot, stats_.err_connect, "connect", errno);
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = uint32_t(slot);
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      fail(slot, stats_.err_io, "epoll_ctl", errno);
      return;
    }
  }

  void handle(int slot, uint32_t events) {
    Conn& c = conns_[size_t(slot)];
    if (c.fd < 0) return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      if (!on_readable(slot)) return;
    }
    if ((events & EPOLLOUT) && c.fd >= 0) {
      if (!flush(slot)) return;
    }
  }

  // Returns false once the slot has been closed.
  bool on_readable(int slot) {
    Conn& c = conns_[size_t(slot)];
    char buf[65536];
    for (;;) {
      ssize_t n = read(c.fd, buf, sizeof buf);
      if (n > 0) {
        c.t_last = now_ns();
        c.rbuf.append(buf, size_t(n));
        if (!parse_lines(slot)) return false;
        if (c.rbuf.size() > 65536) {
          fail(slot, stats_.err_proto, "reply line longer than 64 KiB");
          return false;
        }
        continue;
      }
      if (n == 0) {
        if (c.state == kClosing || (c.state == kReject && c.got_line)) {
          succeed(slot);
        } else {
          fail(slot, stats_.err_proto,
               (std::string("server closed in state ") + state_name(c.state)).c_str());
        }
        return false;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      // A reset after the complete reject line still means the server did
      // its job (it closed with our unread bytes or a SYN race pending).
      if ((c.state == kReject && c.got_line) || c.state == kClosing) {
        stats_.resets_after_reply++;
        succeed(slot);
      } else if (c.state == kReject && !c.got_line && c.rbuf.empty() &&
                 (errno == ECONNREFUSED || errno == ETIMEDOUT || errno == EHOSTUNREACH)) {
        fail(slot, stats_.err_connect, "connect", errno);
      } else {
        fail(slot, stats_.err_io, "read", errno);
      }
      return false;
    }
  }

  bool parse_lines(int slot) {
    Conn& c = conns_[size_t(slot)];
    size_t pos = 0;
    for (;;) {
      size_t nl = c.rbuf.find('\n', pos);
      if (nl == std::string::npos) break;
      std::string line = c.rbuf.substr(pos, nl - pos);
      pos = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (c.state == kReject) {
        if (c.got_line) continue;
        if (line.compare(0, 3, "521") == 0) {
          c.got_line = true;
        } else if (line.compare(0, 3, "421") == 0) {
          c.got_line = true;
          stats_.c421++;
        } else {
          fail(slot, stats_.err_proto, ("expected 521/421, got: " + line).c_str());
          return false;
        }
        continue;
      }
      // Multi-line replies: "250-..." continues, "250 ..." (or bare "250") ends.
      if (line.size() < 3 || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
        fail(slot, stats_.err_proto, ("malformed reply line: " + line).c_str());
        return false;
      }
      if (line.size() > 3 && line[3] == '-') continue;
      int code = std::atoi(line.substr(0, 3).c_str());
      if (!on_reply(slot, code, line)) return false;
    }
    c.rbuf.erase(0, pos);
    return true;
  }

  bool on_reply(int slot, int code, const std::string& line) {
    Conn& c = conns_[size_t(slot)];
    auto expect = [&](int want) {
      if (code == want) return true;
      fail(slot, stats_.err_proto,
           (std::string("in state ") + state_name(c.state) + " expected " +
            std::to_string(want) + ", got: " + line).c_str());
      return false;
    };
    switch (c.state) {
      case kGreeting:
        if (!expect(220)) return false;
        c.state = kEhlo;
        return send_str(slot, "EHLO " + o_.helo + "\r\n");
      case kEhlo:
        if (!expect(250)) return false;
        c.state = kMail;
        return send_str(slot, "MAIL FROM:<a@b.example>\r\n");
      case kMail:
        if (!expect(250)) return false;
        c.state = kRcpt;
        return send_str(slot, "RCPT TO:<c@d.example>\r\n");
      case kRcpt:
        if (!expect(250)) return false;
        c.state = kData;
        return send_str(slot, "DATA\r\n");
      case kData:
        if (!expect(354)) return false;
        if (o_.mode == Mode::kSession) {
          c.state = kDot;
          return send_str(slot, kSmallMessage);
        }
        c.t_data = now_ns();
        if (stats_.data_first_ns == 0) stats_.data_first_ns = c.t_data;
        c.state = kBody;
        c.body_sent = 0;
        return send_str(slot, kHeader);
      case kDot:
        if (!expect(250)) return false;
        if (o_.mode == Mode::kData) {
          stats_.data_last_ns = now_ns();
          stats_.data_bytes += sizeof kHeader - 1 + body_total_ + 3;
        }
        c.state = kQuit;
        return send_str(slot, "QUIT\r\n");
      case kQuit:
        if (!expect(221)) return false;
        c.state = kClosing;
        return true;
      default:
        fail(slot, stats_.err_proto,
             (std::string("unexpected reply in state ") + state_name(c.state) + ": " + line)
                 .c_str());
        return false;
    }
  }

  bool send_str(int slot, const std::string& s) {
    Conn& c = conns_[size_t(slot)];
    c.wbuf.append(s);
    return flush(slot);
  }

  // Writes pending bytes, then (data mode) streams the body; keeps EPOLLOUT
  // armed only while there is something left to write.
  bool flush(int slot) {
    Conn& c = conns_[size_t(slot)];
    for (;;) {
      if (c.woff < c.wbuf.size()) {
        ssize_t n = send(c.fd, c.wbuf.data() + c.woff, c.wbuf.size() - c.woff, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          fail(slot, stats_.err_io, "write", errno);
          return false;
        }
        c.t_last = now_ns();
        c.woff += size_t(n);
        if (c.woff == c.wbuf.size()) {
          c.wbuf.clear();
          c.woff = 0;
        }
        continue;
      }
      if (c.state != kBody) break;
      if (c.body_sent == body_total_) {
        c.state = kDot;
        c.wbuf = ".\r\n";
        continue;
      }
      size_t off = size_t(c.body_sent % chunk_.size());
      size_t len = std::min<uint64_t>(chunk_.size() - off, body_total_ - c.body_sent);
      ssize_t n = send(c.fd, chunk_.data() + off, len, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        fail(slot, stats_.err_io, "write body", errno);
        return false;
      }
      c.t_last = now_ns();
      c.body_sent += uint64_t(n);
    }
    bool want = !c.wbuf.empty() || c.state == kBody;
    if (want != c.want_out) {
      c.want_out = want;
      epoll_event ev{};
      ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
      ev.data.u32 = uint32_t(slot);
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }
    return true;
  }

  void succeed(int slot) {
    Conn& c = conns_[size_t(slot)];
    uint64_t us = (now_ns() - c.t_start) / 1000;
    stats_.lat_us.push_back(uint32_t(std::min<uint64_t>(us, UINT32_MAX)));
    stats_.ok++;
    close_slot(slot);
  }

  // err: the errno of a failed system call, 0 for protocol errors.
  void fail(int slot, uint64_t& counter, const char* what, int err = 0) {
    Conn& c = conns_[size_t(slot)];
    counter++;
    note_error(what, err ? std::strerror(err) : "", c.state);
    close_slot(slot);
  }

  void note_error(const char* what, const char* detail, State st = kReject) {
    if (errors_printed_ < 5) {
      errors_printed_++;
      std::fprintf(stderr, "mxs_loadgen: error (%s): %s%s%s\n", state_name(st), what,
                   *detail ? ": " : "", detail);
    }
  }

  void close_slot(int slot) {
    Conn& c = conns_[size_t(slot)];
    if (c.fd >= 0) {
      close(c.fd);  // also removes it from the epoll set
      c.fd = -1;
      free_.push_back(slot);
    }
  }

  void report(double secs) {
    auto& v = stats_.lat_us;
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) -> uint32_t {
      if (v.empty()) return 0;
      size_t i = std::min(v.size() - 1, size_t(double(v.size()) * p));
      return v[i];
    };
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    std::printf(
        "RESULT mode=%s target=%s concurrency=%d sources=%u conns=%" PRIu64 " secs=%.3f rate=%.1f"
        " errors=%" PRIu64 " err_connect=%" PRIu64 " err_timeout=%" PRIu64 " err_proto=%" PRIu64
        " err_io=%" PRIu64 " abandoned=%" PRIu64 " c421=%" PRIu64 " resets=%" PRIu64
        " p50_us=%u p99_us=%u max_us=%u lg_cpu=%.2f",
        o_.mode_name.c_str(), o_.target_str.c_str(), o_.concurrency, o_.src_count, stats_.ok,
        secs, secs > 0 ? double(stats_.ok) / secs : 0.0, stats_.errors(), stats_.err_connect,
        stats_.err_timeout, stats_.err_proto, stats_.err_io, stats_.abandoned, stats_.c421,
        stats_.resets_after_reply, pct(0.50), pct(0.99), v.empty() ? 0 : v.back(),
        secs >= 0.1 ? cpu / secs : 0.0);
    if (o_.mode == Mode::kData) {
      double dsecs = stats_.data_last_ns > stats_.data_first_ns
                         ? double(stats_.data_last_ns - stats_.data_first_ns) / 1e9
                         : 0.0;
      std::printf(" data_bytes=%" PRIu64 " data_secs=%.3f mb_per_s=%.1f", stats_.data_bytes,
                  dsecs, dsecs > 0 ? double(stats_.data_bytes) / dsecs / 1e6 : 0.0);
    }
    std::printf("\n");
    std::fflush(stdout);
  }

  const Options& o_;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::vector<int> free_;
  Stats stats_;
  uint64_t next_src_ = 0;
  std::string chunk_;
  uint64_t body_total_ = 0;
  int errors_printed_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Options o = parse_args(argc, argv);
  if (o.src_count != 0 && o.verbose)
    std::fprintf(stderr, "mxs_loadgen: sources %s .. %s (%u)\n", ipv4_str(o.src_first).c_str(),
                 ipv4_str(o.src_first + o.src_count - 1).c_str(), o.src_count);
  LoadGen lg(o);
  return lg.run();
}

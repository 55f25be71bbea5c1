// Tests of the DNS resolver (core/ares_resolver.cc, core/dns_answer.cc):
// ParseDnsAnswer on hand-built and hostile responses, and c-ares on an Asio
// event loop against a tiny DNS server on a loopback UDP port run by the test
// (answers, NXDOMAIN with its negative TTL, a name it never answers), with
// lookups shared across two workers, the TTL cache, deadlines, and a lookup
// cancelled by dropping its handle (never called back).
#include <ares.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <thread>

#include "core/ares_resolver.h"
#include "core/dns_resolver.h"

namespace mxs {
namespace {

using std::chrono::milliseconds;

// DNS wire helpers for the tests.
void Put16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v >> 8));
  s->push_back(static_cast<char>(v & 0xff));
}
void Put32(std::string* s, uint32_t v) {
  Put16(s, static_cast<uint16_t>(v >> 16));
  Put16(s, static_cast<uint16_t>(v & 0xffff));
}
std::string EncodeName(const std::string& name) {
  std::string out;
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<char>(dot - start));
    out += name.substr(start, dot - start);
    start = dot + 1;
  }
  out.push_back(0);
  return out;
}
// A response to `query` (id and question copied): rcode, A records, and an
// optional SOA in the authority section.
std::string Response(const std::string& query, int rcode, const std::vector<uint32_t>& addrs,
                     uint32_t ttl, bool soa = false, uint32_t soa_ttl = 0, uint32_t soa_min = 0) {
  std::string r = query.substr(0, 2);
  Put16(&r, static_cast<uint16_t>(0x8180 | rcode));  // QR, RD, RA
  Put16(&r, 1);
  Put16(&r, static_cast<uint16_t>(addrs.size()));
  Put16(&r, soa ? 1 : 0);
  Put16(&r, 0);
  r += query.substr(12);  // the question as asked
  for (uint32_t a : addrs) {
    Put16(&r, 0xc00c);
    Put16(&r, 1);
    Put16(&r, 1);
    Put32(&r, ttl);
    Put16(&r, 4);
    Put32(&r, a);
  }
  if (soa) {
    Put16(&r, 0xc00c);
    Put16(&r, 6);
    Put16(&r, 1);
    Put32(&r, soa_ttl);
    std::string rd = EncodeName("ns.test") + EncodeName("hm.test");
    for (uint32_t v : {1u, 600u, 300u, 86400u, soa_min}) Put32(&rd, v);
    Put16(&r, static_cast<uint16_t>(rd.size()));
    r += rd;
  }
  return r;
}
std::string Query(const std::string& name) {
  std::string q;
  Put16(&q, 0x1234);
  Put16(&q, 0x0100);
  Put16(&q, 1);
  Put16(&q, 0);
  Put16(&q, 0);
  Put16(&q, 0);
  q += EncodeName(name);
  Put16(&q, 1);
  Put16(&q, 1);
  return q;
}
DnsAnswer Parse(int status, const std::string& r) {
  return ParseDnsAnswer(status, reinterpret_cast<const unsigned char*>(r.data()),
                        static_cast<int>(r.size()));
}

TEST(DnsAnswerParse, ARecordsWithTheSmallestTtl) {
  std::string r = Response(Query("2.0.0.127.bl.test"), 0, {0x7f000002, 0x7f00000b}, 300);
  DnsAnswer a = Parse(ARES_SUCCESS, r);
  EXPECT_EQ(a.status, DnsAnswer::Status::kFound);
  EXPECT_EQ(a.ipv4, (std::vector<uint32_t>{0x7f000002, 0x7f00000b}));
  EXPECT_TRUE(a.ttl_known);
  EXPECT_EQ(a.ttl, 300u);
}

TEST(DnsAnswerParse, NxdomainNegativeTtlFromSoa) {
  std::string r = Response(Query("9.0.0.127.bl.test"), 3, {}, 0, true, 900, 120);
  DnsAnswer a = Parse(ARES_ENOTFOUND, r);
  EXPECT_EQ(a.status, DnsAnswer::Status::kNotFound);
  EXPECT_TRUE(a.ttl_known);
  EXPECT_EQ(a.ttl, 120u);  // min(SOA TTL, SOA minimum)
  DnsAnswer no_soa = Parse(ARES_ENOTFOUND, Response(Query("x.test"), 3, {}, 0));
  EXPECT_EQ(no_soa.status, DnsAnswer::Status::kNotFound);
  EXPECT_FALSE(no_soa.ttl_known);
}

TEST(DnsAnswerParse, HugeAndZeroTtls) {
  // A TTL with the top bit set counts as zero (RFC 2181); zero stays zero.
  DnsAnswer a = Parse(ARES_SUCCESS, Response(Query("a.test"), 0, {0x7f000002}, 0x80000001u));
  EXPECT_EQ(a.status, DnsAnswer::Status::kFound);
  EXPECT_EQ(a.ttl, 0u);
  DnsAnswer z = Parse(ARES_SUCCESS, Response(Query("a.test"), 0, {0x7f000002}, 0));
  EXPECT_EQ(z.ttl, 0u);
}

TEST(DnsAnswerParse, BadResponsesAreErrorsNeverCrashes) {
  std::string good = Response(Query("a.test"), 0, {0x7f000002}, 300);
  for (size_t n = 0; n < good.size(); ++n) {
    DnsAnswer a = Parse(ARES_SUCCESS, good.substr(0, n));  // every truncation
    EXPECT_NE(a.status, DnsAnswer::Status::kFound) << n;
  }
  EXPECT_EQ(ParseDnsAnswer(ARES_SUCCESS, nullptr, 0).status, DnsAnswer::Status::kError);
  EXPECT_EQ(Parse(ARES_ETIMEOUT, "").status, DnsAnswer::Status::kTimeout);
  DnsAnswer refused = Parse(ARES_EREFUSED, "");
  EXPECT_EQ(refused.status, DnsAnswer::Status::kError);
  EXPECT_FALSE(refused.error.empty());
  // A record of the wrong type (TXT) where an A was asked: no listing.
  std::string txt = Response(Query("a.test"), 0, {0x7f000002}, 300);
  txt[txt.size() - 13] = 16;  // the answer's TYPE low byte
  EXPECT_NE(Parse(ARES_SUCCESS, txt).status, DnsAnswer::Status::kFound);
}

// A DNS server on a loopback UDP port in its own thread. Names starting
// with "drop." are never answered; "listed." names get 127.0.0.2 (TTL 300);
// everything else NXDOMAIN with an SOA (negative TTL 60).
class TinyDnsServer {
 public:
  TinyDnsServer() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TinyDnsServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  int queries(const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    int n = 0;
    for (const auto& q : seen_) n += q == name;
    return n;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[512];
      sockaddr_in from{};
      socklen_t flen = sizeof from;
      ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 17) continue;
      std::string q(buf, static_cast<size_t>(n));
      // The question name, decoded.
      std::string name;
      for (size_t i = 12; i < q.size() && q[i];) {
        size_t l = static_cast<unsigned char>(q[i]);
        if (!name.empty()) name += '.';
        name += q.substr(i + 1, l);
        i += l + 1;
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        seen_.push_back(name);
      }
      if (name.rfind("drop.", 0) == 0) continue;
      // The question only: c-ares may add an OPT record we do not echo.
      size_t qend = 12 + EncodeName(name).size() + 4;
      std::string question = q.substr(0, std::min(qend, q.size()));
      std::string r = name.rfind("listed.", 0) == 0 ? Response(question, 0, {0x7f000002}, 300)
                                                    : Response(question, 3, {}, 0, true, 3600, 60);
      sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
  }
  int fd_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> seen_;
};

class AresResolverTest : public ::testing::Test {
 protected:
  AresResolverTest() {
    DnsResolverOptions o;
    o.nameservers.push_back({*IpAddress::Parse("127.0.0.1"), server_.port()});
    o.try_timeout = milliseconds(1000);
    o.tries = 1;
    table_ = MakeDnsLookupTable(o);
  }
  // Runs `io` until `done` or 5 s.
  static void RunUntil(boost::asio::io_context& io, const std::function<bool()>& done) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < end) {
      io.run_for(milliseconds(10));
      io.restart();
    }
  }
  TinyDnsServer server_;
  std::shared_ptr<DnsLookupTable> table_;
};

TEST_F(AresResolverTest, AnswerNxdomainAndCache) {
  boost::asio::io_context io;
  auto r = MakeAresResolver(io, table_);
  std::optional<DnsAnswer> a, b, c;
  auto la = r->LookupA("listed.bl.test", milliseconds(3000), [&](const DnsAnswer& x) { a = x; });
  auto lb = r->LookupA("clean.bl.test", milliseconds(3000), [&](const DnsAnswer& x) { b = x; });
  EXPECT_FALSE(a || b);  // never inside the call
  RunUntil(io, [&] { return a && b; });
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, DnsAnswer::Status::kFound);
  EXPECT_EQ(a->ipv4, std::vector<uint32_t>{0x7f000002});
  EXPECT_EQ(a->ttl, 300u);
  EXPECT_EQ(b->status, DnsAnswer::Status::kNotFound);
  EXPECT_EQ(b->ttl, 60u);
  // Asked again: from the cache, not the server.
  auto lc = r->LookupA("listed.bl.test", milliseconds(3000), [&](const DnsAnswer& x) { c = x; });
  RunUntil(io, [&] { return c.has_value(); });
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, DnsAnswer::Status::kFound);
  EXPECT_GE(c->ttl, 299u);
  EXPECT_EQ(server_.queries("listed.bl.test"), 1);
  EXPECT_EQ(GetDnsLookupStats(*table_).cache_hits, 1u);
}

TEST_F(AresResolverTest, NeverAnsweringNameTimesOutAndDoesNotDelayOthers) {
  boost::asio::io_context io;
  auto r = MakeAresResolver(io, table_);
  std::optional<DnsAnswer> slow, fast;
  auto t0 = std::chrono::steady_clock::now();
  auto ls = r->LookupA("drop.bl.test", milliseconds(400), [&](const DnsAnswer& x) { slow = x; });
  auto lf = r->LookupA("listed.x.test", milliseconds(3000), [&](const DnsAnswer& x) { fast = x; });
  RunUntil(io, [&] { return fast.has_value(); });
  ASSERT_TRUE(fast);
  EXPECT_FALSE(slow);
  RunUntil(io, [&] { return slow.has_value(); });
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->status, DnsAnswer::Status::kTimeout);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, milliseconds(380));
  EXPECT_LT(took, milliseconds(2000));
}

TEST_F(AresResolverTest, DroppedHandleIsNeverCalledBack) {
  boost::asio::io_context io;
  auto r = MakeAresResolver(io, table_);
  bool called = false;
  auto l = r->LookupA("listed.cancel.test", milliseconds(3000),
                      [&](const DnsAnswer&) { called = true; });
  l.reset();
  std::optional<DnsAnswer> other;
  auto l2 =
      r->LookupA("listed.other.test", milliseconds(3000), [&](const DnsAnswer& x) { other = x; });
  RunUntil(io, [&] { return other.has_value(); });
  io.run_for(milliseconds(100));
  EXPECT_FALSE(called);
}

TEST_F(AresResolverTest, ConcurrentAskersOnTwoWorkersShareOneQuery) {
  boost::asio::io_context io1, io2;
  auto r1 = MakeAresResolver(io1, table_);
  auto r2 = MakeAresResolver(io2, table_);
  std::atomic<int> answers{0};
  std::unique_ptr<DnsLookup> l1, l2, l3;
  // Both lookups are asked before either loop runs: the second joins.
  l1 = r1->LookupA("listed.shared.test", milliseconds(3000), [&](const DnsAnswer& a) {
    EXPECT_EQ(a.status, DnsAnswer::Status::kFound);
    ++answers;
  });
  l2 = r2->LookupA("listed.shared.test", milliseconds(3000), [&](const DnsAnswer& a) {
    EXPECT_EQ(a.status, DnsAnswer::Status::kFound);
    ++answers;
  });
  std::thread t2([&] { RunUntil(io2, [&] { return answers.load() >= 2; }); });
  RunUntil(io1, [&] { return answers.load() >= 2; });
  t2.join();
  EXPECT_EQ(answers.load(), 2);
  EXPECT_EQ(server_.queries("listed.shared.test"), 1);
  auto st = GetDnsLookupStats(*table_);
  EXPECT_EQ(st.queries_sent, 1u);
  EXPECT_EQ(st.joined, 1u);
}

TEST_F(AresResolverTest, ResolverDestroyedWithLookupsInFlight) {
  // Shutdown order of a worker: the resolver goes first, handles later.
  boost::asio::io_context io;
  auto r = MakeAresResolver(io, table_);
  bool called = false;
  auto l = r->LookupA("drop.shutdown.test", milliseconds(3000),
                      [&](const DnsAnswer&) { called = true; });
  io.run_for(milliseconds(50));
  r.reset();
  l.reset();
  io.run_for(milliseconds(50));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace mxs

// Tests of the PROXY v1/v2 parser (filters/upstream_proxy/proxy_parser.h):
// v1 TCP4/TCP6, v2 TCP4/TCP6 with TLVs, v2 LOCAL, the refusals (v1 UNKNOWN,
// v2 UNSPEC with PROXY, malformed fields, oversized and wrong-length
// headers, versions switched off), and that every chunking of a header,
// byte by byte included, gives the same result as one read. Headers are
// built with the core's own encoder (core/proxy_header.h) where it can.
#include "filters/upstream_proxy/proxy_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "core/proxy_header.h"

namespace mxs::upstream_proxy {
namespace {

using Status = ProxyParseResult::Status;

Endpoint Ep(const char* ip, uint16_t port) { return {*IpAddress::Parse(ip), port}; }

std::string Sig() { return std::string("\r\n\r\n\0\r\nQUIT\n", 12); }

// A v2 header: version/command byte, family byte, body.
std::string V2(uint8_t ver_cmd, uint8_t family, const std::string& body) {
  std::string out = Sig();
  out.push_back(static_cast<char>(ver_cmd));
  out.push_back(static_cast<char>(family));
  out.push_back(static_cast<char>(body.size() >> 8));
  out.push_back(static_cast<char>(body.size() & 0xff));
  return out + body;
}

ProxyParseResult Parse(const std::string& s, ProxyVersions v = {}) {
  return ParseProxyHeader(s, v);
}

TEST(ProxyParser, V1Tcp4) {
  std::string h = "PROXY TCP4 192.0.2.7 127.0.0.1 4321 25\r\n";
  auto r = Parse(h + "EHLO x\r\n");
  ASSERT_EQ(r.status, Status::kDone) << r.reason;
  EXPECT_EQ(r.version, 1);
  EXPECT_EQ(r.length, h.size());  // the client's EHLO is not the header's
  EXPECT_FALSE(r.local);
  EXPECT_EQ(r.client.ToString(), "[192.0.2.7]:4321");
  EXPECT_EQ(r.server.ToString(), "[127.0.0.1]:25");
}

TEST(ProxyParser, V1Tcp6AndMapped) {
  auto r = Parse("PROXY TCP6 2001:DB8:0:0::7 ::1 65535 0\r\n");
  ASSERT_EQ(r.status, Status::kDone) << r.reason;
  EXPECT_EQ(r.client.address.ToString(), "2001:db8::7");
  EXPECT_EQ(r.client.port, 65535);
  EXPECT_EQ(r.server.address.ToString(), "::1");
  EXPECT_EQ(r.server.port, 0);
  // An IPv4-mapped client is the IPv4 client, as from a socket.
  r = Parse("PROXY TCP6 ::ffff:192.0.2.7 ::ffff:127.0.0.1 1 2\r\n");
  ASSERT_EQ(r.status, Status::kDone) << r.reason;
  EXPECT_TRUE(r.client.address.is_v4());
  EXPECT_EQ(r.client.address.ToString(), "192.0.2.7");
}

TEST(ProxyParser, V1BareNewlineAsPostfix) {
  auto r = Parse("PROXY TCP4 192.0.2.7 127.0.0.1 4321 25\n");
  ASSERT_EQ(r.status, Status::kDone) << r.reason;
  EXPECT_EQ(r.length, 39u);
}

TEST(ProxyParser, V1Refusals) {
  struct Case {
    const char* input;
    const char* reason;
  } cases[] = {
      {"PROXY UNKNOWN\r\n", "UNKNOWN protocol type is not accepted"},
      {"PROXY UNKNOWN 1.2.3.4 4.3.2.1 1 2\r\n", "UNKNOWN protocol type is not accepted"},
      {"PROXY TCP5 1.2.3.4 4.3.2.1 1 2\r\n", "bad or missing protocol type"},
      {"PROXY \r\n", "bad or missing protocol type"},
      {"PROXY TCP6 1.2.3.4 4.3.2.1 1 2\r\n", "bad or missing client address"},
      {"PROXY TCP4 ::ffff:1.2.3.4 4.3.2.1 1 2\r\n", "bad or missing client address"},
      {"PROXY TCP4 1.2.3.4 ::1 1 2\r\n", "bad or missing server address"},
      {"PROXY TCP4 1.2.3.4\r\n", "bad or missing server address"},
      {"PROXY TCP4 1.2.3.4 4.3.2.1 0123 2\r\n", "bad or missing client port"},
      {"PROXY TCP4 1.2.3.4 4.3.2.1 65536 2\r\n", "bad or missing client port"},
      {"PROXY TCP4 1.2.3.4 4.3.2.1 -1 2\r\n", "bad or missing client port"},
      {"PROXY TCP4 1.2.3.4 4.3.2.1 1\r\n", "bad or missing server port"},
      {"PROXY TCP4 1.2.3.4 4.3.2.1 1 2 3\r\n", "unexpected data after server port"},
      {"PROXY TCP4 1.2.3.4\t4.3.2.1 1 2\r\n", "bad character in protocol header"},
      {"PROXY TCP4 1.2.3.4 4.3.2.1 1 2\r\r\n", "bad character in protocol header"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.input);
    EXPECT_EQ(r.status, Status::kError) << c.input;
    EXPECT_EQ(r.reason, c.reason) << c.input;
  }
}

TEST(ProxyParser, V1TooLong) {
  // 107 bytes without a line end: refused, not read on forever.
  std::string h = "PROXY TCP6 " + std::string(96, 'a');
  ASSERT_EQ(h.size(), kMaxV1Length);
  auto r = Parse(h);
  EXPECT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.reason, "missing protocol header terminator");
  EXPECT_EQ(Parse(h.substr(0, 106)).status, Status::kNeedMore);
  // The longest TCP6 header fits, and so does any line of 107 bytes (runs of
  // spaces are allowed, as in Postfix); 108 does not.
  std::string longest =
      "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  EXPECT_EQ(Parse(longest).status, Status::kDone);
  std::string line = "PROXY TCP4 1.2.3.4 4.3.2.1 1 2";
  std::string padded = line + std::string(kMaxV1Length - 2 - line.size(), ' ') + "\r\n";
  ASSERT_EQ(padded.size(), kMaxV1Length);
  EXPECT_EQ(Parse(padded).status, Status::kDone);
  EXPECT_EQ(Parse(padded).length, kMaxV1Length);
  EXPECT_EQ(Parse(line + std::string(kMaxV1Length - 1 - line.size(), ' ') + "\r\n").status,
            Status::kError);
}

TEST(ProxyParser, V2Tcp4FromOurEncoder) {
  std::string h = ProxyV2Header(Ep("192.0.2.7", 4321), Ep("127.0.0.1", 25));
  auto r = Parse(h + "EHLO x\r\n");
  ASSERT_EQ(r.status, Status::kDone) << r.reason;
  EXPECT_EQ(r.version, 2);
  EXPECT_EQ(r.length, h.size());
  EXPECT_EQ(r.client.ToString(), "[192.0.2.7]:4321");
  EXPECT_EQ(r.server.ToString(), "[127.0.0.1]:25");
}

TEST(ProxyParser, V2Tcp6WithTlvsSkipped) {
  std::string h = ProxyV2Header(Ep("2001:db8::7", 4321), Ep("::1", 25));
  // Append two TLVs (ALPN, a custom one) and fix the length field.
  std::string tlvs = std::string("\x01\x00\x02h2", 5) + std::string("\xe0\x00\x03xyz", 6);
  std::string body = h.substr(16) + tlvs;
  std::string with_tlvs = V2(0x21, 0x21, body);
  auto r = Parse(with_tlvs + "QUIT\r\n");
  ASSERT_EQ(r.status, Status::kDone) << r.reason;
  EXPECT_EQ(r.length, with_tlvs.size());
  EXPECT_EQ(r.client.ToString(), "[2001:db8::7]:4321");
  EXPECT_EQ(r.server.ToString(), "[::1]:25");
  // A mixed pair is sent as IPv6 with the IPv4 address mapped: read back as IPv4.
  r = Parse(ProxyV2Header(Ep("192.0.2.7", 1), Ep("::1", 25)));
  ASSERT_EQ(r.status, Status::kDone) << r.reason;
  EXPECT_EQ(r.client.address.ToString(), "192.0.2.7");
}

TEST(ProxyParser, V2LocalKeepsSocketEndpoints) {
  auto r = Parse(V2(0x20, 0x00, ""));
  ASSERT_EQ(r.status, Status::kDone) << r.reason;
  EXPECT_TRUE(r.local);
  EXPECT_EQ(r.length, 16u);
  // LOCAL with an address block and TLVs: all skipped.
  std::string h = ProxyV2Header(Ep("192.0.2.7", 1), Ep("127.0.0.1", 25));
  r = Parse(V2(0x20, 0x11, h.substr(16) + std::string("\x04\x00\x01z", 4)));
  ASSERT_EQ(r.status, Status::kDone) << r.reason;
  EXPECT_TRUE(r.local);
  EXPECT_EQ(r.length, 16u + 12 + 4);
}

TEST(ProxyParser, V2Refusals) {
  std::string v4 = ProxyV2Header(Ep("192.0.2.7", 1), Ep("127.0.0.1", 25)).substr(16);
  struct Case {
    std::string input;
    const char* reason;
  } cases[] = {
      {V2(0x21, 0x00, ""), "UNSPEC address family is not accepted with the PROXY command"},
      {V2(0x21, 0x12, v4), "unsupported network protocol"},                     // UDP over IPv4
      {V2(0x21, 0x31, std::string(216, 'a')), "unsupported network protocol"},  // AF_UNIX
      {V2(0x21, 0x11, v4.substr(0, 11)), "short address field"},
      {V2(0x21, 0x21, v4), "short address field"},  // 12 bytes for IPv6's 36
      {V2(0x11, 0x11, v4), "unrecognized protocol version"},
      {V2(0x22, 0x11, v4), "bad command in proxy header"},
      {V2(0x21, 0x11, std::string(kMaxV2Length, 'x')), "protocol header too long"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.input);
    EXPECT_EQ(r.status, Status::kError) << c.reason;
    EXPECT_EQ(r.reason, c.reason);
  }
  // An oversized length is refused from the fixed part alone, without
  // waiting for (or holding) the body.
  std::string huge = Sig() + std::string("\x21\x11\xff\xff", 4);
  EXPECT_EQ(Parse(huge).status, Status::kError);
  // The largest accepted header.
  std::string big = V2(0x21, 0x11, v4 + std::string(kMaxV2Length - 16 - 12, 'x'));
  EXPECT_EQ(Parse(big).status, Status::kDone);
  EXPECT_EQ(Parse(big.substr(0, big.size() - 1)).status, Status::kNeedMore);
}

TEST(ProxyParser, NotAProxyHeader) {
  for (std::string s : {std::string("EHLO x\r\n"), std::string("\r\nQUIT"), std::string("G"),
                        std::string("PROXZ"), std::string("\0", 1)}) {
    auto r = Parse(s);
    EXPECT_EQ(r.status, Status::kError) << s;
    EXPECT_EQ(r.reason, "unrecognized protocol header");
  }
  EXPECT_EQ(Parse("").status, Status::kNeedMore);
  EXPECT_EQ(Parse("PROX").status, Status::kNeedMore);
  EXPECT_EQ(Parse(Sig().substr(0, 5)).status, Status::kNeedMore);
}

TEST(ProxyParser, VersionsSwitchedOff) {
  std::string v1 = "PROXY TCP4 192.0.2.7 127.0.0.1 1 2\r\n";
  std::string v2 = ProxyV2Header(Ep("192.0.2.7", 1), Ep("127.0.0.1", 25));
  EXPECT_EQ(Parse(v1, {false, true}).reason, "protocol version 1 is not accepted");
  EXPECT_EQ(Parse(v2, {true, false}).reason, "protocol version 2 is not accepted");
  EXPECT_EQ(Parse(v1, {true, false}).status, Status::kDone);
  EXPECT_EQ(Parse(v2, {false, true}).status, Status::kDone);
}

// Every prefix of a header needs more; the whole gives the same result as
// one read; extra bytes after it do not change it.
void ExpectChunkingInvariant(const std::string& header) {
  auto whole = Parse(header);
  ASSERT_EQ(whole.status, Status::kDone) << whole.reason;
  for (size_t n = 0; n < header.size(); ++n) {
    EXPECT_EQ(Parse(header.substr(0, n)).status, Status::kNeedMore) << "prefix " << n;
  }
  auto more = Parse(header + "EHLO");
  EXPECT_EQ(more.length, whole.length);
  EXPECT_EQ(more.client.ToString(), whole.client.ToString());
}

TEST(ProxyParser, PartialReads) {
  ExpectChunkingInvariant("PROXY TCP4 192.0.2.7 127.0.0.1 4321 25\r\n");
  ExpectChunkingInvariant("PROXY TCP6 2001:db8::7 ::1 4321 25\r\n");
  ExpectChunkingInvariant(ProxyV2Header(Ep("192.0.2.7", 4321), Ep("127.0.0.1", 25)));
  ExpectChunkingInvariant(ProxyV2Header(Ep("2001:db8::7", 4321), Ep("::1", 25)));
  ExpectChunkingInvariant(V2(0x20, 0x00, ""));
  // A refusal is final: more bytes do not undo it.
  EXPECT_EQ(Parse("PROXY UNKNOWN\r\nPROXY TCP4 1.2.3.4 4.3.2.1 1 2\r\n").status, Status::kError);
}

}  // namespace
}  // namespace mxs::upstream_proxy

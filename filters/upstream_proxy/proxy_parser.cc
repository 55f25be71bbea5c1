// proxy_parser: the v1 and v2 grammars. Reasons reuse Postfix's wording
// (haproxy_srvr.c) where Postfix has one, so operators can search for them.
// Addresses are normalised the way the socket path does (IpAddress::
// FromSockaddr): an IPv4-mapped IPv6 client is the IPv4 client, so the access
// list, the verdict store and the logs see one address per client.
#include "filters/upstream_proxy/proxy_parser.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <vector>

namespace mxs::upstream_proxy {
namespace {

using Status = ProxyParseResult::Status;

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr unsigned char kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                            0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

ProxyParseResult Error(int version, std::string reason) {
  ProxyParseResult r;
  r.status = Status::kError;
  r.version = version;
  r.reason = std::move(reason);
  return r;
}

ProxyParseResult NeedMore(int version) {
  ProxyParseResult r;
  r.version = version;
  return r;
}

// True when `input` and `prefix` agree on their common length.
bool AgreesWith(std::string_view input, std::string_view prefix) {
  size_t n = std::min(input.size(), prefix.size());
  return input.substr(0, n) == prefix.substr(0, n);
}

// An address from 16 network-order bytes, IPv4-mapped ones as IPv4.
IpAddress FromV6Bytes(const unsigned char* bytes) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  std::memcpy(&sa.sin6_addr, bytes, 16);
  return *IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&sa));
}

// v1 address of the protocol family: TCP4 wants dotted quad, TCP6 wants an
// IPv6 text (an IPv4-mapped one becomes IPv4, as in Postfix).
std::optional<IpAddress> ParseV1Address(std::string_view text, bool v6) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char bytes[16];
  if (!v6) {
    if (inet_pton(AF_INET, buf, bytes) != 1) return std::nullopt;
    return IpAddress::Parse(text);
  }
  if (inet_pton(AF_INET6, buf, bytes) != 1) return std::nullopt;
  return FromV6Bytes(bytes);
}

// Postfix's port rule: 1-5 digits, no leading zero (except "0"), <= 65535.
std::optional<uint16_t> ParseV1Port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  if (text[0] == '0' && text.size() > 1) return std::nullopt;
  uint32_t port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

ProxyParseResult ParseV1(std::string_view input) {
  // The line must end within the protocol's 107 bytes. Until it does, every
  // byte must be one a header line can hold, so junk is refused at once
  // instead of when the time limit runs out.
  size_t limit = std::min(input.size(), kMaxV1Length);
  size_t nl = input.substr(0, limit).find('\n');
  size_t scan = nl == std::string_view::npos ? limit : nl;
  for (size_t i = 0; i < scan; ++i) {
    unsigned char c = static_cast<unsigned char>(input[i]);
    bool last_cr = c == '\r' && i + 1 == scan;
    if ((c < 0x20 || c > 0x7e) && !last_cr) return Error(1, "bad character in protocol header");
  }
  if (nl == std::string_view::npos) {
    if (input.size() >= kMaxV1Length) return Error(1, "missing protocol header terminator");
    return NeedMore(1);
  }
  std::string_view line = input.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  // Fields are separated by spaces (Postfix accepts runs of them too).
  std::vector<std::string_view> fields;
  for (size_t pos = 0; pos < line.size();) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) sp = line.size();
    if (sp > pos) fields.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  auto field = [&](size_t i) { return i < fields.size() ? fields[i] : std::string_view(); };
  // fields[0] is "PROXY": the caller matched the prefix.
  std::string_view proto = field(1);
  if (proto == "UNKNOWN") {
    // The balancer does not know the client: using its own address instead
    // would let every client pass as the balancer (Postfix refuses it too).
    return Error(1, "UNKNOWN protocol type is not accepted");
  }
  if (proto != "TCP4" && proto != "TCP6") return Error(1, "bad or missing protocol type");
  bool v6 = proto == "TCP6";
  auto client = ParseV1Address(field(2), v6);
  if (!client) return Error(1, "bad or missing client address");
  auto server = ParseV1Address(field(3), v6);
  if (!server) return Error(1, "bad or missing server address");
  auto client_port = ParseV1Port(field(4));
  if (!client_port) return Error(1, "bad or missing client port");
  auto server_port = ParseV1Port(field(5));
  if (!server_port) return Error(1, "bad or missing server port");
  if (fields.size() > 6) return Error(1, "unexpected data after server port");

  ProxyParseResult r;
  r.status = Status::kDone;
  r.version = 1;
  r.length = nl + 1;
  r.client = {*client, *client_port};
  r.server = {*server, *server_port};
  return r;
}

uint16_t Be16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

ProxyParseResult ParseV2(std::string_view input) {
  if (input.size() < kV2FixedLength) return NeedMore(2);
  const auto* p = reinterpret_cast<const unsigned char*>(input.data());
  unsigned version = p[12] >> 4;
  unsigned command = p[12] & 0x0f;
  unsigned family = p[13];
  size_t body = Be16(p + 14);
  if (version != 2) return Error(2, "unrecognized protocol version");
  if (command > 1) return Error(2, "bad command in proxy header");
  if (kV2FixedLength + body > kMaxV2Length) return Error(2, "protocol header too long");
  if (input.size() < kV2FixedLength + body) return NeedMore(2);

  ProxyParseResult r;
  r.version = 2;
  r.length = kV2FixedLength + body;
  if (command == 0) {
    // LOCAL: the balancer talks for itself (health checks); the family and
    // any address block and TLVs are ignored, as the protocol says.
    r.status = Status::kDone;
    r.local = true;
    return r;
  }
  const unsigned char* a = p + kV2FixedLength;
  switch (family) {
    case 0x11: {  // TCP over IPv4: 4 + 4 address bytes, 2 + 2 port bytes
      if (body < 12) return Error(2, "short address field");
      IpAddress client;
      IpAddress server;
      uint32_t c;
      uint32_t s;
      std::memcpy(&c, a, 4);
      std::memcpy(&s, a + 4, 4);
      client = IpAddress::V4(ntohl(c));
      server = IpAddress::V4(ntohl(s));
      r.client = {client, Be16(a + 8)};
      r.server = {server, Be16(a + 10)};
      break;
    }
    case 0x21:  // TCP over IPv6: 16 + 16 address bytes, 2 + 2 port bytes
      if (body < 36) return Error(2, "short address field");
      r.client = {FromV6Bytes(a), Be16(a + 32)};
      r.server = {FromV6Bytes(a + 16), Be16(a + 34)};
      break;
    case 0x00:
      // PROXY with an unspecified family is v1's UNKNOWN: refused alike.
      return Error(2, "UNSPEC address family is not accepted with the PROXY command");
    default:
      return Error(2, "unsupported network protocol");
  }
  // TLVs (after the address block, up to `length`) are skipped: nothing in
  // them changes what the gateway does.
  r.status = Status::kDone;
  return r;
}

}  // namespace

ProxyParseResult ParseProxyHeader(std::string_view input, ProxyVersions accept) {
  if (input.empty()) return NeedMore(0);
  std::string_view sig(reinterpret_cast<const char*>(kV2Signature), sizeof kV2Signature);
  if (AgreesWith(input, kV1Prefix)) {
    if (!accept.v1) return Error(1, "protocol version 1 is not accepted");
    if (input.size() < kV1Prefix.size()) return NeedMore(1);
    return ParseV1(input);
  }
  if (AgreesWith(input, sig)) {
    if (!accept.v2) return Error(2, "protocol version 2 is not accepted");
    if (input.size() < sig.size()) return NeedMore(2);
    return ParseV2(input);
  }
  return Error(0, "unrecognized protocol header");
}

}  // namespace mxs::upstream_proxy

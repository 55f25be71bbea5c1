// proxy_parser: reads the PROXY protocol header (haproxy v1 text, v2 binary)
// that a load balancer puts in front of the client's bytes, so the gateway
// screens, logs and hands off the real client instead of the balancer.
//
// The parser is stateless over "everything received so far": the caller
// appends what it reads and asks again, so any chunking of the input (one
// byte at a time included) gives the same answer as one read. It never reads
// past the header: ProxyHeader::length says how many leading bytes were the
// header; whatever follows belongs to the SMTP client. Input that cannot be
// (the start of) a valid header is refused as soon as that is certain, with a
// reason for the operator; a prefix of a valid header asks for more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/ip_address.h"

namespace mxs::upstream_proxy {

// The longest v1 line, "\r\n" included (the haproxy protocol's limit).
constexpr size_t kMaxV1Length = 107;
// The v2 fixed part: 12-byte signature, version/command, family, length.
constexpr size_t kV2FixedLength = 16;
// The longest v2 header accepted (fixed part, addresses and TLVs). The
// protocol allows 64 KiB of TLVs; balancers send a few hundred bytes at most,
// and a bound keeps what one unauthenticated connection can make us hold small.
constexpr size_t kMaxV2Length = 4096;

struct ProxyParseResult {
  enum class Status : uint8_t {
    kNeedMore,  // a valid prefix so far: read more
    kDone,      // a complete header of `length` bytes
    kError,     // not a header we accept: `reason` says why
  };
  Status status = Status::kNeedMore;
  int version = 0;     // 1 or 2 once the signature is recognised
  size_t length = 0;   // kDone: the header's size; bytes after it are the client's
  bool local = false;  // kDone: v2 LOCAL (health check): keep the socket's endpoints
  Endpoint client;     // kDone && !local: the original client
  Endpoint server;     // kDone && !local: the address the client connected to
  std::string reason;  // kError: e.g. "bad or missing client port"
};

// Which versions a listener accepts.
struct ProxyVersions {
  bool v1 = true;
  bool v2 = true;
};

// Parses the header at the start of `input` (all bytes received so far).
ProxyParseResult ParseProxyHeader(std::string_view input, ProxyVersions accept = {});

}  // namespace mxs::upstream_proxy

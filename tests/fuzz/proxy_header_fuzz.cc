// Fuzz target: the PROXY v1/v2 header parser of the upstream_proxy filter
// (filters/upstream_proxy/proxy_parser.h), fed in random chunkings. The first
// input byte seeds the chunk sizes; the rest is the client's byte stream. The
// parser sees the growing prefix after every chunk, as the session calls it.
// Checked: a verdict never changes once given, it never depends on the
// chunking (whole-input parse agrees), and a header length never exceeds the
// input or the protocol's limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "filters/upstream_proxy/proxy_parser.h"

using mxs::upstream_proxy::kMaxV1Length;
using mxs::upstream_proxy::kMaxV2Length;
using mxs::upstream_proxy::ParseProxyHeader;
using mxs::upstream_proxy::ProxyParseResult;
using mxs::upstream_proxy::ProxyVersions;
using Status = ProxyParseResult::Status;

static void Check(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint32_t seed = data[0] | 1u;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  ProxyVersions accept{(data[0] & 0x80) == 0 || (data[0] & 0x40) != 0, (data[0] & 0x40) == 0};

  // Chunk sizes from a small xorshift PRNG: 1..16 bytes, sometimes one byte.
  ProxyParseResult last;
  size_t have = 0;
  while (have < input.size()) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    size_t chunk = (seed & 3) == 0 ? 1 : 1 + (seed >> 8) % 16;
    have = std::min(input.size(), have + chunk);
    ProxyParseResult r = ParseProxyHeader(input.substr(0, have), accept);
    if (last.status == Status::kDone) {
      // More bytes after a complete header do not change it.
      Check(r.status == Status::kDone && r.length == last.length && r.local == last.local);
    }
    // Once refused, a longer input is refused too.
    if (last.status == Status::kError) Check(r.status == Status::kError);
    if (r.status == Status::kDone) {
      Check(r.length > 0 && r.length <= have);
      Check(r.length <= (r.version == 1 ? kMaxV1Length : kMaxV2Length));
    }
    if (r.status == Status::kNeedMore) Check(have < kMaxV2Length);
    last = r;
  }
  ProxyParseResult whole = ParseProxyHeader(input, accept);
  Check(whole.status == last.status || input.empty());
  if (whole.status == Status::kDone) {
    Check(whole.length == last.length);
    Check(whole.client.address == last.client.address && whole.client.port == last.client.port);
  }
  return 0;
}

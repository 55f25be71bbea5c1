// sha256: SHA-256 (FIPS 180-4) of a byte string, as lowercase hex. The plugin
// loader names its private copies of a shared object by the hash of its
// bytes, and a config may pin a plugin build by it. Not for secrets (no
// constant-time anything); core has no crypto library to lean on.
#pragma once

#include <string>
#include <string_view>

namespace mxs {

// 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

}  // namespace mxs

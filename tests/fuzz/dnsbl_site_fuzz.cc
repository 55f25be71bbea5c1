// Fuzz target: the postscreen_dnsbl_sites parser ("domain=filter*weight") and
// the answer filters it builds (filters/dnsbl/site.cc).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "filters/dnsbl/site.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    mxs::dnsbl::Site site = mxs::dnsbl::ParseSite(text);
    for (uint32_t addr : {0x7f000002u, 0x7f00000bu, 0x7fffffeu, 0x7ffffffeu, 0u, 0xffffffffu}) {
      site.Matches(addr);
      site.FilterMatches(addr);
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

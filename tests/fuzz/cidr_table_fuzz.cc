// Fuzz target: the CIDR table parser and matcher of the access list.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "filters/access_cidr/cidr_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  try {
    auto table = mxs::access_cidr::CidrTable::Parse(lines, "fuzz");
    for (const char* ip : {"127.0.0.1", "192.0.2.1", "::1", "2001:db8::1"}) {
      table.Match(*mxs::IpAddress::Parse(ip));
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

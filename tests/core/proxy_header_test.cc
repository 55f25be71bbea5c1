// Tests of the PROXY headers sent to the backend at hand-off.
#include "core/proxy_header.h"

#include <gtest/gtest.h>

namespace mxs {
namespace {

Endpoint Ep(const char* ip, uint16_t port) { return {*IpAddress::Parse(ip), port}; }

TEST(ProxyV1, Tcp4AndTcp6) {
  EXPECT_EQ(ProxyV1Header(Ep("192.0.2.1", 40000), Ep("127.0.0.1", 25)),
            "PROXY TCP4 192.0.2.1 127.0.0.1 40000 25\r\n");
  EXPECT_EQ(ProxyV1Header(Ep("2001:db8::1", 40000), Ep("::1", 25)),
            "PROXY TCP6 2001:db8::1 ::1 40000 25\r\n");
  EXPECT_EQ(ProxyV1Header(Ep("192.0.2.1", 1), Ep("::1", 25)),
            "PROXY TCP6 ::ffff:192.0.2.1 ::1 1 25\r\n");
}

TEST(ProxyV2, Tcp4Layout) {
  std::string h = ProxyV2Header(Ep("192.0.2.1", 40000), Ep("127.0.0.1", 25));
  ASSERT_EQ(h.size(), 16u + 12u);
  EXPECT_EQ(h.substr(0, 12), std::string("\r\n\r\n\0\r\nQUIT\n", 12));
  EXPECT_EQ(static_cast<uint8_t>(h[12]), 0x21);
  EXPECT_EQ(static_cast<uint8_t>(h[13]), 0x11);
  EXPECT_EQ(h.substr(14, 2), std::string("\0\x0c", 2));
  EXPECT_EQ(h.substr(16, 8), std::string("\xc0\x00\x02\x01\x7f\x00\x00\x01", 8));
  EXPECT_EQ(h.substr(24, 4), std::string("\x9c\x40\x00\x19", 4));
}

TEST(ProxyV2, Tcp6Layout) {
  std::string h = ProxyV2Header(Ep("2001:db8::1", 1), Ep("::1", 2));
  ASSERT_EQ(h.size(), 16u + 36u);
  EXPECT_EQ(static_cast<uint8_t>(h[13]), 0x21);
  EXPECT_EQ(h.substr(14, 2), std::string("\0\x24", 2));
  EXPECT_EQ(h.substr(48, 4), std::string("\0\x01\0\x02", 4));
}

}  // namespace
}  // namespace mxs

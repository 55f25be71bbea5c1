// Tests of address parsing, CIDR matching and the "[addr]:port" form of logs.
#include "core/ip_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace mxs {
namespace {

Cidr Net(const char* text) {
  std::string error;
  auto c = Cidr::Parse(text, &error);
  EXPECT_TRUE(c.has_value()) << text << ": " << error;
  return *c;
}

TEST(IpAddress, ParsesAndPrints) {
  EXPECT_EQ(IpAddress::Parse("192.0.2.1")->ToString(), "192.0.2.1");
  EXPECT_EQ(IpAddress::Parse("2001:DB8::1")->ToString(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::Parse("192.0.2.256"));
  EXPECT_FALSE(IpAddress::Parse("[::1]"));
  EXPECT_FALSE(IpAddress::Parse(""));
}

// Format's hand-written IPv4 digits against the C library's inet_ntop: every
// value of each byte in every position, then a million random addresses.
TEST(IpAddress, FormatsIpv4LikeInetNtop) {
  auto check = [](uint32_t host_order) {
    IpAddress a = IpAddress::V4(host_order);
    char mine[IpAddress::kMaxText];
    char libc[INET6_ADDRSTRLEN];
    size_t n = a.Format(mine);
    ASSERT_NE(inet_ntop(AF_INET, a.bytes().data(), libc, sizeof libc), nullptr);
    ASSERT_STREQ(mine, libc);
    ASSERT_EQ(n, std::strlen(libc));
  };
  for (uint32_t v = 0; v < 256; ++v) {
    for (int shift = 0; shift < 32; shift += 8) check(v << shift);
  }
  check(0);
  check(0xffffffff);
  std::mt19937 random(20261206);
  for (int i = 0; i < 1000000; ++i) check(random());
}

TEST(IpAddress, FormatsIpv6AsRfc5952) {
  char buf[IpAddress::kMaxText];
  EXPECT_EQ(IpAddress::Parse("2001:DB8:0:0:0:0:0:1")->Format(buf), 11u);
  EXPECT_STREQ(buf, "2001:db8::1");
  IpAddress longest = *IpAddress::Parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
  EXPECT_EQ(longest.Format(buf), 39u);
  EXPECT_EQ(longest.ToString(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(Cidr, MatchesV4AndV6) {
  EXPECT_TRUE(Net("192.0.2.0/24").Contains(*IpAddress::Parse("192.0.2.77")));
  EXPECT_FALSE(Net("192.0.2.0/24").Contains(*IpAddress::Parse("192.0.3.1")));
  EXPECT_TRUE(Net("10.0.0.0/9").Contains(*IpAddress::Parse("10.127.0.1")));
  EXPECT_FALSE(Net("10.0.0.0/9").Contains(*IpAddress::Parse("10.128.0.1")));
  EXPECT_TRUE(Net("0.0.0.0/0").Contains(*IpAddress::Parse("203.0.113.9")));
  EXPECT_FALSE(Net("0.0.0.0/0").Contains(*IpAddress::Parse("::1")));
  EXPECT_TRUE(Net("2001:db8::/32").Contains(*IpAddress::Parse("2001:db8:ffff::1")));
  EXPECT_TRUE(Net("[2001:db8::]/32").Contains(*IpAddress::Parse("2001:db8::5")));
  EXPECT_TRUE(Net("::1").Contains(*IpAddress::Parse("::1")));
  EXPECT_TRUE(Net("192.0.2.9").Contains(*IpAddress::Parse("192.0.2.9")));
  EXPECT_FALSE(Net("192.0.2.9").Contains(*IpAddress::Parse("192.0.2.8")));
}

TEST(Cidr, RefusesWithReason) {
  std::string error;
  EXPECT_FALSE(Cidr::Parse("192.0.2.1/24", &error));
  EXPECT_EQ(error,
            "non-null host address bits in \"192.0.2.1/24\", perhaps use \"192.0.2.0/24\" instead");
  EXPECT_FALSE(Cidr::Parse("192.0.2.0/33", &error));
  EXPECT_EQ(error, "prefix length 33 is longer than the address");
  EXPECT_FALSE(Cidr::Parse("example.com/24", &error));
  EXPECT_EQ(error, "bad address \"example.com\"");
  EXPECT_FALSE(Cidr::Parse("192.0.2.0/", &error));
}

TEST(Endpoint, FormatsAsPostfixLogs) {
  EXPECT_EQ((Endpoint{*IpAddress::Parse("127.0.0.5"), 40000}).ToString(), "[127.0.0.5]:40000");
  EXPECT_EQ((Endpoint{*IpAddress::Parse("::1"), 25}).ToString(), "[::1]:25");
}

}  // namespace
}  // namespace mxs

namespace mxs {
namespace {

TEST(IsLoopbackHost, NamesAndAddressesThatStayOnThisMachine) {
  for (const char* h : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackHost(h)) << h;
  }
  for (const char* h : {"cp.example", "192.0.2.1", "::2", "[::]", "0.0.0.0", "127.0.0", ""}) {
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
  }
}

}  // namespace
}  // namespace mxs

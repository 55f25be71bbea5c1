// Tests of the postscreen_dnsbl_sites parser and answer filters
// (filters/dnsbl/site.cc), and of the query names for IPv4 and IPv6 clients.
#include "filters/dnsbl/site.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mxs::dnsbl {
namespace {

uint32_t Ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return a << 24 | b << 16 | c << 8 | d;
}

std::string ErrorOf(const std::string& text) {
  try {
    ParseSite(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(DnsblSite, DomainOnly) {
  Site s = ParseSite("zen.Example.org.");
  EXPECT_EQ(s.domain, "zen.example.org");
  EXPECT_EQ(s.weight, 1);
  EXPECT_FALSE(s.has_filter);
  EXPECT_TRUE(s.Matches(Ip(127, 0, 0, 2)));
  EXPECT_TRUE(s.Matches(Ip(127, 0, 0, 20)));
  // Error codes never count without a filter that names them.
  EXPECT_FALSE(s.Matches(Ip(127, 255, 255, 254)));
}

TEST(DnsblSite, FilterWithListsAndRanges) {
  Site s = ParseSite("zen.example=127.0.0.[2..11;20]*3");
  EXPECT_EQ(s.domain, "zen.example");
  EXPECT_EQ(s.weight, 3);
  ASSERT_TRUE(s.has_filter);
  EXPECT_FALSE(s.Matches(Ip(127, 0, 0, 1)));
  EXPECT_TRUE(s.Matches(Ip(127, 0, 0, 2)));
  EXPECT_TRUE(s.Matches(Ip(127, 0, 0, 11)));
  EXPECT_FALSE(s.Matches(Ip(127, 0, 0, 12)));
  EXPECT_TRUE(s.Matches(Ip(127, 0, 0, 20)));
  EXPECT_FALSE(s.Matches(Ip(127, 0, 1, 2)));
}

TEST(DnsblSite, NegativeWeightAndRangeInEveryOctet) {
  Site s = ParseSite("wl.example=127.0.[0..255].[2..3]*-4");
  EXPECT_EQ(s.weight, -4);
  EXPECT_TRUE(s.Matches(Ip(127, 0, 9, 3)));
  EXPECT_FALSE(s.Matches(Ip(127, 0, 9, 4)));
  Site t = ParseSite("wl.example*-2");
  EXPECT_EQ(t.weight, -2);
  EXPECT_FALSE(t.has_filter);
  EXPECT_EQ(ParseSite("a.example*+5").weight, 5);
}

TEST(DnsblSite, FilterMayNameAnErrorCode) {
  Site s = ParseSite("bl.example=127.255.255.[252..254]");
  EXPECT_TRUE(s.Matches(Ip(127, 255, 255, 254)));
  EXPECT_TRUE(s.FilterMatches(Ip(127, 255, 255, 254)));
  EXPECT_FALSE(ParseSite("bl.example").FilterMatches(Ip(127, 0, 0, 2)));
}

TEST(DnsblSite, ErrorsNameTheEntry) {
  EXPECT_EQ(ErrorOf("bl.example=127.0.0"),
            "bad DNSBL site \"bl.example=127.0.0\": filter needs four octets");
  EXPECT_EQ(ErrorOf("bl.example=127.0.0.256"),
            "bad DNSBL site \"bl.example=127.0.0.256\": octet value above 255 in filter");
  EXPECT_EQ(ErrorOf("bl.example=127.0.0.[5..2]"),
            "bad DNSBL site \"bl.example=127.0.0.[5..2]\": range 5..2 runs backwards in filter");
  EXPECT_EQ(ErrorOf("bl.example*x"),
            "bad DNSBL site \"bl.example*x\": weight \"x\" is not an integer");
  EXPECT_EQ(ErrorOf("bl.example*"), "bad DNSBL site \"bl.example*\": no weight after \"*\"");
  EXPECT_EQ(ErrorOf("=127.0.0.2"), "bad DNSBL site \"=127.0.0.2\": no domain");
  EXPECT_EQ(ErrorOf("bl..example"), "bad DNSBL site \"bl..example\": empty label in domain");
  EXPECT_EQ(ErrorOf("bl.example="), "bad DNSBL site \"bl.example=\": empty filter after \"=\"");
  EXPECT_EQ(ErrorOf("bl.example=127.0.0.[2"),
            "bad DNSBL site \"bl.example=127.0.0.[2\": expected \";\" or \"]\" in filter");
  EXPECT_EQ(ErrorOf("bl.example=127.0.0.[]"),
            "bad DNSBL site \"bl.example=127.0.0.[]\": expected a number at \"]\" in filter");
  EXPECT_EQ(ErrorOf("bl.example=127.0.0.2.5"),
            "bad DNSBL site \"bl.example=127.0.0.2.5\": unexpected \".5\" after filter");
  EXPECT_EQ(ErrorOf("bl example"),
            "bad DNSBL site \"bl example\": character ' ' not allowed in domain");
  EXPECT_EQ(ErrorOf("bl.example*99999999999"),
            "bad DNSBL site \"bl.example*99999999999\": weight beyond +-1000000");
}

TEST(DnsblSite, ReversedNames) {
  EXPECT_EQ(ReverseName(*IpAddress::Parse("192.0.2.1")), "1.2.0.192");
  EXPECT_EQ(ReverseName(*IpAddress::Parse("127.0.0.2")), "2.0.0.127");
  EXPECT_EQ(ReverseName(*IpAddress::Parse("::1")),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0");
  EXPECT_EQ(ReverseName(*IpAddress::Parse("2001:db8::abcd")),
            "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
}

TEST(DnsblSite, ErrorCodes) {
  EXPECT_TRUE(IsErrorCode(Ip(127, 255, 255, 254)));
  EXPECT_TRUE(IsErrorCode(Ip(127, 255, 255, 0)));
  EXPECT_FALSE(IsErrorCode(Ip(127, 255, 254, 1)));
  EXPECT_FALSE(IsErrorCode(Ip(127, 0, 0, 2)));
  EXPECT_EQ(FormatIpv4(Ip(127, 255, 255, 254)), "127.255.255.254");
}

}  // namespace
}  // namespace mxs::dnsbl

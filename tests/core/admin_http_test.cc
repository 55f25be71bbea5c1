// Tests of the admin server's request parsers (core/admin_http.h): request
// targets with their query and escapes, the bearer credential, the
// constant-time compare.
#include "core/admin_http.h"

#include <gtest/gtest.h>

namespace mxs {
namespace {

TEST(AdminTarget, PathAndQuery) {
  auto t = ParseAdminTarget("/verdicts/192.0.2.1?listener=smtp&x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/verdicts/192.0.2.1");
  ASSERT_EQ(t->query.size(), 2u);
  EXPECT_EQ(t->query.at("listener"), "smtp");
  EXPECT_EQ(t->query.at("x"), "1");
}

TEST(AdminTarget, PercentEscapesDecode) {
  auto t = ParseAdminTarget("/verdicts/%5B2001%3adb8%3A%3A1%5D?listener=a%20b");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/verdicts/[2001:db8::1]");
  EXPECT_EQ(t->query.at("listener"), "a b");
}

TEST(AdminTarget, EmptyPairsAndNamesWithoutValues) {
  auto t = ParseAdminTarget("/metrics?&&flag&=v");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/metrics");
  EXPECT_EQ(t->query.at("flag"), "");
  EXPECT_EQ(t->query.at(""), "v");
}

TEST(AdminTarget, FragmentIsDropped) {
  auto t = ParseAdminTarget("/ready#x?y=z");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/ready");
  EXPECT_TRUE(t->query.empty());
}

TEST(AdminTarget, Refused) {
  EXPECT_FALSE(ParseAdminTarget(""));
  EXPECT_FALSE(ParseAdminTarget("*"));
  EXPECT_FALSE(ParseAdminTarget("http://example.test/metrics"));
  EXPECT_FALSE(ParseAdminTarget("/a%"));
  EXPECT_FALSE(ParseAdminTarget("/a%4"));
  EXPECT_FALSE(ParseAdminTarget("/a%zz"));
  EXPECT_FALSE(ParseAdminTarget("/a%00b"));
  EXPECT_FALSE(ParseAdminTarget("/?a=%0"));
  EXPECT_FALSE(ParseAdminTarget("/" + std::string(4096, 'a')));
  EXPECT_TRUE(ParseAdminTarget("/" + std::string(4095, 'a')));
}

TEST(Bearer, Parses) {
  EXPECT_EQ(ParseBearer("Bearer abc.DEF-123"), std::optional<std::string_view>("abc.DEF-123"));
  EXPECT_EQ(ParseBearer("bearer   tok  "), std::optional<std::string_view>("tok"));
  EXPECT_EQ(ParseBearer("  BEARER\ttok"), std::optional<std::string_view>("tok"));
}

TEST(Bearer, Refused) {
  EXPECT_FALSE(ParseBearer(""));
  EXPECT_FALSE(ParseBearer("Bearer"));
  EXPECT_FALSE(ParseBearer("Bearer "));
  EXPECT_FALSE(ParseBearer("Bearertok"));
  EXPECT_FALSE(ParseBearer("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(ParseBearer("Bearer two words"));
  EXPECT_FALSE(ParseBearer(std::string("Bearer a\x01", 9)));
  EXPECT_FALSE(ParseBearer("Bearer caf\xc3\xa9"));
}

TEST(ConstantTime, Equality) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  // A prefix padded with NULs is not the longer string.
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab\0", 3), "ab"));
}

}  // namespace
}  // namespace mxs

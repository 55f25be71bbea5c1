// Tests of the JSON string escaper (core/json_string.h) in both of its
// modes: UTF-8 kept (admin API) and every non-ASCII byte escaped (stats).
#include "core/json_string.h"

#include <gtest/gtest.h>

#include <string>

namespace mxs {
namespace {

TEST(JsonString, EscapesQuotesBackslashAndControls) {
  for (auto mode : {JsonNonAscii::kKeepUtf8, JsonNonAscii::kEscapeBytes}) {
    EXPECT_EQ(JsonString("plain", mode), "\"plain\"");
    EXPECT_EQ(JsonString("a\"b\\c", mode), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(JsonString(std::string("\n\t\x01\0", 4), mode), "\"\\u000a\\u0009\\u0001\\u0000\"");
    EXPECT_EQ(JsonString("", mode), "\"\"");
  }
}

TEST(JsonString, KeepsWellFormedUtf8) {
  EXPECT_EQ(JsonString("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"");
  EXPECT_EQ(JsonString("\x7f"), "\"\x7f\"");  // DEL is valid JSON text
}

TEST(JsonString, ReplacesMalformedUtf8) {
  const std::string r = "\xef\xbf\xbd";
  // A lone continuation byte, a truncated sequence, overlong forms, a
  // surrogate, a code point past U+10FFFF, and lead bytes that never occur.
  EXPECT_EQ(JsonString("\x80"), "\"" + r + "\"");
  EXPECT_EQ(JsonString("a\xe2\x82"), "\"a" + r + r + "\"");
  EXPECT_EQ(JsonString("\xc0\xaf"), "\"" + r + r + "\"");
  EXPECT_EQ(JsonString("\xe0\x80\xaf"), "\"" + r + r + r + "\"");
  EXPECT_EQ(JsonString("\xed\xa0\x80"), "\"" + r + r + r + "\"");
  EXPECT_EQ(JsonString("\xf4\x90\x80\x80"), "\"" + r + r + r + r + "\"");
  EXPECT_EQ(JsonString("\xf5\x80\x80"), "\"" + r + r + r + "\"");
  EXPECT_EQ(JsonString("\xff\xbf\xbf"), "\"" + r + r + r + "\"");
}

TEST(JsonString, EscapeBytesModeEscapesEveryNonAsciiByte) {
  EXPECT_EQ(JsonString("caf\xc3\xa9\x7f\xff", JsonNonAscii::kEscapeBytes),
            "\"caf\\u00c3\\u00a9\\u007f\\u00ff\"");
}

TEST(JsonString, AppendsToWhatIsThere) {
  std::string out = "{\"k\":";
  AppendJsonString("v", JsonNonAscii::kKeepUtf8, &out);
  EXPECT_EQ(out, "{\"k\":\"v\"");
}

}  // namespace
}  // namespace mxs

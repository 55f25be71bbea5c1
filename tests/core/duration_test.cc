// Tests of Postfix time values and the delay format of log lines.
#include "core/duration.h"

#include <gtest/gtest.h>

namespace mxs {
namespace {

TEST(ParseDuration, Units) {
  EXPECT_EQ(ParseDuration("30"), Seconds(30));
  EXPECT_EQ(ParseDuration("30s"), Seconds(30));
  EXPECT_EQ(ParseDuration("5m"), Seconds(300));
  EXPECT_EQ(ParseDuration("1h"), Seconds(3600));
  EXPECT_EQ(ParseDuration("1d"), Seconds(86400));
  EXPECT_EQ(ParseDuration("2w"), Seconds(2 * 604800));
}

TEST(ParseDuration, Refuses) {
  for (const char* bad : {"", "s", "1x", "1.5s", "-1", "1ss", "99999999999999999999"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

TEST(FormatDelay, TwoSignificantDigitsAtMostTwoDecimals) {
  EXPECT_EQ(FormatDelay(0), "0");
  EXPECT_EQ(FormatDelay(0.001), "0");
  EXPECT_EQ(FormatDelay(0.3), "0.3");
  EXPECT_EQ(FormatDelay(0.15), "0.15");
  EXPECT_EQ(FormatDelay(0.151), "0.15");
  EXPECT_EQ(FormatDelay(1.2), "1.2");
  EXPECT_EQ(FormatDelay(1.24), "1.2");
  EXPECT_EQ(FormatDelay(6.0), "6");
  EXPECT_EQ(FormatDelay(12.3), "12");
  EXPECT_EQ(FormatDelay(123.4), "120");
}

}  // namespace
}  // namespace mxs

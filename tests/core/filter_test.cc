// filter_test: the small helpers of the filter contract (core/filter.h).
#include "core/filter.h"

#include <gtest/gtest.h>

namespace mxs {
namespace {

TEST(IsTemporaryReply, FollowsTheEnhancedStatusClass) {
  EXPECT_TRUE(IsTemporaryReply("4.7.1 Too many connections from your network, try again later"));
  EXPECT_TRUE(IsTemporaryReply("4.3.2 Service currently unavailable"));
  EXPECT_FALSE(IsTemporaryReply("5.3.2 Service currently unavailable"));
  EXPECT_FALSE(IsTemporaryReply("5.7.1 <localhost>: Helo command rejected"));
  EXPECT_FALSE(IsTemporaryReply("4"));
  EXPECT_FALSE(IsTemporaryReply("421 4.7.0"));  // a code, not a status: never doubled
  EXPECT_FALSE(IsTemporaryReply(""));
}

}  // namespace
}  // namespace mxs

// Tests of the pregreet importer (filters/pregreet/import.cc): the entry is
// always written (the test is on in Postfix's defaults), with action, ttl and
// the teaser banner; an empty banner switches it off; the greet wait is the
// listener's, written by the core (greet_wait, greet_wait_stress).
#include <gtest/gtest.h>

#include "core/gateway_config.h"
#include "core/import_postfix.h"
#include "tests/support/import_helpers.h"

namespace mxs::pregreet {
namespace {

class PregreetImport : public test::PostfixImportTest {
 protected:
  PregreetImport() : PostfixImportTest("pregreet") {}
};

TEST_F(PregreetImport, OnByDefault) {
  auto [entry, warnings] = Run("");
  EXPECT_EQ(entry,
            "      - name: pregreet\n"
            "        action: ignore\n"
            "        ttl: 1d\n");
  EXPECT_EQ(warnings, "");
  const ChainEntry* e = Built();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->action, Action::kIgnore);
  EXPECT_EQ(e->ttl, std::chrono::hours(24));
  EXPECT_EQ(e->traits.teaser, "");  // the listener's banner
}

TEST_F(PregreetImport, ActionTtlAndBanner) {
  auto [entry, warnings] =
      Run("postscreen_greet_action = Enforce\n"
          "postscreen_greet_ttl = 2\n"
          "postscreen_greet_banner = $myhostname \"teaser\"\n"
          "postscreen_greet_wait = ${stress?{3}:{9}}s\n");
  EXPECT_EQ(entry,
            "      - name: pregreet\n"
            "        action: enforce\n"
            "        ttl: 2d\n"
            "        typed_config:\n"
            "          banner: \"mx.example.com \\\"teaser\\\"\"\n");
  // The greet wait is the listener's, written by the core.
  EXPECT_EQ(warnings, "");
  EXPECT_NE(yaml_.find("    greet_wait: 9s\n"
                       "    greet_wait_stress: 3s\n"),
            std::string::npos)
      << yaml_;
  const ChainEntry* e = Built();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->action, Action::kEnforce);
  EXPECT_EQ(e->traits.teaser, "mx.example.com \"teaser\"");
  EXPECT_EQ(config_->listeners[0]->greet_wait, Seconds(9));
  EXPECT_EQ(config_->listeners[0]->greet_wait_stress, Seconds(3));
}

TEST_F(PregreetImport, BannerEqualToSmtpdBannerIsTheListenersOwn) {
  auto [entry, warnings] =
      Run("smtpd_banner = $myhostname ESMTP ready\n"
          "postscreen_greet_banner = $myhostname ESMTP ready\n");
  EXPECT_EQ(entry,
            "      - name: pregreet\n"
            "        action: ignore\n"
            "        ttl: 1d\n");
  EXPECT_EQ(warnings, "");
}

TEST_F(PregreetImport, EmptyBannerDisables) {
  auto [entry, warnings] = Run("postscreen_greet_banner =\n");
  EXPECT_EQ(entry,
            "      - name: pregreet\n"
            "        enabled: false\n"
            "        action: ignore\n"
            "        ttl: 1d\n");
  EXPECT_EQ(warnings, "");
  EXPECT_EQ(Built(), nullptr);  // not in the chain
}

TEST_F(PregreetImport, BadValuesAreWarned) {
  auto [entry, warnings] = Run("postscreen_greet_action = reject\npostscreen_greet_ttl = 1x\n");
  EXPECT_EQ(entry,
            "      - name: pregreet\n"
            "        action: ignore\n"
            "        ttl: 1d\n");
  EXPECT_EQ(warnings,
            "warning: postscreen_greet_action = reject: expected ignore, enforce or drop, imported "
            "as ignore\n"
            "warning: postscreen_greet_ttl = 1x: expected a non-zero time value, imported as 1d\n");
}

}  // namespace
}  // namespace mxs::pregreet

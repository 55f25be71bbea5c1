// Tests of the dnsbl importer (filters/dnsbl/import.cc): every
// postscreen_dnsbl_* parameter, the older names (whitelist_threshold,
// dnsbl_ttl), reply map tables, bad sites warned about and left out, and the
// imported YAML building into a working chain entry.
#include <gtest/gtest.h>

#include "core/gateway_config.h"
#include "tests/support/import_helpers.h"

namespace mxs::dnsbl {
namespace {

class DnsblImport : public test::PostfixImportTest {
 protected:
  DnsblImport() : PostfixImportTest("dnsbl") {}
};

TEST_F(DnsblImport, OffWithoutSites) {
  auto [entry, warnings] = Run("postscreen_dnsbl_threshold = 3\n");
  EXPECT_EQ(entry, "");
  EXPECT_EQ(warnings, "");
}

TEST_F(DnsblImport, EveryParameter) {
  Write("reply", "secret.example public.example\n");
  auto [entry, warnings] =
      Run("postscreen_dnsbl_sites = zen.example=127.0.0.[2..11;20]*3, wl.example*-4\n"
          "  bl.example\n"
          "postscreen_dnsbl_threshold = 2\n"
          "postscreen_dnsbl_allowlist_threshold = -3\n"
          "postscreen_dnsbl_action = Enforce\n"
          "postscreen_dnsbl_reply_map = texthash:" +
          dir_ +
          "/reply\n"
          "postscreen_dnsbl_timeout = 5\n"
          "postscreen_dnsbl_min_ttl = 2m\n"
          "postscreen_dnsbl_max_ttl = 2\n");
  EXPECT_EQ(entry,
            "      - name: dnsbl\n"
            "        action: enforce\n"
            "        typed_config:\n"
            "          sites:\n"
            "            - \"zen.example=127.0.0.[2..11;20]*3\"\n"
            "            - \"wl.example*-4\"\n"
            "            - bl.example\n"
            "          threshold: 2\n"
            "          allowlist_threshold: -3\n"
            "          reply_map:\n"
            "            path: " +
                dir_ +
                "/reply\n"
                "          timeout: 5s\n"
                "          min_ttl: 2m\n"
                "          max_ttl: 2h\n");
  EXPECT_EQ(warnings, "");
  const ChainEntry* e = Built();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->action, Action::kEnforce);
  EXPECT_TRUE(e->traits.cached);
}

TEST_F(DnsblImport, OlderNamesAndInlineReplyMap) {
  auto [entry, warnings] =
      Run("postscreen_dnsbl_sites = bl.example\n"
          "postscreen_dnsbl_whitelist_threshold = -1\n"
          "postscreen_dnsbl_ttl = 30m\n"
          "postscreen_dnsbl_reply_map = inline:{ bl.example=public.example }\n");
  EXPECT_EQ(entry,
            "      - name: dnsbl\n"
            "        action: ignore\n"
            "        typed_config:\n"
            "          sites:\n"
            "            - bl.example\n"
            "          allowlist_threshold: -1\n"
            "          reply_map:\n"
            "            lines:\n"
            "              - \"bl.example public.example\"\n"
            "          max_ttl: 30m\n");
  EXPECT_EQ(warnings, "");
  ASSERT_NE(Built(), nullptr);
}

TEST_F(DnsblImport, BadSitesAndValuesAreWarnedAbout) {
  auto [entry, warnings] =
      Run("postscreen_dnsbl_sites = good.example, bad.example=127.0.0, x.example*z\n"
          "postscreen_dnsbl_threshold = many\n"
          "postscreen_dnsbl_reply_map = pcre:/etc/postfix/map\n"
          "postscreen_dnsbl_action = reject\n");
  EXPECT_EQ(entry,
            "      - name: dnsbl\n"
            "        action: ignore\n"
            "        typed_config:\n"
            "          sites:\n"
            "            - good.example\n");
  EXPECT_EQ(warnings,
            "warning: postscreen_dnsbl_sites: bad DNSBL site \"bad.example=127.0.0\": filter "
            "needs four octets, skipped\n"
            "warning: postscreen_dnsbl_sites: bad DNSBL site \"x.example*z\": weight \"z\" is "
            "not an integer, skipped\n"
            "warning: postscreen_dnsbl_action = reject: expected ignore, enforce or drop, "
            "imported as ignore\n"
            "warning: postscreen_dnsbl_threshold = many: expected an integer, left at the "
            "default\n"
            "warning: postscreen_dnsbl_reply_map = pcre:/etc/postfix/map: only texthash:, hash: "
            "(its source file) and inline: tables are read; the reply names the list domains "
            "as queried\n");
}

}  // namespace
}  // namespace mxs::dnsbl

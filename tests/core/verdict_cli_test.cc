// Tests of `mxscreen verdict get|delete|import` (core/verdict_cli.cc): the
// store is the one the config names for the listener, the exact output and
// exit codes, the `postmap -s` line format of postscreen's cache (0 and 1 are
// not passes, fewer fields are older Postfix versions, the cleanup time stamp
// entry is skipped), bad lines by number, and a store in use.
#include "core/verdict_cli.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/verdict_store.h"
#include "tests/support/scratch_dir.h"

namespace mxs {
namespace {

constexpr int64_t kNow = 1700000000;  // 2023-11-14T22:13:20Z

struct Result {
  int rc;
  std::string out;
  std::string err;
};

class VerdictCliTest : public test::ScratchDirTest {
 protected:
  VerdictCliTest() : ScratchDirTest("verdict_cli") {}
  void SetUp() override {
    config_ = Write("mxscreen.yaml", "store: { path: " + dir_ +
                                         "/store, retention_time: 7d }\n"
                                         "listeners:\n"
                                         "  - name: smtp\n"
                                         "    address: 127.0.0.1:2525\n"
                                         "    handoff: { backends: [\"127.0.0.1:10025\"] }\n"
                                         "  - name: other\n"
                                         "    address: 127.0.0.1:2526\n"
                                         "    handoff: { backends: [\"127.0.0.1:10025\"] }\n"
                                         "    store: { path: " +
                                         dir_ + "/store2 }\n");
  }
  Result Run(const std::string& command, const std::string& arg = "",
             const std::string& listener = "") {
    VerdictCliOptions o;
    o.command = command;
    (command == "import" ? o.from_postmap : o.address) = arg;
    o.config_path = config_;
    o.listener = listener;
    o.clock = [] { return kNow; };
    std::ostringstream out, err;
    int rc = RunVerdictCommand(o, out, err);
    return {rc, out.str(), err.str()};
  }

  void Seed(const std::string& store, const char* addr, const VerdictRecord& r) {
    VerdictStoreOptions o;
    o.path = dir_ + "/" + store;
    OpenVerdictStore(o, nullptr)->Update(*IpAddress::Parse(addr), r);
  }

  std::string config_;
};

VerdictRecord Rec(std::initializer_list<std::pair<const char*, int64_t>> passes) {
  VerdictRecord r;
  for (const auto& [f, e] : passes) r.Set(f, e);
  return r;
}

TEST_F(VerdictCliTest, GetPrintsEachPassWithItsExpiry) {
  Seed("store", "192.0.2.1",
       Rec({{"pregreet", kNow + 3 * 3600 + 12 * 60 + 5},
            {"dnsbl", kNow - 10},
            {"my_plugin", kNow + 29 * 86400 + 23 * 3600 + 59},
            {"pipelining", kNow + 42}}));
  auto r = Run("get", "192.0.2.1");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            "pregreet 2023-11-15T01:25:25Z (in 3h12m)\n"
            "dnsbl 2023-11-14T22:13:10Z expired\n"
            "my_plugin 2023-12-14T21:14:19Z (in 29d23h)\n"
            "pipelining 2023-11-14T22:14:02Z (in 42s)\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(VerdictCliTest, GetWithoutRecord) {
  Seed("store", "192.0.2.1", Rec({{"pregreet", kNow}}));
  auto r = Run("get", "2001:db8::1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "no record for 2001:db8::1\n");
}

TEST_F(VerdictCliTest, AddressForms) {
  Seed("store", "2001:db8::1", Rec({{"pregreet", kNow + 60}}));
  Seed("store", "192.0.2.7", Rec({{"dnsbl", kNow + 60}}));
  EXPECT_EQ(Run("get", "[2001:db8::1]").rc, 0);
  EXPECT_EQ(Run("get", "2001:DB8:0::1").rc, 0);
  // An IPv4-mapped address is the IPv4 client the gateway sees.
  EXPECT_EQ(Run("get", "::ffff:192.0.2.7").out, "dnsbl 2023-11-14T22:14:20Z (in 1m)\n");
  auto r = Run("get", "192.0.2.300");
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "mxscreen: verdict get: bad address \"192.0.2.300\"\n");
}

TEST_F(VerdictCliTest, ListenerChoosesTheStore) {
  Seed("store2", "192.0.2.1", Rec({{"pregreet", kNow + 60}}));
  EXPECT_EQ(Run("get", "192.0.2.1", "other").rc, 0);
  // The first listener's store does not have it.
  EXPECT_EQ(Run("get", "192.0.2.1").rc, 1);
  EXPECT_EQ(Run("get", "192.0.2.1", "smtp").rc, 1);
  auto r = Run("get", "192.0.2.1", "nope");
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "mxscreen: " + config_ + ": no listener named \"nope\"\n");
}

TEST_F(VerdictCliTest, Delete) {
  Seed("store", "192.0.2.1", Rec({{"pregreet", kNow + 60}}));
  auto r = Run("delete", "192.0.2.1");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "deleted 192.0.2.1\n");
  r = Run("delete", "192.0.2.1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "no record for 192.0.2.1\n");
  EXPECT_EQ(Run("get", "192.0.2.1").rc, 1);
}

TEST_F(VerdictCliTest, MissingStoreIsNotCreatedByGet) {
  auto r = Run("get", "192.0.2.1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("mxscreen: verdict store " + dir_ + "/store: "), std::string::npos) << r.err;
  EXPECT_NE(access((dir_ + "/store").c_str(), F_OK), 0);
}

TEST_F(VerdictCliTest, StoreInUse) {
  Seed("store", "192.0.2.1", Rec({{"pregreet", kNow + 60}}));
  VerdictStoreOptions o;
  o.path = dir_ + "/store";
  auto held = OpenVerdictStore(o, nullptr);  // as a running gateway holds it
  for (const char* cmd : {"get", "delete"}) {
    auto r = Run(cmd, "192.0.2.1");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("mxscreen: verdict store " + o.path + ": "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("is the gateway running?"), std::string::npos) << r.err;
  }
  auto r = Run("import", Write("dump", "192.0.2.9\t1700000100;0;0;0;0\n"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("is the gateway running?"), std::string::npos) << r.err;
}

TEST_F(VerdictCliTest, BadConfig) {
  config_ = Write("bad.yaml", "listeners: []\n");
  auto r = Run("get", "192.0.2.1");
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "mxscreen: " + config_ + ": listeners: at least one listener is required\n");
  config_ = Write("nostore.yaml",
                  "listeners: [ { address: \"127.0.0.1:2525\", handoff: { backends: "
                  "[\"127.0.0.1:10025\"] } } ]\n");
  r = Run("get", "192.0.2.1");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "mxscreen: " + config_ +
                       ": listener \"smtp\" has no verdict store (store.path is not set)\n");
}

TEST_F(VerdictCliTest, ImportPostmapDump) {
  // As `postmap -s btree:/var/lib/postfix/postscreen_cache` prints it.
  std::string dump = Write("dump",
                           "192.0.2.1\t1700003600;1700007200;0;1;1700010800\n"
                           "2001:db8::5\t1;1700000100;1;1;1\n"
                           "192.0.2.2\t0;0;0;0;0\n"
                           "192.0.2.3\t1;1;1;1;1\n"
                           "_LAST_CACHE_CLEANUP_COMPLETED_\t1699990000\n"
                           "192.0.2.300\t1700003600;0;0;0;0\n"
                           "192.0.2.4\t1700003600;x;0;0;0\n"
                           "192.0.2.5\n"
                           "192.0.2.6\t1700003600;1700003600\n"
                           "192.0.2.7\t1;1;1;1;1;1\n"
                           "\n");
  auto r = Run("import", dump);
  EXPECT_EQ(r.rc, 1);  // bad lines: the operator must look
  EXPECT_EQ(r.out, "imported 3 record(s) into " + dir_ +
                       "/store; skipped 2 with no pass, 4 bad line(s)\n");
  EXPECT_EQ(r.err,
            dump + ", line 6: bad address \"192.0.2.300\"\n" +  //
                dump + ", line 7: bad expiry time \"x\" (expected seconds since the epoch)\n" +
                dump + ", line 8: expected an address, a tab and the expiry times\n" + dump +
                ", line 10: more than 5 expiry times\n");
  r = Run("get", "192.0.2.1");
  EXPECT_EQ(r.out,
            "pregreet 2023-11-14T23:13:20Z (in 1h)\n"
            "dnsbl 2023-11-15T00:13:20Z (in 2h)\n"
            "bare_newline 2023-11-15T01:13:20Z (in 3h)\n");
  EXPECT_EQ(Run("get", "2001:db8::5").out, "dnsbl 2023-11-14T22:15:00Z (in 1m40s)\n");
  // Fewer fields: an older postscreen, whose later tests count as disabled.
  EXPECT_EQ(Run("get", "192.0.2.6").out,
            "pregreet 2023-11-14T23:13:20Z (in 1h)\ndnsbl 2023-11-14T23:13:20Z (in 1h)\n");
  EXPECT_EQ(Run("get", "192.0.2.2").rc, 1);
  EXPECT_EQ(Run("get", "192.0.2.3").rc, 1);
}

TEST_F(VerdictCliTest, ImportNeverShortensAPass) {
  Seed("store", "192.0.2.1", Rec({{"pregreet", kNow + 7200}, {"my_plugin", kNow + 60}}));
  auto r = Run("import", Write("dump", "192.0.2.1\t1700003600;1700003600;0;0;0\n"));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "imported 1 record(s) into " + dir_ +
                       "/store; skipped 0 with no pass, 0 bad line(s)\n");
  EXPECT_EQ(Run("get", "192.0.2.1").out,
            "pregreet 2023-11-15T00:13:20Z (in 2h)\n"
            "my_plugin 2023-11-14T22:14:20Z (in 1m)\n"
            "dnsbl 2023-11-14T23:13:20Z (in 1h)\n");
}

TEST_F(VerdictCliTest, ImportErrors) {
  auto r = Run("import", dir_ + "/missing");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "mxscreen: cannot open " + dir_ + "/missing\n");
  r = Run("import", "");
  EXPECT_EQ(r.rc, 2);
  r = Run("list");
  EXPECT_EQ(r.rc, 2);
}

TEST(PostmapLineTest, Formats) {
  PostmapCacheEntry e;
  std::string why;
  EXPECT_EQ(ParsePostmapCacheLine("192.0.2.1\t1700000000;0;0;0;0\r", &e, &why),
            PostmapLine::kEntry);
  EXPECT_EQ(e.record, Rec({{"pregreet", 1700000000}}));
  // Spaces as well as a tab, as a hand-made file might have.
  EXPECT_EQ(ParsePostmapCacheLine("  192.0.2.1   0;0;1700000000;0;0  ", &e, &why),
            PostmapLine::kEntry);
  EXPECT_EQ(e.record, Rec({{"pipelining", 1700000000}}));
  EXPECT_EQ(ParsePostmapCacheLine("", &e, &why), PostmapLine::kIgnored);
  EXPECT_EQ(ParsePostmapCacheLine("# comment", &e, &why), PostmapLine::kIgnored);
  // postmap folds keys to lower case by default.
  EXPECT_EQ(ParsePostmapCacheLine("_last_cache_cleanup_completed_\t1", &e, &why),
            PostmapLine::kIgnored);
  EXPECT_EQ(ParsePostmapCacheLine("192.0.2.1\t;", &e, &why), PostmapLine::kBad);
  EXPECT_EQ(ParsePostmapCacheLine("192.0.2.1\t-5;0", &e, &why), PostmapLine::kBad);
  EXPECT_EQ(ParsePostmapCacheLine("192.0.2.1\t99999999999999999999", &e, &why), PostmapLine::kBad);
  EXPECT_EQ(ParsePostmapCacheLine("192.0.2.1\t1700000000;", &e, &why), PostmapLine::kBad);
}

}  // namespace
}  // namespace mxs

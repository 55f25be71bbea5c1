// Tests of the access list: table syntax and errors, first match wins,
// permit_mynetworks, and the verdicts and log lines the filter reports.
#include "filters/access_cidr/access_cidr.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/config_error.h"
#include "core/filter_registry.h"
#include "mxscreen/filters/access_cidr/v1/access_cidr.pb.h"
#include "tests/support/fake_session.h"

namespace mxs::access_cidr {
namespace {

IpAddress Ip(const char* s) { return *IpAddress::Parse(s); }

TEST(CidrTable, FirstMatchWinsV4AndV6) {
  auto t =
      CidrTable::Parse({"# comment", "", "192.0.2.0/25 permit", "192.0.2.0/24 reject",
                        "2001:db8::/32 REJECT", "[2001:db8:1::]/48 permit", "198.51.100.7 dunno"},
                       "t");
  EXPECT_EQ(t.size(), 5u);
  EXPECT_EQ(t.Match(Ip("192.0.2.1")), TableAction::kPermit);
  EXPECT_EQ(t.Match(Ip("192.0.2.200")), TableAction::kReject);
  EXPECT_EQ(t.Match(Ip("2001:db8:1::1")), TableAction::kReject);  // the /32 comes first
  EXPECT_EQ(t.Match(Ip("198.51.100.7")), TableAction::kDunno);
  EXPECT_FALSE(t.Match(Ip("203.0.113.1")).has_value());
}

TEST(CidrTable, ContinuationLines) {
  auto t = CidrTable::Parse({"192.0.2.0/24", "  reject"}, "t");
  EXPECT_EQ(t.Match(Ip("192.0.2.1")), TableAction::kReject);
}

TEST(CidrTable, ErrorsNameSourceAndLine) {
  auto error_of = [](std::vector<std::string> lines) {
    try {
      CidrTable::Parse(lines, "/etc/postfix/access.cidr");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of({"# x", "192.0.2.0/24 permit", "192.0.2.0/33 reject"}),
            "/etc/postfix/access.cidr, line 3: prefix length 33 is longer than the address");
  EXPECT_EQ(error_of({"192.0.2.0/24 allow"}),
            "/etc/postfix/access.cidr, line 1: unknown action \"allow\" (expected permit, reject "
            "or dunno)");
  EXPECT_EQ(
      error_of({"192.0.2.0/24"}),
      "/etc/postfix/access.cidr, line 1: expected \"network/prefix action\", got \"192.0.2.0/24\"");
  EXPECT_EQ(error_of({"192.0.2.1/24 reject"}),
            "/etc/postfix/access.cidr, line 1: non-null host address bits in \"192.0.2.1/24\", "
            "perhaps use "
            "\"192.0.2.0/24\" instead");
}

// A client at `ip` that logs as "[tag]:1".
class FakeCallbacks : public test::FakeSession {
 public:
  explicit FakeCallbacks(const char* ip) : FakeSession(ip, 40000, "[tag]:1") {}
};

class Ctx : public BuildContext {
 public:
  const std::string& path() const override { return path_; }
  std::string ResolvePath(const std::string& p) const override { return p; }
  std::string path_ = "listeners[0].filters[0].typed_config";
};

std::shared_ptr<Filter> Build(const ::mxscreen::filters::access_cidr::v1::AccessCidr& cfg) {
  const auto* f = FilterRegistry::Get().FindByName("access_cidr");
  EXPECT_NE(f, nullptr);
  Ctx ctx;
  return f->Build(cfg, ctx)->Create();
}

TEST(AccessCidrFilter, DefaultIsPermitMynetworks) {
  auto filter = Build({});
  FakeCallbacks local("127.0.0.9");
  EXPECT_EQ(filter->OnConnect(local).kind, Verdict::Kind::kAllow);
  EXPECT_EQ(local.lines, std::vector<std::string>{"ALLOWLISTED [tag]:1"});
  FakeCallbacks remote("192.0.2.1");
  EXPECT_EQ(filter->OnConnect(remote).kind, Verdict::Kind::kContinue);
  EXPECT_TRUE(remote.lines.empty());
}

TEST(AccessCidrFilter, DenyCarriesTheReplyAndLogs) {
  ::mxscreen::filters::access_cidr::v1::AccessCidr cfg;
  cfg.add_mynetworks("127.0.0.1/32");
  cfg.add_access_list()->set_permit_mynetworks(true);
  auto* t = cfg.add_access_list()->mutable_cidr();
  t->add_lines("127.0.0.4 dunno");
  t->add_lines("127.0.0.0/8 reject");
  auto filter = Build(cfg);

  FakeCallbacks denied("127.0.0.2");
  Verdict v = filter->OnConnect(denied);
  EXPECT_EQ(v.kind, Verdict::Kind::kDeny);
  EXPECT_EQ(v.reply, "5.3.2 Service currently unavailable");
  EXPECT_EQ(denied.lines, std::vector<std::string>{"DENYLISTED [tag]:1"});

  FakeCallbacks dunno("127.0.0.4");
  EXPECT_EQ(filter->OnConnect(dunno).kind, Verdict::Kind::kContinue);
  EXPECT_TRUE(dunno.lines.empty());

  FakeCallbacks old_words("127.0.0.2");
  old_words.respectful = false;
  filter->OnConnect(old_words);
  EXPECT_EQ(old_words.lines, std::vector<std::string>{"BLACKLISTED [tag]:1"});
}

TEST(AccessCidrFilter, ConfigErrorsNameTheField) {
  auto error_of = [](const ::mxscreen::filters::access_cidr::v1::AccessCidr& cfg) {
    try {
      Build(cfg);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ::mxscreen::filters::access_cidr::v1::AccessCidr bad_table;
  bad_table.add_access_list()->mutable_cidr()->add_lines("300.0.0.0/8 reject");
  EXPECT_EQ(error_of(bad_table),
            "listeners[0].filters[0].typed_config.access_list[0].cidr: inline table, line 1: bad "
            "address \"300.0.0.0\"");
  ::mxscreen::filters::access_cidr::v1::AccessCidr missing;
  missing.add_access_list()->mutable_cidr()->set_path("/nonexistent/table.cidr");
  EXPECT_EQ(error_of(missing),
            "listeners[0].filters[0].typed_config.access_list[0].cidr: /nonexistent/table.cidr: "
            "cannot open the table");
  ::mxscreen::filters::access_cidr::v1::AccessCidr bad_net;
  bad_net.add_mynetworks("10.0.0.1/8");
  EXPECT_EQ(error_of(bad_net),
            "listeners[0].filters[0].typed_config.mynetworks[0]: non-null host address bits in "
            "\"10.0.0.1/8\", perhaps use \"10.0.0.0/8\" instead");
}

TEST(AccessCidrFilter, TableFromFile) {
  std::string path = ::testing::TempDir() + "/access-" + std::to_string(getpid()) + ".cidr";
  std::ofstream(path) << "# operators' table\n192.0.2.0/24 reject\n";
  ::mxscreen::filters::access_cidr::v1::AccessCidr cfg;
  cfg.add_access_list()->mutable_cidr()->set_path(path);
  auto filter = Build(cfg);
  FakeCallbacks c("192.0.2.5");
  EXPECT_EQ(filter->OnConnect(c).kind, Verdict::Kind::kDeny);
}

}  // namespace
}  // namespace mxs::access_cidr

// Tests of the upstream_proxy filter (filters/upstream_proxy/): the listener
// hook's verdicts and its exact warning lines (spec section 8), the config
// (versions, timeout) and the traits the session reads.
#include "filters/upstream_proxy/upstream_proxy.h"

#include <gtest/gtest.h>

#include "core/config_error.h"
#include "core/filter_registry.h"
#include "core/proxy_header.h"
#include "mxscreen/filters/upstream_proxy/v1/upstream_proxy.pb.h"
#include "tests/support/fake_session.h"

namespace mxs::upstream_proxy {
namespace {

using Kind = ListenerVerdict::Kind;
using Proto = ::mxscreen::filters::upstream_proxy::v1::UpstreamProxy;

TEST(UpstreamProxy, V1GivesTheRealClient) {
  test::FakeSession cb;
  UpstreamProxyFilter f({});
  std::string h = "PROXY TCP4 192.0.2.7 127.0.0.1 4321 25\r\n";
  auto v = f.OnListenerInput(cb, h.substr(0, 10), ListenerEvent::kData);
  EXPECT_EQ(v.kind, Kind::kNeedMore);
  v = f.OnListenerInput(cb, h + "EHLO", ListenerEvent::kData);
  ASSERT_EQ(v.kind, Kind::kDone);
  EXPECT_EQ(v.consumed, h.size());
  ASSERT_TRUE(v.client && v.server);
  EXPECT_EQ(v.client->ToString(), "[192.0.2.7]:4321");
  EXPECT_EQ(v.server->ToString(), "[127.0.0.1]:25");
  EXPECT_TRUE(cb.lines.empty());
}

TEST(UpstreamProxy, V2LocalKeepsTheSocket) {
  test::FakeSession cb;
  UpstreamProxyFilter f({});
  std::string local("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);
  auto v = f.OnListenerInput(cb, local, ListenerEvent::kData);
  ASSERT_EQ(v.kind, Kind::kDone);
  EXPECT_EQ(v.consumed, 16u);
  EXPECT_FALSE(v.client);
  EXPECT_FALSE(v.server);
}

TEST(UpstreamProxy, WarningsAndReply) {
  UpstreamProxyFilter f({});
  {
    test::FakeSession cb;
    auto v = f.OnListenerInput(cb, "PROXY TCP4 1.2", ListenerEvent::kTimeout);
    EXPECT_EQ(v.kind, Kind::kFail);
    EXPECT_EQ(v.reply, "421 4.3.2 No system resources");
    EXPECT_EQ(cb.lines, std::vector<std::string>{"warning: haproxy read: time limit exceeded"});
  }
  {
    test::FakeSession cb;
    auto v = f.OnListenerInput(cb, "", ListenerEvent::kEof);
    EXPECT_EQ(v.kind, Kind::kFail);
    EXPECT_EQ(v.reply, "421 4.3.2 No system resources");
    EXPECT_EQ(cb.lines, std::vector<std::string>{"warning: haproxy read: EOF"});
  }
  {
    test::FakeSession cb;
    auto v = f.OnListenerInput(cb, "PROXY UNKNOWN\r\n", ListenerEvent::kData);
    EXPECT_EQ(v.kind, Kind::kFail);
    EXPECT_EQ(v.reply, "421 4.3.2 No system resources");
    EXPECT_EQ(cb.lines,
              std::vector<std::string>{"warning: haproxy read: unrecognized protocol header: "
                                       "PROXY UNKNOWN\\r\\n"});
  }
  {
    test::FakeSession cb;
    f.OnListenerInput(cb, std::string("\r\n\r\n\0\r\nQUIT\n\x21\x00\x00\x00", 16),
                      ListenerEvent::kData);
    EXPECT_EQ(cb.lines,
              std::vector<std::string>{"warning: haproxy read: unrecognized protocol header: "
                                       "\\r\\n\\r\\n\\000\\r\\nQUIT\\n!\\000\\000\\000"});
  }
  {
    // Junk is escaped and cut at kMaxLoggedBytes.
    test::FakeSession cb;
    f.OnListenerInput(cb, std::string(2000, '\x01'), ListenerEvent::kData);
    ASSERT_EQ(cb.lines.size(), 1u);
    EXPECT_EQ(cb.lines[0].size(),
              std::string("warning: haproxy read: unrecognized protocol header: ").size() +
                  4 * kMaxLoggedBytes);
  }
}

// Builds the filter through the registry, as a config does.
class Ctx : public BuildContext {
 public:
  const std::string& path() const override { return path_; }
  std::string ResolvePath(const std::string& p) const override { return p; }
  std::string path_ = "listeners[0].filters[0].typed_config";
};

std::shared_ptr<const FilterFactory> Build(const Proto& proto) {
  Ctx ctx;
  return FilterRegistry::Get().FindByName("upstream_proxy")->Build(proto, ctx);
}

TEST(UpstreamProxy, ConfigAndTraits) {
  Proto proto;
  auto factory = Build(proto);
  FilterTraits t = factory->traits();
  EXPECT_TRUE(t.listener_phase);
  EXPECT_FALSE(t.cached);
  EXPECT_FALSE(t.needs_engine);
  EXPECT_EQ(t.listener_timeout, std::chrono::seconds(5));

  proto.set_timeout("2m");
  proto.add_versions(Proto::V2);
  factory = Build(proto);
  EXPECT_EQ(factory->traits().listener_timeout, std::chrono::seconds(120));
  test::FakeSession cb;
  auto v = factory->Create()->OnListenerInput(cb, "PROXY TCP4 1.2.3.4 4.3.2.1 1 2\r\n",
                                              ListenerEvent::kData);
  EXPECT_EQ(v.kind, Kind::kFail);  // v1 not accepted

  proto.set_timeout("0");
  try {
    Build(proto);
    FAIL() << "timeout 0 accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.path(), "listeners[0].filters[0].typed_config.timeout");
  }
  proto.set_timeout("5x");
  EXPECT_THROW(Build(proto), ConfigError);
}

}  // namespace
}  // namespace mxs::upstream_proxy

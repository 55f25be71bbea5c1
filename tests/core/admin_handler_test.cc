// Tests of what the admin server answers (core/admin_handler.h), without a
// socket: every endpoint's status, content type and body, and the access
// rules (a configured token guards everything but the probes and the
// dashboard's own files, DELETE always needs a token or a client
// certificate, 401 carries WWW-Authenticate).
#include "core/admin_handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>

#include "core/metrics.h"
#include "core/verdict_store.h"
#include "tests/support/scratch_dir.h"

namespace mxs {
namespace {

class FakeBackend : public AdminBackend {
 public:
  std::string NotReadyReason() override { return not_ready; }
  std::string ConfigDumpJson() override { return "{\"hostname\":\"mx.test\"}\n"; }
  std::shared_ptr<VerdictStore> StoreOf(const std::string& name, std::string* listener,
                                        std::string* error) override {
    if (!name.empty() && name != "smtp") {
      *error = "no listener named " + name;
      return nullptr;
    }
    *listener = "smtp";
    return store;
  }
  std::string not_ready;
  std::shared_ptr<VerdictStore> store;
};

class AdminHandlerTest : public test::ScratchDirTest {
 protected:
  AdminHandlerTest() : ScratchDirTest("admin_handler") {}
  void SetUp() override {
    VerdictStoreOptions o;
    o.path = dir_ + "/store";
    o.preload = false;
    backend_.store = OpenVerdictStore(o, nullptr);
    config_.address = {*IpAddress::Parse("127.0.0.1"), 9425};
  }
  AdminResponse Call(const std::string& method, const std::string& target,
                     const char* authorization = nullptr, bool cert = false) {
    AdminRequest r;
    r.method = method;
    r.target = target;
    if (authorization) {
      r.has_authorization = true;
      r.authorization = authorization;
    }
    r.client_cert_verified = cert;
    return HandleAdminRequest(r, config_, backend_);
  }

  static std::string Header(const AdminResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  FakeBackend backend_;
  AdminConfig config_;
};

TEST_F(AdminHandlerTest, Metrics) {
  metrics::Registry::Get()
      .GetCounter("mxs_admin_handler_test_total", "A test counter.", {{"k", "v"}})
      .Inc(3);
  auto r = Call("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4");
  EXPECT_NE(r.body.find("# HELP mxs_admin_handler_test_total A test counter.\n"
                        "# TYPE mxs_admin_handler_test_total counter\n"
                        "mxs_admin_handler_test_total{k=\"v\"} 3\n"),
            std::string::npos)
      << r.body;
}

TEST_F(AdminHandlerTest, HealthAndReady) {
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/healthz").body, "ok\n");
  auto ready = Call("GET", "/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  backend_.not_ready = "verdict store /x degraded: reads failing";
  ready = Call("GET", "/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "not ready: verdict store /x degraded: reads failing\n");
}

TEST_F(AdminHandlerTest, ConfigDumpAndSummary) {
  auto r = Call("GET", "/config_dump");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, "{\"hostname\":\"mx.test\"}\n");
  r = Call("GET", "/api/summary");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body.rfind("{\"connections\":{\"total\":", 0), 0u) << r.body;
}

TEST_F(AdminHandlerTest, PageAndUnknownPaths) {
  auto r = Call("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<html"), std::string::npos);
  EXPECT_EQ(Call("GET", "/index.html").body, r.body);
  EXPECT_EQ(Call("GET", "/nope").status, 404);
  EXPECT_EQ(Call("GET", "/verdicts/").status, 404);
  EXPECT_EQ(Call("GET", "*").status, 400);
  auto post = Call("POST", "/metrics");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(Header(post, "Allow"), "GET, DELETE");
}

TEST_F(AdminHandlerTest, VerdictsGet) {
  int64_t now = time(nullptr);
  VerdictRecord rec;
  rec.Set("pregreet", now + 3600);
  rec.Set("dnsbl", 1000);  // long expired
  backend_.store->Update(*IpAddress::Parse("192.0.2.1"), rec);
  auto r = Call("GET", "/verdicts/192.0.2.1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  char when[32];
  time_t t = now + 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  EXPECT_EQ(r.body,
            "{\"client\":\"192.0.2.1\",\"listener\":\"smtp\",\"passes\":["
            "{\"filter\":\"pregreet\",\"expires\":\"" +
                std::string(when) + "\",\"expires_unix\":" + std::to_string(now + 3600) +
                ",\"valid\":true},"
                "{\"filter\":\"dnsbl\",\"expires\":\"1970-01-01T00:16:40Z\","
                "\"expires_unix\":1000,\"valid\":false}]}\n");
  // The mapped and bracketed forms name the same client.
  EXPECT_EQ(Call("GET", "/verdicts/::ffff:192.0.2.1").body, r.body);
  EXPECT_EQ(Call("GET", "/verdicts/192.0.2.1?listener=smtp").body, r.body);
  auto none = Call("GET", "/verdicts/192.0.2.2");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.body, "{\"error\":\"no record for 192.0.2.2\"}\n");
  auto bad = Call("GET", "/verdicts/not-an-ip");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "{\"error\":\"not an IP address: \\\"not-an-ip\\\"\"}\n");
  auto other = Call("GET", "/verdicts/192.0.2.1?listener=other");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body, "{\"error\":\"no listener named other\"}\n");
}

TEST_F(AdminHandlerTest, DeleteWithoutTokenIsForbidden) {
  VerdictRecord rec;
  rec.Set("pregreet", time(nullptr) + 3600);
  backend_.store->Update(*IpAddress::Parse("192.0.2.1"), rec);
  auto r = Call("DELETE", "/verdicts/192.0.2.1");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body,
            "403 forbidden: DELETE needs authentication; configure admin.bearer_token_file and "
            "send \"Authorization: Bearer TOKEN\" (or use HTTPS client certificates: "
            "admin.client_ca_file)\n");
  // Even a token sent is no use when none is configured.
  EXPECT_EQ(Call("DELETE", "/verdicts/192.0.2.1", "Bearer x").status, 403);
  EXPECT_TRUE(backend_.store->Lookup(*IpAddress::Parse("192.0.2.1")));
}

TEST_F(AdminHandlerTest, TokenGuardsEverythingButProbesAndPageFiles) {
  config_.bearer_token = "s3cret-token";
  for (const char* path : {"/metrics", "/config_dump", "/api/summary", "/verdicts/192.0.2.1",
                           "/nope", "/index.html/", "/dashboard.js/x"}) {
    auto r = Call("GET", path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(Header(r, "WWW-Authenticate"), "Bearer realm=\"mxscreen\"") << path;
    EXPECT_EQ(r.body, "401 unauthorized: send Authorization: Bearer TOKEN\n");
    auto wrong = Call("GET", path, "Bearer s3cret-tokeN");
    EXPECT_EQ(wrong.status, 401) << path;
    EXPECT_EQ(Header(wrong, "WWW-Authenticate"),
              "Bearer realm=\"mxscreen\", error=\"invalid_token\"");
    EXPECT_EQ(Call("GET", path, "Basic czNjcmV0LXRva2Vu").status, 401) << path;
  }
  EXPECT_EQ(Call("GET", "/metrics", "Bearer s3cret-token").status, 200);
  EXPECT_EQ(Call("GET", "/nope", "Bearer s3cret-token").status, 404);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/ready").status, 200);
  // The page, its script and its styles hold no data: public, whatever
  // Authorization says (a browser cannot send a bearer token for a page load).
  for (const char* path : {"/", "/index.html", "/dashboard.js", "/dashboard.css"}) {
    for (const char* auth : {"none", "Bearer s3cret-token", "Bearer wrong"}) {
      auto r = Call("GET", path, std::string(auth) == "none" ? nullptr : auth);
      EXPECT_EQ(r.status, 200) << path << " " << auth;
      EXPECT_FALSE(r.body.empty()) << path;
      EXPECT_EQ(Header(r, "WWW-Authenticate"), "") << path;
    }
  }
  EXPECT_EQ(Call("GET", "/").body, Call("GET", "/index.html").body);
  // DELETE of a page file still needs the token (and then is no method of it).
  EXPECT_EQ(Call("DELETE", "/").status, 401);
  EXPECT_EQ(Call("DELETE", "/index.html", "Bearer s3cret-token").status, 405);
}

TEST_F(AdminHandlerTest, DeleteWithTokenOrCertificate) {
  config_.bearer_token = "s3cret-token";
  auto addr = *IpAddress::Parse("2001:db8::7");
  VerdictRecord rec;
  rec.Set("pregreet", time(nullptr) + 3600);
  backend_.store->Update(addr, rec);
  EXPECT_EQ(Call("DELETE", "/verdicts/2001:db8::7").status, 401);
  EXPECT_EQ(Call("DELETE", "/verdicts/2001:db8::7", "Bearer nope").status, 401);
  EXPECT_TRUE(backend_.store->Lookup(addr));
  auto r = Call("DELETE", "/verdicts/[2001:db8::7]", "Bearer s3cret-token");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"deleted\":\"2001:db8::7\",\"listener\":\"smtp\"}\n");
  EXPECT_FALSE(backend_.store->Lookup(addr));
  EXPECT_EQ(Call("DELETE", "/verdicts/2001:db8::7", "Bearer s3cret-token").status, 404);
  // A verified client certificate authenticates too (no token configured).
  config_.bearer_token.clear();
  config_.client_ca_file = "/ca.pem";
  backend_.store->Update(addr, rec);
  EXPECT_EQ(Call("DELETE", "/verdicts/2001:db8::7").status, 401);
  EXPECT_EQ(Call("DELETE", "/verdicts/2001:db8::7", nullptr, true).status, 200);
  EXPECT_EQ(Call("DELETE", "/metrics", nullptr, true).status, 405);
}

}  // namespace
}  // namespace mxs

namespace mxs {
namespace {

// The count after a write, once the rate limit (100 times the last scan's
// duration) lets a new scan run; the same value every time before that.
uint64_t SettledCount(VerdictStore& store, uint64_t want) {
  uint64_t got = store.CountRecords();
  for (int i = 0; i < 500 && got != want; ++i) {
    usleep(10000);
    got = store.CountRecords();
  }
  return got;
}

// What /metrics and /ready read of a store: its record count (a scan, redone
// only after a write) and its health.
TEST_F(AdminHandlerTest, StoreCountsRecordsAndHealth) {
  auto& store = *backend_.store;
  EXPECT_EQ(store.CountRecords(), 0u);
  VerdictRecord rec;
  rec.Set("pregreet", time(nullptr) + 3600);
  store.Update(*IpAddress::Parse("192.0.2.1"), rec);
  store.Update(*IpAddress::Parse("192.0.2.1"), rec);  // an overwrite: still one
  store.Update(*IpAddress::Parse("2001:db8::1"), rec);
  EXPECT_EQ(SettledCount(store, 2), 2u);
  EXPECT_TRUE(store.Delete(*IpAddress::Parse("192.0.2.1")));
  EXPECT_EQ(SettledCount(store, 1), 1u);
  // Without a write no scan runs: the count stays.
  EXPECT_EQ(store.CountRecords(), 1u);
  EXPECT_EQ(store.Degraded(), "");
}

}  // namespace
}  // namespace mxs

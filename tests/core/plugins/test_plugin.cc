// test_plugin: a plugin for the loader and plugin filter tests, built with
// only the public C++ header. What it does is chosen by its config (flat
// JSON, read naively: this is a test): see Config below. MXS_TEST_BUILD_ID
// tells two builds of this file apart (a new build pushed to the same path).
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "mxscreen/plugin/v1/mxscreen_plugin.hpp"

#ifndef MXS_TEST_BUILD_ID
#define MXS_TEST_BUILD_ID "1"
#endif

namespace {

using mxscreen::plugin::Command;
using mxscreen::plugin::Session;
using mxscreen::plugin::Verdict;

// The value of "key" in flat JSON: a string without escapes, or a number.
std::string Field(std::string_view json, const std::string& key) {
  auto at = json.find("\"" + key + "\":");
  if (at == std::string_view::npos) return "";
  at += key.size() + 3;
  if (at < json.size() && json[at] == '"') {
    auto end = json.find('"', at + 1);
    return std::string(json.substr(at + 1, end - at - 1));
  }
  auto end = json.find_first_of(",}", at);
  return std::string(json.substr(at, end - at));
}

struct Config {
  explicit Config(std::string_view json) {
    if (!Field(json, "refuse").empty()) throw std::runtime_error(Field(json, "refuse"));
    reject_helo = Field(json, "reject_helo");               // fail a HELO with this name
    sleep_ms = std::atoi(Field(json, "sleep_ms").c_str());  // sleep in the command hook
    async_ms = std::atoi(Field(json, "async_ms").c_str());  // connect: pending, timer resumes
    async_verdict = Field(json, "async_verdict");           // "pass" (default) or "fail"
    connect = Field(json, "connect");                       // connect verdict: pass/fail
    bad = Field(json, "bad");                               // a misbehaviour (see OnConnect)
    log_build = Field(json, "log_build") == "1";
  }
  std::string reject_helo, async_verdict, connect, bad;
  int sleep_ms = 0, async_ms = 0;
  bool log_build = false;
};

class Handler : public mxscreen::plugin::SessionHandler {
 public:
  Handler(const Config& c, Session) : c_(c) {}

  Verdict OnConnect(Session& s) override {
    if (c_.log_build) s.Log("test_plugin build " MXS_TEST_BUILD_ID " connect " + s.ClientTag());
    const std::string& bad = c_.bad;
    mxs_session* raw = s.raw();
    if (bad == "unknown_verdict") return static_cast<Verdict>(42);
    if (bad == "fail_twice") {
      s.Fail("5.7.1 one");
      return s.Fail("5.7.1 two");
    }
    if (bad == "null_reply") {
      raw->host->fail(raw, nullptr, 5, nullptr, 0);
      return Verdict::kFail;
    }
    if (bad == "crlf_reply") return s.Fail("5.7.1 a\r\n250 ok");
    if (bad == "huge_log") {
      raw->host->log(raw, MXS_LOG_INFO, "x", size_t{1} << 40);
      return Verdict::kContinue;
    }
    if (bad == "resume_no_pending") {
      s.Resume(Verdict::kPass);
      return Verdict::kContinue;
    }
    if (bad == "resume_sync") {  // resumes inside the hook, then says pending
      s.Resume(Verdict::kFail, "5.7.1 sync", "test_plugin sync fail");
      return Verdict::kPending;
    }
    if (bad == "resume_twice") {
      s.Resume(Verdict::kPass);
      s.Resume(Verdict::kPass);
      return Verdict::kPending;
    }
    if (bad == "late_resume") {  // resumes from a timer, nothing pending
      s.ArmTimer(std::chrono::milliseconds(1), [s](bool fired) {
        if (fired) s.Resume(Verdict::kPass);
      });
      return Verdict::kContinue;
    }
    if (bad == "throw") throw std::runtime_error("boom");
    if (bad == "null_session") {
      raw->host->log(nullptr, MXS_LOG_INFO, "x", 1);
      raw->host->fail(nullptr, "x", 1, "", 0);
      return Verdict::kContinue;
    }
    if (c_.async_ms > 0) {
      bool fail = c_.async_verdict == "fail";
      s.ArmTimer(std::chrono::milliseconds(c_.async_ms), [s, fail](bool fired) {
        if (!fired) return;
        if (fail) {
          s.Resume(Verdict::kFail, "5.7.1 async no", "test_plugin async fail " + s.ClientTag());
        } else {
          s.Resume(Verdict::kPass);
        }
      });
      return Verdict::kPending;
    }
    if (c_.connect == "pass") return Verdict::kPass;
    if (c_.connect == "fail") {
      return s.Fail("5.7.1 connect refused by test", "test_plugin connect fail " + s.ClientTag());
    }
    return Verdict::kContinue;
  }

  Verdict OnCommand(Session& s, const Command& c) override {
    if (c_.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(c_.sleep_ms));
    bool helo = c.verb == "HELO" || c.verb == "EHLO" || c.verb == "helo" || c.verb == "ehlo";
    // Once, on the HELO itself: a failure under `ignore` does not end the test.
    if (helo && !c_.reject_helo.empty() && s.Helo() && *s.Helo() == c_.reject_helo) {
      return s.Fail("5.7.1 HELO " + c_.reject_helo + " refused",
                    "test_plugin build " MXS_TEST_BUILD_ID " reject HELO " + c_.reject_helo +
                        " from " + s.ClientTag());
    }
    if (helo) return Verdict::kPass;
    return Verdict::kContinue;
  }

 private:
  const Config& c_;
};

}  // namespace

MXSCREEN_PLUGIN("test_plugin", MXS_TEST_BUILD_ID, MXS_TRAIT_CACHED | MXS_TRAIT_NEEDS_ENGINE, Config,
                Handler)

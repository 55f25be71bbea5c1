// helo_policy: an example mxscreen plugin in C++, built on the header-only
// layer (mxscreen_plugin.hpp) over the C ABI.
//
// Fails a client whose HELO/EHLO name is a bare IP address, not a valid
// hostname, or not fully qualified (the rules of helo_name.h, modelled on
// Postfix's reject_invalid_helo_hostname and reject_non_fqdn_helo_hostname).
// A deep test: it runs in the after-greeting SMTP engine, the first bad name
// fails it for the session (logged once, as postscreen logs its deep tests),
// and a client that reaches RCPT without one passes; the pass is cached for
// the filter entry's ttl. What a failure does (ignore, enforce: 550 on RCPT,
// drop: 521 at once) is the entry's action.
//
// Config (JSON, every key optional):
//   {"checks": ["bare_ip", "invalid", "non_fqdn"],
//    "reply_bare_ip":  "5.7.1 <{helo}>: Helo command rejected: need fully-qualified hostname",
//    "reply_invalid":  "5.7.1 <{helo}>: Helo command rejected: Invalid name",
//    "reply_non_fqdn": "5.7.1 <{helo}>: Helo command rejected: need fully-qualified hostname"}
// "{helo}" in a reply is replaced by the name (printable, at most 100 bytes).
#include <mxscreen/plugin/v1/mxscreen_plugin.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../common/json_config.h"
#include "helo_name.h"

namespace helo_policy {
namespace {

using mxscreen::plugin::Command;
using mxscreen::plugin::Session;
using mxscreen::plugin::SessionHandler;
using mxscreen::plugin::Verdict;

struct CheckInfo {
  Check check;
  const char* name;       // in "checks"
  const char* reply_key;  // its reply's key
  const char* default_reply;
  const char* log_event;  // the log line's first words
};

constexpr CheckInfo kChecks[] = {
    {Check::kBareIp, "bare_ip", "reply_bare_ip",
     "5.7.1 <{helo}>: Helo command rejected: need fully-qualified hostname", "BARE IP HELO"},
    {Check::kInvalid, "invalid", "reply_invalid",
     "5.7.1 <{helo}>: Helo command rejected: Invalid name", "INVALID HELO"},
    {Check::kNonFqdn, "non_fqdn", "reply_non_fqdn",
     "5.7.1 <{helo}>: Helo command rejected: need fully-qualified hostname", "NON-FQDN HELO"},
};

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// Owns a parsed jc_object for the length of the constructor.
struct ParsedJson {
  jc_object obj{};
  ~ParsedJson() { jc_free(&obj); }
};

}  // namespace

// Built once per config, shared read-only by every session on every thread.
class Config {
 public:
  struct Enabled {
    const CheckInfo* info;
    std::string reply;  // with "{helo}" still in it
  };

  explicit Config(std::string_view json) {
    char error[256] = "";
    ParsedJson parsed;
    if (jc_parse(json.data(), json.size(), &parsed.obj, error, sizeof error) != 0) {
      throw std::invalid_argument(error);
    }
    static const char* const kKeys[] = {"checks", "reply_bare_ip", "reply_invalid",
                                        "reply_non_fqdn", nullptr};
    if (jc_check_keys(&parsed.obj, kKeys, error, sizeof error) != 0) {
      throw std::invalid_argument(error);
    }
    std::vector<std::string> names;
    if (const jc_field* f = jc_find(&parsed.obj, "checks")) {
      if (f->type != JC_STRING_ARRAY) {
        throw std::invalid_argument("\"checks\": expected an array of strings");
      }
      names.assign(f->items, f->items + f->n_items);
      if (names.empty()) {
        throw std::invalid_argument(
            "\"checks\": empty; name at least one of bare_ip, invalid, non_fqdn (or disable "
            "the filter entry)");
      }
    } else {
      names = {"bare_ip", "invalid", "non_fqdn"};
    }
    // Kept in the fixed order of kChecks whatever order the config lists them.
    for (const CheckInfo& info : kChecks) {
      bool on = false;
      for (const std::string& n : names) on = on || n == info.name;
      std::string reply = info.default_reply;
      if (const jc_field* f = jc_find(&parsed.obj, info.reply_key)) {
        if (f->type != JC_STRING) {
          throw std::invalid_argument(std::string("\"") + info.reply_key + "\": expected a string");
        }
        reply = f->string;
        CheckReply(info.reply_key, reply);
      }
      if (on) enabled_.push_back({&info, reply});
    }
    for (const std::string& n : names) {
      bool known = false;
      for (const CheckInfo& info : kChecks) known = known || n == info.name;
      if (!known) {
        throw std::invalid_argument("\"checks\": unknown check \"" + n +
                                    "\" (expected bare_ip, invalid or non_fqdn)");
      }
    }
  }

  const std::vector<Enabled>& enabled() const { return enabled_; }

 private:
  // The reply goes into an SMTP reply line: printable ASCII, no CR/LF, and
  // at most the gateway's 500 bytes with a 100-byte name in every {helo}.
  static void CheckReply(const char* key, const std::string& reply) {
    size_t longest = reply.size();
    for (size_t at = reply.find("{helo}"); at != std::string::npos;
         at = reply.find("{helo}", at + 6)) {
      longest += 100 - 6;
    }
    if (reply.empty() || longest > 500) {
      throw std::invalid_argument(std::string("\"") + key +
                                  "\": expected 1 to 500 characters (each {helo} counting 100)");
    }
    for (char c : reply) {
      if (c < 0x20 || c > 0x7e) {
        throw std::invalid_argument(std::string("\"") + key + "\": only printable ASCII");
      }
    }
  }

  std::vector<Enabled> enabled_;
};

// One per session: remembers whether this session already failed.
class Handler : public SessionHandler {
 public:
  Handler(const Config& config, Session) : config_(config) {}

  Verdict OnCommand(Session& s, const Command& cmd) override {
    if (done_) return Verdict::kContinue;
    if (IEquals(cmd.verb, "RCPT")) {
      done_ = true;
      return Verdict::kPass;
    }
    bool ehlo = IEquals(cmd.verb, "EHLO");
    if (!ehlo && !IEquals(cmd.verb, "HELO")) return Verdict::kContinue;
    std::string_view name = cmd.argument;
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name.empty()) return Verdict::kContinue;  // the engine answers 501 itself

    Judgement j = Judge(name);
    for (const Config::Enabled& e : config_.enabled()) {
      if (!j.Fails(e.info->check)) continue;
      done_ = true;
      std::string shown = Printable(name);
      // "NON-FQDN HELO from [192.0.2.7]:4000: EHLO localhost"
      std::string log = std::string(e.info->log_event) + " from " + s.ClientTag() + ": " +
                        (ehlo ? "EHLO " : "HELO ") + shown;
      return s.Fail(Substitute(e.reply, shown), log);
    }
    return Verdict::kContinue;
  }

 private:
  static std::string Substitute(const std::string& reply, const std::string& name) {
    std::string out;
    size_t from = 0;
    for (size_t at; (at = reply.find("{helo}", from)) != std::string::npos; from = at + 6) {
      out.append(reply, from, at - from);
      out += name;
    }
    out.append(reply, from, std::string::npos);
    return out;
  }

  const Config& config_;
  bool done_ = false;
};

}  // namespace helo_policy

MXSCREEN_PLUGIN("helo_policy", "1.0.0", MXS_TRAIT_CACHED | MXS_TRAIT_NEEDS_ENGINE,
                helo_policy::Config, helo_policy::Handler)

// non_smtp: the forbidden-command table, the header check and the log line,
// byte for byte as Postfix 3.7's postscreen writes it (checked against the
// real daemon on loopback).
#include "filters/non_smtp/non_smtp.h"

#include <strings.h>

#include "core/log_escape.h"

namespace mxs::non_smtp {
namespace {

// The commands of postscreen's own table: these never fail the test, even
// when listed as forbidden. HELP, EXPN and TURN are not in it.
constexpr const char* kKnown[] = {"HELO", "EHLO", "STARTTLS", "XCLIENT", "XFORWARD",
                                  "AUTH", "MAIL", "RCPT",     "DATA",    "BDAT",
                                  "RSET", "NOOP", "VRFY",     "ETRN",    "QUIT"};

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

const char* KnownCommand(std::string_view name) {
  for (const char* k : kKnown) {
    if (IEquals(name, k)) return k;
  }
  return nullptr;
}

// `name` as postscreen logs it ("%.100s" of printable()): printable ASCII
// stays, a UTF-8 lead byte keeps the continuation bytes after it (SMTPUTF8
// is on by default), anything else becomes '?'; cut at 100 bytes after that.
std::string PrintableName(std::string_view name) {
  std::string out(name);
  auto continuation = [&](size_t j) {
    return j < out.size() && (static_cast<unsigned char>(out[j]) & 0xC0) == 0x80;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    auto c = static_cast<unsigned char>(out[i]);
    if (c >= 0x20 && c < 0x7f) continue;
    if (c >= 0xC2 && c <= 0xFE && continuation(i + 1)) {
      while (continuation(i + 1)) ++i;
      continue;
    }
    out[i] = '?';
  }
  if (out.size() > 100) out.resize(100);
  return out;
}

}  // namespace

const std::vector<std::string>& ForbiddenCommands::Defaults() {
  static const std::vector<std::string> kDefaults = {"CONNECT", "GET", "POST", "/^[^A-Z]/"};
  return kDefaults;
}

ForbiddenCommands::ForbiddenCommands(const std::vector<std::string>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& e = entries[i];
    auto fail = [&](const std::string& why) { throw BadForbiddenCommand(i, why); };
    if (e.empty()) fail("empty entry");
    if (e[0] != '/') {
      // postscreen compares the text up to the first space, so a name with a
      // space could never match: refuse it rather than ignore it silently.
      if (e.find_first_of(" \t") != std::string::npos) {
        fail("\"" + e + "\": a command name has no spaces");
      }
      names_.push_back(e);
      continue;
    }
    if (e.size() < 3 || e.back() != '/') {
      fail("\"" + e + "\": expected a regular expression between slashes, e.g. \"/^[^A-Z]/\"");
    }
    // REG_ICASE: Postfix regexp: tables ignore case unless told otherwise.
    auto re = std::make_unique<regex_t>();
    std::string pattern = e.substr(1, e.size() - 2);
    int rc = regcomp(re.get(), pattern.c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc != 0) {
      char buf[256];
      regerror(rc, re.get(), buf, sizeof buf);
      fail("\"" + e + "\": " + buf);
    }
    patterns_.push_back(std::move(re));
  }
}

ForbiddenCommands::~ForbiddenCommands() {
  for (auto& re : patterns_) regfree(re.get());
}

bool ForbiddenCommands::Matches(std::string_view name) const {
  for (const auto& n : names_) {
    if (IEquals(name, n)) return true;
  }
  if (patterns_.empty()) return false;
  // regexec needs a terminated string. This runs only for commands the
  // engine does not know, so the copy is not on the path of a good client.
  std::string text(name);
  for (const auto& re : patterns_) {
    if (regexec(re.get(), text.c_str(), 0, nullptr, 0) == 0) return true;
  }
  return false;
}

bool LooksLikeHeader(std::string_view name) {
  // Postfix's is_header_buf(): name characters, optional blanks, a colon.
  enum { kInit, kInName, kInBlanks } state = kInit;
  for (unsigned char c : name) {
    if (c == ':') return state != kInit;
    if (c == ' ' || c == '\t') {
      if (state == kInit) return false;
      state = kInBlanks;
      continue;
    }
    if (c < 0x20 || c >= 0x7f || state == kInBlanks) return false;
    state = kInName;
  }
  return false;
}

Verdict NonSmtpFilter::OnCommand(SessionCallbacks& cb, const SmtpCommand& cmd) {
  if (state_ == State::kDone) return Verdict::Continue();
  // postscreen splits the command name off at the first space only (a tab
  // belongs to the name) and keeps the rest as it is, spaces included.
  std::string_view line = cmd.line;
  size_t b = line.find_first_not_of(' ');
  line.remove_prefix(b == std::string_view::npos ? line.size() : b);
  size_t sp = line.find(' ');
  std::string_view name = line.substr(0, sp);
  std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);

  const char* known = KnownCommand(name);
  if (known == nullptr && (LooksLikeHeader(name) || forbidden_->Matches(name))) {
    // After one failure postscreen skips the test for the rest of the
    // session: one log line, and no pass at RCPT (under `ignore` the session
    // has already counted the failure as a short pass).
    state_ = State::kDone;
    // "%.100s %s": the printable name, a space (also when nothing follows),
    // then at most 100 bytes of the rest, C-escaped.
    std::string text = PrintableName(name);
    std::string escaped = CEscape(rest.substr(0, 100));
    cb.Log("NON-SMTP COMMAND from %s after %s: %s %s", cb.client_tag(), where_, text.c_str(),
           escaped.c_str());
    // The command itself still gets the engine's normal reply unless the
    // action is drop, which answers with postscreen's own parting words.
    return Verdict::Fail("5.5.1 Protocol error", "5.7.0 Error: I can break rules, too. Goodbye.");
  }
  where_ = known != nullptr ? known : "UNIMPLEMENTED";
  if (state_ == State::kTodo && known != nullptr && IEquals(known, "RCPT")) {
    state_ = State::kPassed;
    return Verdict::Pass();
  }
  return Verdict::Continue();
}

}  // namespace mxs::non_smtp

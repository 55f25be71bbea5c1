// smtp_engine: commands and their replies, as postscreen's built-in engine
// answers them (spec section 5).
#include "core/smtp_engine.h"

#include <strings.h>

namespace mxs {
namespace {

bool IEquals(std::string_view a, const char* b) {
  size_t n = std::char_traits<char>::length(b);
  return a.size() == n && strncasecmp(a.data(), b, n) == 0;
}

// "<a@b>" or "a@b" after "FROM:"/"TO:", with blanks allowed after the colon.
std::string_view AddressOf(std::string_view arg, size_t prefix_len) {
  std::string_view rest = arg.substr(prefix_len);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  if (!rest.empty() && rest.front() == '<') {
    size_t close = rest.find('>');
    return close == std::string_view::npos ? rest.substr(1) : rest.substr(1, close - 1);
  }
  size_t sp = rest.find_first_of(" \t");
  return sp == std::string_view::npos ? rest : rest.substr(0, sp);
}

struct CommandName {
  const char* name;
  bool needs_helo;
};

// The commands the engine knows; anything else is "UNIMPLEMENTED" in logs.
// needs_helo: with helo_required, postscreen asks for HELO before MAIL and
// ETRN only.
constexpr CommandName kCommands[] = {
    {"HELO", false}, {"EHLO", false},     {"MAIL", true},  {"RCPT", false},    {"DATA", false},
    {"BDAT", false}, {"RSET", false},     {"NOOP", false}, {"VRFY", false},    {"ETRN", true},
    {"QUIT", false}, {"STARTTLS", false}, {"AUTH", false}, {"XCLIENT", false}, {"XFORWARD", false},
};

}  // namespace

void SmtpEngine::SplitCommand(std::string_view line, std::string_view* verb,
                              std::string_view* arg) {
  // Spaces only, as postscreen splits: "RCPT\tTO:" is one unknown word.
  size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *verb = {};
    *arg = {};
    return;
  }
  line.remove_prefix(start);
  size_t sp = line.find(' ');
  *verb = line.substr(0, sp);
  if (sp == std::string_view::npos) {
    *arg = {};
    return;
  }
  std::string_view rest = line.substr(sp);
  size_t a = rest.find_first_not_of(' ');
  *arg = a == std::string_view::npos ? std::string_view{} : rest.substr(a);
  while (!arg->empty() && arg->back() == ' ') arg->remove_suffix(1);
}

SmtpEngine::Next SmtpEngine::OnLine(std::string_view line, std::string* out) {
  std::string_view verb;
  std::string_view arg;
  SplitCommand(line, &verb, &arg);
  const CommandName* cmd = nullptr;
  for (const auto& c : kCommands) {
    if (IEquals(verb, c.name)) cmd = &c;
  }
  // Junk counts too; QUIT never trips the limit. "after" names the last
  // command answered, as postscreen logs it.
  if (++command_count_ > config_.command_count_limit && !IEquals(verb, "QUIT")) {
    host_.Log("COMMAND COUNT LIMIT from %s after %s", host_.client_tag(), where_);
    *out += "421 " + hostname_ + " Service unavailable - try again later\r\n";
    return Next::kClose;
  }
  where_ = cmd ? cmd->name : "UNIMPLEMENTED";
  // AUTH, XCLIENT and XFORWARD are known (logged by name) but never enabled.
  if (cmd == nullptr || IEquals(verb, "AUTH") || IEquals(verb, "XCLIENT") ||
      IEquals(verb, "XFORWARD")) {
    *out += "502 5.5.2 Error: command not recognized\r\n";
    return Next::kContinue;
  }
  if (IEquals(verb, "QUIT")) {
    *out += "221 2.0.0 Bye\r\n";
    return Next::kClose;
  }
  if (config_.helo_required && helo_.empty() && cmd->needs_helo) {
    *out += "503 5.5.1 Error: send HELO/EHLO first\r\n";
    return Next::kContinue;
  }
  if (IEquals(verb, "HELO") || IEquals(verb, "EHLO")) {
    bool ehlo = IEquals(verb, "EHLO");
    if (arg.empty()) {
      *out += ehlo ? "501 Syntax: EHLO hostname\r\n" : "501 Syntax: HELO hostname\r\n";
      return Next::kContinue;
    }
    helo_.assign(arg);
    esmtp_ = ehlo;
    has_sender_ = false;
    sender_.clear();
    if (!ehlo) {
      *out += "250 " + hostname_ + "\r\n";
    } else {
      *out += "250-" + hostname_ +
              "\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n"
              "250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n";
    }
    return Next::kContinue;
  }
  if (IEquals(verb, "MAIL")) {
    if (has_sender_) {
      *out += "503 5.5.1 Error: nested MAIL command\r\n";
    } else if (arg.find(':') == std::string_view::npos) {
      // postscreen only wants the colon ("MAIL TO:<x>" passes); it never
      // delivers, so it does not validate.
      *out += "501 5.5.4 Syntax: MAIL FROM:<address>\r\n";
    } else {
      sender_.assign(AddressOf(arg, arg.find(':') + 1));
      has_sender_ = true;
      *out += "250 2.1.0 Ok\r\n";
    }
    return Next::kContinue;
  }
  if (IEquals(verb, "RCPT")) {
    Rcpt(arg, out);
    return Next::kContinue;
  }
  if (IEquals(verb, "DATA") || IEquals(verb, "BDAT")) {
    if (IEquals(verb, "DATA") && !arg.empty()) {
      *out += "501 5.5.4 Syntax: DATA\r\n";
      return Next::kContinue;
    }
    host_.Log("%s without valid RCPT from %s", where_, host_.client_tag());
    *out += has_sender_ ? "554 5.5.1 Error: no valid recipients\r\n"
                        : "503 5.5.1 Error: need RCPT command\r\n";
    // The client would now send message content that the engine cannot read
    // as commands; postscreen hangs up here too.
    return Next::kClose;
  }
  if (IEquals(verb, "RSET")) {
    has_sender_ = false;
    sender_.clear();
    *out += "250 2.0.0 Ok\r\n";
    return Next::kContinue;
  }
  if (IEquals(verb, "NOOP")) {
    *out += "250 2.0.0 Ok\r\n";
    return Next::kContinue;
  }
  if (IEquals(verb, "VRFY")) {
    if (arg.empty()) {
      *out += "501 5.5.4 Syntax: VRFY address\r\n";
      return Next::kContinue;
    }
    if (config_.disable_vrfy) {
      *out += "502 5.5.1 VRFY command is disabled\r\n";
    } else {
      // The same answer RCPT would get (an enforced failure's 550), unlogged.
      std::string_view reply = host_.enforced_rcpt_reply();
      out->append(reply.empty() ? "450 4.3.2 Service currently unavailable" : reply);
      *out += "\r\n";
    }
    return Next::kContinue;
  }
  if (IEquals(verb, "ETRN")) {
    *out += arg.empty() ? "500 Syntax: ETRN domain\r\n" : "458 Unable to queue messages\r\n";
    return Next::kContinue;
  }
  // STARTTLS: no TLS is configured in the engine.
  *out += "502 5.5.1 Error: command not implemented\r\n";
  return Next::kContinue;
}

void SmtpEngine::Rcpt(std::string_view arg, std::string* out) {
  if (!has_sender_) {
    *out += "503 5.5.1 Error: need MAIL command\r\n";
    return;
  }
  if (arg.find(':') == std::string_view::npos) {
    *out += "501 5.5.4 Syntax: RCPT TO:<address>\r\n";
    return;
  }
  std::string_view rcpt = AddressOf(arg, arg.find(':') + 1);
  std::string_view reply = host_.enforced_rcpt_reply();
  if (reply.empty()) reply = "450 4.3.2 Service currently unavailable";
  host_.Log("NOQUEUE: reject: RCPT from %s: %.*s; from=<%s>, to=<%.*s>, proto=%s, helo=<%s>",
            host_.client_tag(), static_cast<int>(reply.size()), reply.data(), sender_.c_str(),
            static_cast<int>(rcpt.size()), rcpt.data(), esmtp_ ? "ESMTP" : "SMTP", helo_.c_str());
  host_.OnRcptRejected(reply);
  out->append(reply.data(), reply.size());
  *out += "\r\n";
}

void SmtpEngine::OnLineTooLong(std::string* out) {
  host_.Log("COMMAND LENGTH LIMIT from %s after %s", host_.client_tag(), where_);
  *out += "421 " + hostname_ + " Service unavailable - try again later\r\n";
}

void SmtpEngine::OnTimeout(std::string* out) {
  host_.Log("COMMAND TIME LIMIT from %s after %s", host_.client_tag(), where_);
  *out += "421 4.4.2 " + hostname_ + " Error: timeout exceeded\r\n";
}

}  // namespace mxs

// log_stats: line parsing (a hand-written scanner over string_views: the
// command must read well over 500k lines/s, so no regex, and a line about a
// client allocates nothing once the client is known) and the per-client
// aggregation.
#include "core/log_stats.h"

#include <algorithm>
#include <cstdio>

namespace mxs {
namespace {

constexpr size_t kMaxDomain = 255;  // longer is not a DNS name: unrecognized

struct OutcomeInfo {
  const char* label;
  const char* key;
};

constexpr OutcomeInfo kOutcomes[kLogOutcomeCount] = {
    {"CONNECT", "connect"},
    {"PASS NEW", "pass_new"},
    {"PASS OLD", "pass_old"},
    {"ALLOWLISTED", "allowlisted"},
    {"DENYLISTED", "denylisted"},
    {"PREGREET", "pregreet"},
    {"DNSBL rank", "dnsbl_rank"},
    {"COMMAND PIPELINING", "pipelining"},
    {"NON-SMTP COMMAND", "non_smtp_command"},
    {"BARE NEWLINE", "bare_newline"},
    {"HANGUP", "hangup"},
    {"COMMAND TIME LIMIT", "command_time_limit"},
    {"COMMAND COUNT LIMIT", "command_count_limit"},
    {"COMMAND LENGTH LIMIT", "command_length_limit"},
    {"DATA without valid RCPT", "data_without_rcpt"},
    {"too many connections", "too_many_connections"},
    {"all server ports busy", "server_ports_busy"},
    {"all screening ports busy", "screening_ports_busy"},
    {"DISCONNECT", "disconnect"},
    {"ALLOWLIST VETO", "allowlist_veto"},
};

using O = LogOutcome;
constexpr std::array<LogOutcome, kLogOutcomeCount> kTextOrder = {
    O::kConnect,
    O::kPassNew,
    O::kPassOld,
    O::kAllowlisted,
    O::kAllowlistVeto,
    O::kDenylisted,
    O::kPregreet,
    O::kDnsblRank,
    O::kPipelining,
    O::kNonSmtpCommand,
    O::kBareNewline,
    O::kHangup,
    O::kCommandTimeLimit,
    O::kCommandCountLimit,
    O::kCommandLengthLimit,
    O::kDataWithoutRcpt,
    O::kTooManyConnections,
    O::kServerPortsBusy,
    O::kScreeningPortsBusy,
    O::kDisconnect,
};
// A new outcome must get its row: every outcome exactly once.
constexpr bool EachOutcomeOnce(const std::array<LogOutcome, kLogOutcomeCount>& order) {
  for (size_t o = 0; o < kLogOutcomeCount; ++o) {
    size_t seen = 0;
    for (LogOutcome x : order) seen += static_cast<size_t>(x) == o;
    if (seen != 1) return false;
  }
  return true;
}
static_assert(EachOutcomeOnce(kTextOrder), "kTextOrder must list every LogOutcome once");

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Consumes `prefix` from the front of *s; false (s untouched) if absent.
bool Eat(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// Consumes one or more digits.
bool EatDigits(std::string_view* s) {
  size_t n = 0;
  while (n < s->size() && IsDigit((*s)[n])) ++n;
  if (n == 0) return false;
  s->remove_prefix(n);
  return true;
}

// Consumes a non-empty token up to the next space (not the space).
std::string_view EatToken(std::string_view* s) {
  size_t n = s->find(' ');
  if (n == std::string_view::npos) n = s->size();
  std::string_view t = s->substr(0, n);
  s->remove_prefix(n);
  return t;
}

// Consumes "[addr]:port" (the way postscreen writes a client).
bool EatEndpoint(std::string_view* s, IpAddress* out) {
  if (s->empty() || (*s)[0] != '[') return false;
  size_t close = s->find(']');
  if (close == std::string_view::npos || close < 2 || close > 50) return false;
  auto ip = IpAddress::Parse(s->substr(1, close - 1));
  if (!ip) return false;
  std::string_view rest = s->substr(close + 1);
  if (!Eat(&rest, ":")) return false;
  size_t n = 0;
  while (n < rest.size() && n < 6 && IsDigit(rest[n])) ++n;
  if (n == 0 || n > 5) return false;
  *out = *ip;
  *s = rest.substr(n);
  return true;
}

// "Mmm dd hh:mm:ss[.frac] " or "Mmm  d ..." (RFC 3164, journalctl -o short).
bool EatClassicTimestamp(std::string_view* s) {
  std::string_view t = *s;
  if (t.size() < 16 || !IsAlpha(t[0]) || !IsAlpha(t[1]) || !IsAlpha(t[2]) || t[3] != ' ') {
    return false;
  }
  t.remove_prefix(4);
  if (t[0] == ' ') t.remove_prefix(1);
  size_t day = 0;
  while (day < t.size() && day < 3 && IsDigit(t[day])) ++day;
  if (day == 0 || day > 2) return false;
  t.remove_prefix(day);
  if (!Eat(&t, " ") || t.size() < 8) return false;
  const char* c = t.data();
  if (!IsDigit(c[0]) || !IsDigit(c[1]) || c[2] != ':' || !IsDigit(c[3]) || !IsDigit(c[4]) ||
      c[5] != ':' || !IsDigit(c[6]) || !IsDigit(c[7])) {
    return false;
  }
  t.remove_prefix(8);
  if (Eat(&t, ".") && !EatDigits(&t)) return false;
  if (!Eat(&t, " ")) return false;
  *s = t;
  return true;
}

// "2026-12-06T19:39:42[.frac](Z|+hh:mm|+hhmm) " (RFC 3339, ISO 8601).
bool EatIsoTimestamp(std::string_view* s) {
  std::string_view t = *s;
  if (t.size() < 20) return false;
  const char* c = t.data();
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (!IsDigit(c[i])) return false;
  }
  if (c[4] != '-' || c[7] != '-' || (c[10] != 'T' && c[10] != ' ') || c[13] != ':' ||
      c[16] != ':') {
    return false;
  }
  t.remove_prefix(19);
  // The rest of the token: fraction and zone; checked loosely.
  std::string_view zone = EatToken(&t);
  for (char z : zone) {
    if (!IsDigit(z) && z != '.' && z != ':' && z != '+' && z != '-' && z != 'Z') return false;
  }
  if (!Eat(&t, " ")) return false;
  *s = t;
  return true;
}

// "HOST PROGRAM[PID]: " or "HOST PROGRAM: ". Fills program; leaves the message.
bool EatHostAndProgram(std::string_view* s, std::string_view* program) {
  std::string_view t = *s;
  std::string_view host = EatToken(&t);
  if (host.empty() || !Eat(&t, " ")) return false;
  size_t colon = t.find(": ");
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view tag = t.substr(0, colon);
  if (tag.find(' ') != std::string_view::npos) return false;
  if (tag.back() == ']') {
    size_t open = tag.find('[');
    if (open == std::string_view::npos || open == 0 || open + 2 == tag.size()) return false;
    for (size_t i = open + 1; i + 1 < tag.size(); ++i) {
      if (!IsDigit(tag[i])) return false;
    }
    tag = tag.substr(0, open);
  } else if (tag.find('[') != std::string_view::npos) {
    return false;
  }
  *program = tag;
  *s = t.substr(colon + 2);
  return true;
}

// "bl.example" of "blocked using bl.example; ..." in a reply text.
std::string_view BlockedUsing(std::string_view reply) {
  size_t at = reply.find(" blocked using ");
  if (at == std::string_view::npos) return {};
  std::string_view d = reply.substr(at + 15);
  size_t end = 0;
  while (end < d.size() && d[end] != ';' && d[end] != ',' && d[end] != ' ') ++end;
  d = d.substr(0, end);
  return d.size() > kMaxDomain ? std::string_view() : d;
}

// The list domain of a dnsblog query name: the query minus the reversed
// client address (4 decimal labels for IPv4, 32 hex nibbles for IPv6).
std::string_view DomainOfQuery(std::string_view q) {
  auto strip = [&q](int labels, bool hex) -> bool {
    std::string_view t = q;
    for (int i = 0; i < labels; ++i) {
      size_t dot = t.find('.');
      if (dot == std::string_view::npos || dot == 0) return false;
      for (size_t j = 0; j < dot; ++j) {
        char c = t[j];
        bool ok = IsDigit(c) || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
        if (!ok || (hex && dot != 1) || (!hex && dot > 3)) return false;
      }
      t.remove_prefix(dot + 1);
    }
    if (t.empty()) return false;
    q = t;
    return true;
  };
  if (!strip(32, true)) strip(4, false);
  return q;
}

using Kind = LogLine::Kind;

// The message of a selected program.
void ParseMessage(std::string_view m, LogLine* out) {
  auto outcome = [out](LogOutcome o) {
    out->kind = Kind::kOutcome;
    out->outcome = o;
  };
  auto client_then = [&](std::string_view* rest, LogOutcome o) {
    if (EatEndpoint(rest, &out->client)) outcome(o);
  };
  std::string_view r = m;
  switch (m.empty() ? '\0' : m[0]) {
    case 'A':
      if (Eat(&r, "ALLOWLISTED ")) return client_then(&r, LogOutcome::kAllowlisted);
      if (Eat(&r, "ALLOWLIST VETO ")) return client_then(&r, LogOutcome::kAllowlistVeto);
      return;
    case 'a':
      if (Eat(&r, "addr ")) {
        // dnsblog: "addr A listed by domain D as Z" (A without brackets).
        std::string_view addr = EatToken(&r);
        auto ip = IpAddress::Parse(addr);
        if (!ip || !Eat(&r, " listed by domain ")) return;
        std::string_view domain = EatToken(&r);
        if (domain.empty() || domain.size() > kMaxDomain || !Eat(&r, " as ")) return;
        std::string_view answer = EatToken(&r);
        if (answer.empty() || answer.size() > 64) return;
        out->kind = Kind::kDnsblHit;
        out->client = *ip;
        out->domain = domain;
        out->answer = answer;
      }
      return;
    case 'B':
      if (Eat(&r, "BARE NEWLINE from ")) return client_then(&r, LogOutcome::kBareNewline);
      if (Eat(&r, "BLACKLISTED ")) return client_then(&r, LogOutcome::kDenylisted);
      if (Eat(&r, "BDAT without valid RCPT from ")) {
        return client_then(&r, LogOutcome::kDataWithoutRcpt);
      }
      return;
    case 'C':
      if (Eat(&r, "CONNECT from ")) return client_then(&r, LogOutcome::kConnect);
      if (Eat(&r, "COMMAND PIPELINING from ")) return client_then(&r, LogOutcome::kPipelining);
      if (Eat(&r, "COMMAND TIME LIMIT from ")) {
        return client_then(&r, LogOutcome::kCommandTimeLimit);
      }
      if (Eat(&r, "COMMAND COUNT LIMIT from ")) {
        return client_then(&r, LogOutcome::kCommandCountLimit);
      }
      if (Eat(&r, "COMMAND LENGTH LIMIT from ")) {
        return client_then(&r, LogOutcome::kCommandLengthLimit);
      }
      return;
    case 'D':
      if (Eat(&r, "DISCONNECT ")) return client_then(&r, LogOutcome::kDisconnect);
      if (Eat(&r, "DENYLISTED ")) return client_then(&r, LogOutcome::kDenylisted);
      if (Eat(&r, "DNSBL rank ")) {
        if (EatDigits(&r) && Eat(&r, " for ")) client_then(&r, LogOutcome::kDnsblRank);
        return;
      }
      if (Eat(&r, "DATA without valid RCPT from ")) {
        return client_then(&r, LogOutcome::kDataWithoutRcpt);
      }
      return;
    case 'H':
      // "HANGUP after DELAY from [A]:P in tests ..."
      if (Eat(&r, "HANGUP after ")) {
        EatToken(&r);
        if (Eat(&r, " from ")) client_then(&r, LogOutcome::kHangup);
      }
      return;
    case 'N':
      if (Eat(&r, "NON-SMTP COMMAND from ")) return client_then(&r, LogOutcome::kNonSmtpCommand);
      if (Eat(&r, "NOQUEUE: reject: RCPT from ")) {
        if (!EatEndpoint(&r, &out->client) || !Eat(&r, ": ") || r.size() < 3 || !IsDigit(r[0]) ||
            !IsDigit(r[1]) || !IsDigit(r[2]) || r[0] < '1' || r[0] > '5' ||
            (r.size() > 3 && r[3] != ' ' && r[3] != '-')) {
          return;
        }
        out->kind = Kind::kReject;
        out->code = r.substr(0, 3);
        out->domain = BlockedUsing(r);
        return;
      }
      if (Eat(&r, "NOQUEUE: reject: CONNECT from ")) {
        IpAddress client;
        if (!EatEndpoint(&r, &client)) return;
        LogOutcome o;
        if (r == ": too many connections") {
          o = LogOutcome::kTooManyConnections;
        } else if (r == ": all server ports busy") {
          o = LogOutcome::kServerPortsBusy;
        } else {
          return;
        }
        out->client = client;
        out->code = "421";  // the reply both send; the line does not say it
        return outcome(o);
      }
      return;
    case 'P':
      if (Eat(&r, "PASS NEW ")) return client_then(&r, LogOutcome::kPassNew);
      if (Eat(&r, "PASS OLD ")) return client_then(&r, LogOutcome::kPassOld);
      // "PREGREET N after DELAY from [A]:P: TEXT"
      if (Eat(&r, "PREGREET ")) {
        if (!EatDigits(&r) || !Eat(&r, " after ")) return;
        EatToken(&r);
        if (Eat(&r, " from ")) client_then(&r, LogOutcome::kPregreet);
      }
      return;
    case 'W':
      if (Eat(&r, "WHITELISTED ")) return client_then(&r, LogOutcome::kAllowlisted);
      if (Eat(&r, "WHITELIST VETO ")) return client_then(&r, LogOutcome::kAllowlistVeto);
      return;
    case 'c':
      // postscreen's cache maintenance: "cache btree:PATH full cleanup: retained=..."
      if (Eat(&r, "cache ") && r.find(" full cleanup: ") != std::string_view::npos) {
        out->kind = Kind::kInfo;
      }
      return;
    case 'e':
      if (Eat(&r, "entering STRESS mode with ")) out->kind = Kind::kStressOn;
      return;
    case 'l':
      if (Eat(&r, "leaving STRESS mode with ")) out->kind = Kind::kStressOff;
      return;
    case 'r':
      if (Eat(&r, "reject: connect from ")) {
        IpAddress client;
        if (!EatEndpoint(&r, &client) || r != ": all screening ports busy") return;
        out->client = client;
        out->code = "421";
        return outcome(LogOutcome::kScreeningPortsBusy);
      }
      return;
    case 'w':
      if (!Eat(&r, "warning: ")) return;
      out->kind = Kind::kWarning;
      if (Eat(&r, "dnsblog reply timeout ")) {
        EatToken(&r);
        if (Eat(&r, " for ")) {
          std::string_view d = EatToken(&r);
          if (!d.empty() && d.size() <= kMaxDomain && r.empty()) {
            out->kind = Kind::kDnsblTimeout;
            out->domain = d;
          }
        }
      } else if (Eat(&r, "dnsblog_query: lookup error for DNS query ")) {
        size_t colon = r.find(": ");
        std::string_view q = r.substr(0, colon);
        std::string_view d = DomainOfQuery(q);
        if (colon != std::string_view::npos && !d.empty() && d.size() <= kMaxDomain &&
            d.find(' ') == std::string_view::npos) {
          out->kind = Kind::kDnsblError;
          out->domain = d;
        }
      }
      return;
    default:
      return;
  }
}

// Postfix masks IPv4 clients to /24 and IPv6 to /64 in this report.
IpAddress NetworkOf(const IpAddress& a) {
  std::array<uint8_t, 16> b = a.bytes();
  size_t keep = a.is_v4() ? 3 : 8;
  for (size_t i = keep; i < 16; ++i) b[i] = 0;
  char text[64];
  if (a.is_v4()) {
    std::snprintf(text, sizeof text, "%u.%u.%u.0", b[0], b[1], b[2]);
  } else {
    std::snprintf(text, sizeof text, "%x:%x:%x:%x::", (b[0] << 8) | b[1], (b[2] << 8) | b[3],
                  (b[4] << 8) | b[5], (b[6] << 8) | b[7]);
  }
  return *IpAddress::Parse(text);
}

bool AddressLess(const IpAddress& a, const IpAddress& b) {
  if (a.is_v4() != b.is_v4()) return a.is_v4();
  return a.bytes() < b.bytes();
}

}  // namespace

const char* LogOutcomeLabel(LogOutcome outcome) {
  return kOutcomes[static_cast<size_t>(outcome)].label;
}

const char* LogOutcomeKey(LogOutcome outcome) {
  return kOutcomes[static_cast<size_t>(outcome)].key;
}

const std::array<LogOutcome, kLogOutcomeCount>& LogOutcomeTextOrder() { return kTextOrder; }

bool IsTestFailure(LogOutcome o) {
  switch (o) {
    case LogOutcome::kDenylisted:
    case LogOutcome::kPregreet:
    case LogOutcome::kDnsblRank:
    case LogOutcome::kPipelining:
    case LogOutcome::kNonSmtpCommand:
    case LogOutcome::kBareNewline:
      return true;
    default:
      return false;
  }
}

ProgramFilter::ProgramFilter(const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (n.empty()) continue;
    names_.push_back(n);
    auto slash = n.rfind('/');
    names_.push_back((slash == std::string::npos ? "" : n.substr(0, slash + 1)) + "dnsblog");
  }
}

bool ProgramFilter::Accepts(std::string_view program) const {
  if (names_.empty()) {
    auto ends = [program](std::string_view suffix) {
      return program.size() >= suffix.size() &&
             program.substr(program.size() - suffix.size()) == suffix;
    };
    return program == "postscreen" || program == "dnsblog" || ends("/postscreen") ||
           ends("/dnsblog");
  }
  for (const auto& n : names_) {
    if (program == n) return true;
  }
  return false;
}

LogLine ParseLogLine(std::string_view line, const ProgramFilter& programs) {
  LogLine out;
  std::string_view s = line;
  bool stamped = !s.empty() && IsDigit(s[0]) ? EatIsoTimestamp(&s) : EatClassicTimestamp(&s);
  if (!stamped || !EatHostAndProgram(&s, &out.program)) return out;  // kMalformed
  out.message = s;
  if (!programs.Accepts(out.program)) {
    out.kind = Kind::kOtherProgram;
    return out;
  }
  out.kind = Kind::kUnrecognized;
  ParseMessage(s, &out);
  return out;
}

size_t LogStats::AddressHash::operator()(const IpAddress& a) const {
  // FNV-1a over the address bytes: cheap, and addresses are not chosen to
  // collide by anyone who can do harm here (a log someone reads offline).
  uint64_t h = a.is_v4() ? 1469598103934665603ull : 1099511628211ull;
  size_t n = a.is_v4() ? 4 : 16;
  for (size_t i = 0; i < n; ++i) {
    h ^= a.bytes()[i];
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h ^ (h >> 29));
}

LogStats::LogStats(ProgramFilter programs) : programs_(std::move(programs)) {}

LogStats::Client& LogStats::ClientOf(const IpAddress& address) { return clients_[address]; }

uint32_t LogStats::ListId(std::string_view domain) {
  auto [it, fresh] = list_ids_.emplace(std::string(domain), static_cast<uint32_t>(lists_.size()));
  if (fresh) {
    lists_.emplace_back();
    lists_.back().domain = std::string(domain);
  }
  return it->second;
}

void LogStats::AddOversizedLine() {
  ++lines_;
  ++skipped_;
  ++malformed_;
}

void LogStats::AddLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  ++lines_;
  LogLine l = ParseLogLine(line, programs_);
  auto add_reject = [this](Client& c, std::string_view code) {
    int n = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    ++code_events_[n];
    ++c.rejects;
    for (auto& [have, count] : c.codes) {
      if (have == n) {
        ++count;
        return;
      }
    }
    c.codes.emplace_back(static_cast<uint16_t>(n), 1);
  };
  switch (l.kind) {
    case Kind::kMalformed:
      ++malformed_;
      ++skipped_;
      return;
    case Kind::kOtherProgram:
      ++skipped_;
      return;
    case Kind::kUnrecognized:
      ++unrecognized_;
      return;
    case Kind::kOutcome: {
      Client& c = ClientOf(l.client);
      ++outcome_events_[static_cast<size_t>(l.outcome)];
      ++c.outcomes[static_cast<size_t>(l.outcome)];
      if (!l.code.empty()) add_reject(c, l.code);
      break;
    }
    case Kind::kReject: {
      Client& c = ClientOf(l.client);
      add_reject(c, l.code);
      if (!l.domain.empty()) ++lists_[ListId(l.domain)].rejects;
      break;
    }
    case Kind::kDnsblHit: {
      uint32_t id = ListId(l.domain);
      List& list = lists_[id];
      ++list.hits;
      auto a = list.answers.find(l.answer);
      if (a == list.answers.end()) {
        list.answers.emplace(std::string(l.answer), 1);
      } else {
        ++a->second;
      }
      Client& c = ClientOf(l.client);
      ++c.dnsbl_hits;
      if (std::find(c.lists.begin(), c.lists.end(), id) == c.lists.end()) c.lists.push_back(id);
      break;
    }
    case Kind::kDnsblTimeout:
      ++lists_[ListId(l.domain)].timeouts;
      break;
    case Kind::kDnsblError:
      ++lists_[ListId(l.domain)].errors;
      break;
    case Kind::kStressOn:
      ++stress_entered_;
      break;
    case Kind::kStressOff:
      ++stress_left_;
      break;
    case Kind::kWarning:
      ++warnings_;
      break;
    case Kind::kInfo:
      break;
  }
  ++counted_;
}

StatsReport LogStats::Report(size_t top) const {
  StatsReport r;
  r.lines = lines_;
  r.counted = counted_;
  r.unrecognized = unrecognized_;
  r.skipped = skipped_;
  r.malformed = malformed_;
  r.stress_entered = stress_entered_;
  r.stress_left = stress_left_;
  r.warnings = warnings_;
  r.total_clients = clients_.size();
  for (size_t i = 0; i < kLogOutcomeCount; ++i) r.outcomes[i].events = outcome_events_[i];
  for (int code = 100; code < 600; ++code) {
    if (code_events_[code] == 0) continue;
    char text[12];
    std::snprintf(text, sizeof text, "%03d", code);
    r.rejects_by_code[text].events = code_events_[code];
    r.rejects.events += code_events_[code];
  }
  std::vector<uint64_t> list_clients(lists_.size());

  struct Ranked {
    IpAddress address;
    StatsReport::Entry entry;
  };
  std::vector<Ranked> listed_clients;
  std::map<std::pair<bool, std::array<uint8_t, 16>>, Ranked> networks;

  for (const auto& [address, c] : clients_) {
    for (size_t i = 0; i < kLogOutcomeCount; ++i) {
      if (c.outcomes[i]) ++r.outcomes[i].clients;
    }
    if (c.rejects) ++r.rejects.clients;
    for (const auto& [code, count] : c.codes) {
      char text[12];
      std::snprintf(text, sizeof text, "%03d", code);
      ++r.rejects_by_code[text].clients;
    }
    for (uint32_t id : c.lists) ++list_clients[id];

    StatsReport::Entry e;
    e.rejects = c.rejects;
    e.dnsbl_hits = c.dnsbl_hits;
    for (size_t i = 0; i < kLogOutcomeCount; ++i) {
      e.outcomes[i] = c.outcomes[i];
      if (IsTestFailure(static_cast<LogOutcome>(i))) e.failures += c.outcomes[i];
    }
    IpAddress net = NetworkOf(address);
    auto [it, fresh] = networks.try_emplace({net.is_v4(), net.bytes()}, Ranked{net, {}});
    StatsReport::Entry& n = it->second.entry;
    if (fresh) {
      n.clients = 0;
      n.name = net.ToString() + (net.is_v4() ? "/24" : "/64");
    }
    ++n.clients;
    n.rejects += e.rejects;
    n.failures += e.failures;
    n.dnsbl_hits += e.dnsbl_hits;
    for (size_t i = 0; i < kLogOutcomeCount; ++i) n.outcomes[i] += e.outcomes[i];
    if (e.rejects || e.failures) listed_clients.push_back(Ranked{address, std::move(e)});
  }
  r.total_networks = networks.size();

  auto rank_less = [](const Ranked& a, const Ranked& b) {
    const auto& x = a.entry;
    const auto& y = b.entry;
    auto connects = [](const StatsReport::Entry& e) {
      return e.outcomes[static_cast<size_t>(LogOutcome::kConnect)];
    };
    if (x.rejects != y.rejects) return x.rejects > y.rejects;
    if (x.failures != y.failures) return x.failures > y.failures;
    if (connects(x) != connects(y)) return connects(x) > connects(y);
    return AddressLess(a.address, b.address);
  };
  auto take_top = [&](std::vector<Ranked>& v, std::vector<StatsReport::Entry>* out) {
    size_t n = top == 0 ? v.size() : std::min(top, v.size());
    std::partial_sort(v.begin(), v.begin() + n, v.end(), rank_less);
    for (size_t i = 0; i < n; ++i) out->push_back(std::move(v[i].entry));
  };
  for (auto& c : listed_clients) c.entry.name = c.address.ToString();
  take_top(listed_clients, &r.top_clients);
  std::vector<Ranked> listed_networks;
  for (auto& [key, n] : networks) {
    if (n.entry.rejects || n.entry.failures) listed_networks.push_back(std::move(n));
  }
  take_top(listed_networks, &r.top_networks);

  for (size_t id = 0; id < lists_.size(); ++id) {
    const List& l = lists_[id];
    StatsReport::Dnsbl d;
    d.domain = l.domain;
    d.hits = l.hits;
    d.clients = list_clients[id];
    d.rejects = l.rejects;
    d.timeouts = l.timeouts;
    d.errors = l.errors;
    for (const auto& [answer, count] : l.answers) d.answers.emplace(answer, count);
    r.dnsbl.push_back(std::move(d));
  }
  std::sort(
      r.dnsbl.begin(), r.dnsbl.end(),
      [](const StatsReport::Dnsbl& a, const StatsReport::Dnsbl& b) { return a.domain < b.domain; });
  return r;
}

}  // namespace mxs

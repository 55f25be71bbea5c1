// log_stats: the parser of postscreen log lines and the aggregation behind
// `mxscreen stats`. Real Postfix postscreen/dnsblog and mxscreen write the
// same lines (docs/operations.md lists them), so one parser reads both.
//
// Pure and streaming: ParseLogLine looks at one line and allocates nothing;
// LogStats keeps counters per distinct client address (plus a few small
// per-list and per-code tables), so its memory grows with the number of
// clients seen, never with the length of the log. No I/O here: the command
// (core/stats_cli.h) reads the files and prints what Report() returns.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ip_address.h"

namespace mxs {

// What a postscreen line says happened to a client. The order is the order
// of the JSON "outcomes" objects; outcomes added after the first version of
// the schema come last, so the keys scripts know keep their places. The
// text report's rows may differ (LogOutcomeTextOrder).
enum class LogOutcome : uint8_t {
  kConnect,
  kPassNew,
  kPassOld,
  kAllowlisted,  // also the older WHITELISTED
  kDenylisted,   // also the older BLACKLISTED
  kPregreet,
  kDnsblRank,
  kPipelining,
  kNonSmtpCommand,
  kBareNewline,
  kHangup,
  kCommandTimeLimit,
  kCommandCountLimit,
  kCommandLengthLimit,
  kDataWithoutRcpt,     // "DATA (or BDAT) without valid RCPT"
  kTooManyConnections,  // NOQUEUE: reject: CONNECT ...: too many connections
  kServerPortsBusy,     // NOQUEUE: reject: CONNECT ...: all server ports busy
  kScreeningPortsBusy,  // reject: connect ...: all screening ports busy
  kDisconnect,
  // "ALLOWLIST VETO [ADDR]:PORT" (older "WHITELIST VETO"): the client reached
  // a local address not in postscreen_allowlist_interfaces (a backup MX), so
  // it could not use, and cannot earn, the temporary allowlist there: it is
  // tested but never handed off from that address.
  kAllowlistVeto,
};
constexpr size_t kLogOutcomeCount = static_cast<size_t>(LogOutcome::kAllowlistVeto) + 1;

// The text report's row order: related rows together (ALLOWLIST VETO after
// ALLOWLISTED), whatever the order they were added to the schema in.
const std::array<LogOutcome, kLogOutcomeCount>& LogOutcomeTextOrder();

// "PASS NEW": the words the log line starts with (the report's row label).
const char* LogOutcomeLabel(LogOutcome outcome);
// "pass_new": the JSON key.
const char* LogOutcomeKey(LogOutcome outcome);
// A failed test (denylisted, pregreet, DNSBL rank, pipelining, non-SMTP
// command, bare newline): what "failures" counts.
bool IsTestFailure(LogOutcome outcome);

// Which program names count. Default: a name that ends in "/postscreen" or
// "/dnsblog" (any Postfix instance, e.g. "postfix-in/postscreen"), or is
// exactly "postscreen" or "dnsblog". Given names replace the default: each
// name counts, and so does its dnsblog sibling ("mx/screen" -> "mx/dnsblog",
// "screen" -> "dnsblog"), which is where mxscreen writes the DNSBL answers
// of a listener with that program_name.
class ProgramFilter {
 public:
  ProgramFilter() = default;
  explicit ProgramFilter(const std::vector<std::string>& names);
  bool Accepts(std::string_view program) const;

 private:
  std::vector<std::string> names_;  // empty: the default rule
};

// One line, taken apart. Views point into the line.
struct LogLine {
  enum class Kind : uint8_t {
    kMalformed,     // not "TIMESTAMP HOST PROGRAM[PID]: MESSAGE"
    kOtherProgram,  // well formed, from a program not selected
    kUnrecognized,  // a selected program, a message not known here
    kOutcome,       // outcome, client (code "421" for the CONNECT-stage rejects)
    kReject,        // NOQUEUE: reject: RCPT: client, code, domain (blocked using)
    kDnsblHit,      // dnsblog "addr A listed by domain D as Z": client, domain, answer
    kDnsblTimeout,  // "warning: dnsblog reply timeout ..s for D": domain
    kDnsblError,    // "warning: dnsblog_query: lookup error for DNS query Q: ...": domain
    kStressOn,      // "entering STRESS mode with N connections"
    kStressOff,     // "leaving STRESS mode with N connections"
    kWarning,       // any other "warning: ..."
    kInfo,          // known, counted nowhere: "cache ... full cleanup: ..."
  };
  Kind kind = Kind::kMalformed;
  LogOutcome outcome = LogOutcome::kConnect;
  std::string_view program;
  std::string_view message;
  IpAddress client;
  std::string_view code;    // "550"
  std::string_view domain;  // the DNSBL domain
  std::string_view answer;  // the DNSBL answer address
};

// Takes one line (without its newline) apart. Accepted timestamps: the
// classic syslog "Mmm dd hh:mm:ss" (day space- or zero-padded, optional
// fraction, as journalctl -o short-precise writes) and RFC 3339
// "2026-12-06T19:39:42.123456+00:00" (journalctl -o short-iso too).
LogLine ParseLogLine(std::string_view line, const ProgramFilter& programs);

// The aggregated view: what the text and JSON reports print.
struct StatsReport {
  struct Count {
    uint64_t events = 0;
    uint64_t clients = 0;  // distinct client addresses with at least one event
  };
  struct Dnsbl {
    std::string domain;
    uint64_t hits = 0;     // dnsblog answers
    uint64_t clients = 0;  // distinct listed clients
    uint64_t rejects = 0;  // NOQUEUE rejects naming it ("blocked using D")
    uint64_t timeouts = 0;
    uint64_t errors = 0;
    std::map<std::string, uint64_t> answers;  // answer address -> count
  };
  // One client (address) or one network ("192.0.2.0/24", "2001:db8::/64").
  struct Entry {
    std::string name;
    uint64_t clients = 1;  // distinct clients (1 for a client)
    uint64_t rejects = 0;
    uint64_t failures = 0;
    uint64_t dnsbl_hits = 0;
    std::array<uint64_t, kLogOutcomeCount> outcomes{};
  };

  uint64_t lines = 0;         // non-empty lines read
  uint64_t counted = 0;       // lines that counted somewhere
  uint64_t unrecognized = 0;  // from a selected program, message unknown
  uint64_t skipped = 0;       // other programs and malformed lines
  uint64_t malformed = 0;     // of skipped: not a syslog line at all
  std::array<Count, kLogOutcomeCount> outcomes{};
  Count rejects;                                 // all rejects
  std::map<std::string, Count> rejects_by_code;  // "550" -> count
  std::vector<Dnsbl> dnsbl;                      // by domain
  uint64_t stress_entered = 0;
  uint64_t stress_left = 0;
  uint64_t warnings = 0;  // warnings other than the DNSBL ones
  uint64_t total_clients = 0;
  uint64_t total_networks = 0;
  std::vector<Entry> top_clients;   // by rejects, failures, connects, then address
  std::vector<Entry> top_networks;  // the same order
};

// The aggregation: feed lines, then ask for the report (any number of times).
class LogStats {
 public:
  explicit LogStats(ProgramFilter programs = ProgramFilter());

  // One line without its newline (a trailing '\r' is ignored). Empty lines
  // are not counted.
  void AddLine(std::string_view line);
  // A line the reader did not keep (longer than it buffers): read, skipped
  // and malformed.
  void AddOversizedLine();

  // top: how many clients and networks to list (0: all with a rejection or a
  // failed test; clients with neither are never listed).
  StatsReport Report(size_t top) const;

  size_t distinct_clients() const { return clients_.size(); }

 private:
  struct AddressHash {
    size_t operator()(const IpAddress& a) const;
  };
  struct Client {
    std::array<uint32_t, kLogOutcomeCount> outcomes{};
    uint32_t rejects = 0;
    uint32_t dnsbl_hits = 0;
    // Small tables; a client meets few codes and few lists.
    std::vector<std::pair<uint16_t, uint32_t>> codes;  // reply code -> rejects
    std::vector<uint32_t> lists;                       // ids of the lists that listed it
  };
  struct List {
    std::string domain;
    uint64_t hits = 0;
    uint64_t rejects = 0;
    uint64_t timeouts = 0;
    uint64_t errors = 0;
    std::map<std::string, uint64_t, std::less<>> answers;
  };

  Client& ClientOf(const IpAddress& address);
  uint32_t ListId(std::string_view domain);

  ProgramFilter programs_;
  uint64_t lines_ = 0, counted_ = 0, unrecognized_ = 0, skipped_ = 0, malformed_ = 0;
  std::array<uint64_t, kLogOutcomeCount> outcome_events_{};
  std::array<uint64_t, 600> code_events_{};  // reply codes 100..599
  uint64_t stress_entered_ = 0, stress_left_ = 0, warnings_ = 0;
  std::unordered_map<IpAddress, Client, AddressHash> clients_;
  std::vector<List> lists_;
  std::unordered_map<std::string, uint32_t> list_ids_;
};

// The report for people: fixed columns, one section per table.
std::string FormatStatsText(const StatsReport& report);
// The report for scripts: the JSON documented in docs/operations.md
// ("schema": "mxscreen-stats/1"), keys in a fixed order, one line.
std::string FormatStatsJson(const StatsReport& report);

}  // namespace mxs

// Fuzz target: the postscreen log line parser and the `mxscreen stats`
// aggregation (core/log_stats.h). The input is a log: its lines go through
// ParseLogLine (default and custom program selection) and LogStats, then both
// reports are rendered. Checked: every view the parser returns lies inside
// its line, a line that counts names a client or a list as its kind says,
// the JSON holds no raw control byte (the escaping works) and the counters
// add up.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/log_stats.h"

using mxs::LogLine;
using mxs::LogStats;
using mxs::ProgramFilter;

// A failed check names its line: the crash report says which invariant broke.
#define Check(ok)                                                       \
  do {                                                                  \
    if (!(ok)) {                                                        \
      std::fprintf(stderr, "log_line_fuzz.cc:%d: %s\n", __LINE__, #ok); \
      std::abort();                                                     \
    }                                                                   \
  } while (0)

static bool Inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const ProgramFilter kDefault;
  static const ProgramFilter kCustom({"mx/screen", "gate"});
  LogStats stats;
  uint64_t lines = 0;
  while (!input.empty()) {
    size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    for (const ProgramFilter* f : {&kDefault, &kCustom}) {
      LogLine l = mxs::ParseLogLine(line, *f);
      Check(Inside(l.program, line) && Inside(l.message, line) && Inside(l.domain, line) &&
            Inside(l.answer, line));
      // The CONNECT-stage rejects carry the 421 their lines do not show.
      Check(Inside(l.code, line) || (l.kind == LogLine::Kind::kOutcome && l.code == "421"));
      if (l.kind == LogLine::Kind::kReject) Check(l.code.size() == 3);
      if (l.kind == LogLine::Kind::kDnsblHit) Check(!l.domain.empty() && !l.answer.empty());
      if (l.kind == LogLine::Kind::kDnsblTimeout || l.kind == LogLine::Kind::kDnsblError) {
        Check(!l.domain.empty() && l.domain.size() <= 255);
      }
    }
    std::string_view trimmed = line;
    if (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
    if (!trimmed.empty()) ++lines;
    stats.AddLine(line);
  }
  mxs::StatsReport r = stats.Report(3);
  Check(r.lines == lines);
  Check(r.counted + r.skipped + r.unrecognized == r.lines);
  Check(r.malformed <= r.skipped);
  Check(r.top_clients.size() <= 3 && r.top_networks.size() <= 3);
  Check(r.total_clients == stats.distinct_clients());
  std::string json = mxs::FormatStatsJson(r);
  Check(json.size() >= 2 && json.substr(json.size() - 2) == "}\n");
  for (size_t i = 0; i + 1 < json.size(); ++i) {
    Check(static_cast<unsigned char>(json[i]) >= 0x20 &&
          static_cast<unsigned char>(json[i]) < 0x7f);
  }
  std::string text = mxs::FormatStatsText(r);
  Check(!text.empty());
  return 0;
}

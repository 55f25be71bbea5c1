// log_stats_report: the two renderings of a StatsReport. The text is for
// people (aligned tables); the JSON is for scripts, so its keys, their order
// and their meaning are a documented interface (docs/operations.md,
// "schema": "mxscreen-stats/1"): add keys, never rename or drop them.
#include <algorithm>
#include <string>
#include <vector>

#include "core/json_string.h"
#include "core/log_stats.h"

namespace mxs {
namespace {

// A table: first column left-aligned names, then right-aligned numbers;
// every column as wide as its widest cell, two spaces apart.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Row(std::string name, std::vector<uint64_t> values) {
    std::vector<std::string> row{std::move(name)};
    for (uint64_t v : values) row.push_back(std::to_string(v));
    rows_.push_back(std::move(row));
  }
  void Render(std::string* out) const {
    std::vector<size_t> width(header_.size());
    for (size_t i = 0; i < header_.size(); ++i) width[i] = header_[i].size();
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
        width[i] = std::max(width[i], row[i].size());
      }
    }
    auto line = [&](const std::vector<std::string>& cells) {
      std::string l = cells[0] + std::string(width[0] - cells[0].size(), ' ');
      for (size_t i = 1; i < cells.size(); ++i) {
        l += "  " + std::string(width[i] - cells[i].size(), ' ') + cells[i];
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      *out += l + "\n";
    };
    line(header_);
    if (rows_.empty()) *out += "(none)\n";
    for (const auto& row : rows_) line(row);
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

uint64_t Connects(const StatsReport::Entry& e) {
  return e.outcomes[static_cast<size_t>(LogOutcome::kConnect)];
}

// Raw log bytes, escaped byte for byte (a log is not promised to be UTF-8).
void JsonString(std::string_view s, std::string* out) {
  AppendJsonString(s, JsonNonAscii::kEscapeBytes, out);
}

void JsonKey(std::string_view key, std::string* out) {
  JsonString(key, out);
  *out += ':';
}

void JsonNumber(std::string_view key, uint64_t v, std::string* out) {
  JsonKey(key, out);
  *out += std::to_string(v);
}

void JsonCount(std::string_view key, const StatsReport::Count& c, std::string* out) {
  JsonKey(key, out);
  *out += "{";
  JsonNumber("events", c.events, out);
  *out += ",";
  JsonNumber("clients", c.clients, out);
  *out += "}";
}

void JsonEntry(std::string_view name_key, const StatsReport::Entry& e, bool network,
               std::string* out) {
  *out += "{";
  JsonKey(name_key, out);
  JsonString(e.name, out);
  if (network) {
    *out += ",";
    JsonNumber("clients", e.clients, out);
  }
  *out += ",";
  JsonNumber("rejects", e.rejects, out);
  *out += ",";
  JsonNumber("failures", e.failures, out);
  *out += ",";
  JsonNumber("dnsbl_hits", e.dnsbl_hits, out);
  *out += ",";
  JsonKey("outcomes", out);
  *out += "{";
  for (size_t i = 0; i < kLogOutcomeCount; ++i) {
    if (i) *out += ",";
    JsonNumber(LogOutcomeKey(static_cast<LogOutcome>(i)), e.outcomes[i], out);
  }
  *out += "}}";
}

}  // namespace

std::string FormatStatsText(const StatsReport& r) {
  std::string out;
  out += "lines: " + std::to_string(r.lines) + " read, " + std::to_string(r.counted) +
         " counted, " + std::to_string(r.skipped) + " skipped (" + std::to_string(r.malformed) +
         " malformed), " + std::to_string(r.unrecognized) + " unrecognized\n";
  out += "clients: " + std::to_string(r.total_clients) + " in " + std::to_string(r.total_networks) +
         " networks (/24, /64)\n\n";

  Table outcomes({"outcome", "events", "clients"});
  for (LogOutcome o : LogOutcomeTextOrder()) {
    const auto& c = r.outcomes[static_cast<size_t>(o)];
    outcomes.Row(LogOutcomeLabel(o), {c.events, c.clients});
  }
  outcomes.Render(&out);

  out += "\n";
  Table rejects({"rejects by reply code", "events", "clients"});
  for (const auto& [code, c] : r.rejects_by_code) rejects.Row(code, {c.events, c.clients});
  if (!r.rejects_by_code.empty()) rejects.Row("total", {r.rejects.events, r.rejects.clients});
  rejects.Render(&out);

  out += "\n";
  Table dnsbl({"DNSBL list", "hits", "clients", "rejects", "timeouts", "errors"});
  for (const auto& d : r.dnsbl) {
    dnsbl.Row(d.domain, {d.hits, d.clients, d.rejects, d.timeouts, d.errors});
  }
  dnsbl.Render(&out);
  for (const auto& d : r.dnsbl) {
    for (const auto& [answer, count] : d.answers) {
      out += d.domain + " answered " + answer + ": " + std::to_string(count) + "\n";
    }
  }

  out += "\n";
  out += "stress mode: entered " + std::to_string(r.stress_entered) + ", left " +
         std::to_string(r.stress_left) + "; other warnings: " + std::to_string(r.warnings) + "\n\n";

  Table clients({"top clients", "rejects", "failures", "connects", "dnsbl hits"});
  for (const auto& e : r.top_clients) {
    clients.Row(e.name, {e.rejects, e.failures, Connects(e), e.dnsbl_hits});
  }
  clients.Render(&out);

  out += "\n";
  Table networks({"top networks", "clients", "rejects", "failures", "connects", "dnsbl hits"});
  for (const auto& e : r.top_networks) {
    networks.Row(e.name, {e.clients, e.rejects, e.failures, Connects(e), e.dnsbl_hits});
  }
  networks.Render(&out);
  return out;
}

std::string FormatStatsJson(const StatsReport& r) {
  std::string out = "{";
  JsonKey("schema", &out);
  JsonString("mxscreen-stats/1", &out);
  out += ",";
  JsonKey("lines", &out);
  out += "{";
  JsonNumber("read", r.lines, &out);
  out += ",";
  JsonNumber("counted", r.counted, &out);
  out += ",";
  JsonNumber("unrecognized", r.unrecognized, &out);
  out += ",";
  JsonNumber("skipped", r.skipped, &out);
  out += ",";
  JsonNumber("malformed", r.malformed, &out);
  out += "},";

  JsonKey("outcomes", &out);
  out += "{";
  for (size_t i = 0; i < kLogOutcomeCount; ++i) {
    if (i) out += ",";
    JsonCount(LogOutcomeKey(static_cast<LogOutcome>(i)), r.outcomes[i], &out);
  }
  out += "},";

  JsonKey("rejects", &out);
  out += "{";
  JsonNumber("events", r.rejects.events, &out);
  out += ",";
  JsonNumber("clients", r.rejects.clients, &out);
  out += ",";
  JsonKey("by_code", &out);
  out += "{";
  bool first = true;
  for (const auto& [code, c] : r.rejects_by_code) {
    if (!first) out += ",";
    first = false;
    JsonCount(code, c, &out);
  }
  out += "}},";

  JsonKey("dnsbl", &out);
  out += "[";
  for (size_t i = 0; i < r.dnsbl.size(); ++i) {
    const auto& d = r.dnsbl[i];
    if (i) out += ",";
    out += "{";
    JsonKey("domain", &out);
    JsonString(d.domain, &out);
    out += ",";
    JsonNumber("hits", d.hits, &out);
    out += ",";
    JsonNumber("clients", d.clients, &out);
    out += ",";
    JsonNumber("rejects", d.rejects, &out);
    out += ",";
    JsonNumber("timeouts", d.timeouts, &out);
    out += ",";
    JsonNumber("errors", d.errors, &out);
    out += ",";
    JsonKey("answers", &out);
    out += "{";
    bool first_answer = true;
    for (const auto& [answer, count] : d.answers) {
      if (!first_answer) out += ",";
      first_answer = false;
      JsonNumber(answer, count, &out);
    }
    out += "}}";
  }
  out += "],";

  JsonKey("stress", &out);
  out += "{";
  JsonNumber("entered", r.stress_entered, &out);
  out += ",";
  JsonNumber("left", r.stress_left, &out);
  out += "},";
  JsonNumber("warnings", r.warnings, &out);
  out += ",";

  for (bool network : {false, true}) {
    JsonKey(network ? "networks" : "clients", &out);
    out += "{";
    JsonNumber("total", network ? r.total_networks : r.total_clients, &out);
    out += ",";
    JsonKey("top", &out);
    out += "[";
    const auto& top = network ? r.top_networks : r.top_clients;
    for (size_t i = 0; i < top.size(); ++i) {
      if (i) out += ",";
      JsonEntry(network ? "network" : "address", top[i], network, &out);
    }
    out += "]}";
    if (!network) out += ",";
  }
  out += "}\n";
  return out;
}

}  // namespace mxs

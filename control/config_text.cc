// config_text: JSON rendering, change summaries, line diffs.
#include "control/config_text.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

namespace mxs::control {

namespace pb = google::protobuf;

std::string ConfigToJson(const config::v1::Bootstrap& config) {
  pb::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  std::string out;
  auto st = pb::util::MessageToJsonString(config, &out, o);
  if (!st.ok()) return "(cannot render: " + std::string(st.message()) + ")\n";
  return out;
}

namespace {
bool Same(const pb::Message& a, const pb::Message& b) {
  return pb::util::MessageDifferencer::Equals(a, b);
}

// Top-level fields of a message that differ, by name.
std::vector<std::string> ChangedFields(const pb::Message& a, const pb::Message& b,
                                       const std::vector<std::string>& skip) {
  std::vector<std::string> out;
  const pb::Descriptor* d = a.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (std::find(skip.begin(), skip.end(), f->name()) != skip.end()) continue;
    pb::util::MessageDifferencer diff;
    std::vector<const pb::FieldDescriptor*> only = {f};
    if (!diff.CompareWithFields(a, b, only, only)) out.push_back(f->name());
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}
}  // namespace

std::string SummarizeChange(const config::v1::Bootstrap* before,
                            const config::v1::Bootstrap& after) {
  if (before == nullptr) {
    std::vector<std::string> names;
    size_t filters = 0;
    for (const auto& l : after.listeners()) {
      names.push_back((l.name().empty() ? "smtp" : l.name()) + " on " + l.address());
      filters += l.filters_size();
    }
    return "first version: " + std::to_string(after.listeners_size()) + " listener(s) (" +
           Join(names, ", ") + "), " + std::to_string(filters) + " filter(s)";
  }
  if (Same(*before, after)) return "no change";
  std::vector<std::string> parts;
  for (const auto& f : ChangedFields(*before, after, {"listeners"}))
    parts.push_back(f + " changed");
  std::map<std::string, const config::v1::Listener*> old_by_name;
  for (const auto& l : before->listeners()) old_by_name[l.name().empty() ? "smtp" : l.name()] = &l;
  for (const auto& l : after.listeners()) {
    std::string name = l.name().empty() ? "smtp" : l.name();
    auto it = old_by_name.find(name);
    if (it == old_by_name.end()) {
      parts.push_back("listener " + name + " added on " + l.address());
      continue;
    }
    const config::v1::Listener& o = *it->second;
    old_by_name.erase(it);
    if (Same(o, l)) continue;
    std::vector<std::string> what;
    if (o.address() != l.address()) what.push_back("moved " + o.address() + " -> " + l.address());
    for (const auto& f : ChangedFields(o, l, {"address", "filters", "name"})) {
      what.push_back(f + " changed");
    }
    // Filters by name: added, removed, changed.
    std::map<std::string, const config::v1::FilterEntry*> of;
    for (const auto& fe : o.filters()) of[fe.name()] = &fe;
    std::vector<std::string> added, changed, removed;
    for (const auto& fe : l.filters()) {
      auto fi = of.find(fe.name());
      if (fi == of.end()) {
        added.push_back(fe.name());
      } else {
        if (!Same(*fi->second, fe)) changed.push_back(fe.name());
        of.erase(fi);
      }
    }
    for (const auto& [n, fe] : of) removed.push_back(n);
    if (!added.empty()) what.push_back("filters added: " + Join(added, ", "));
    if (!removed.empty()) what.push_back("filters removed: " + Join(removed, ", "));
    if (!changed.empty()) what.push_back("filters changed: " + Join(changed, ", "));
    if (what.empty()) what.push_back("filter order changed");
    parts.push_back("listener " + name + ": " + Join(what, ", "));
  }
  for (const auto& [n, l] : old_by_name) parts.push_back("listener " + n + " removed");
  return Join(parts, "; ");
}

namespace {
std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}
}  // namespace

std::string UnifiedDiff(const std::string& a, const std::string& b, const std::string& a_label,
                        const std::string& b_label) {
  if (a == b) return "";
  const auto x = Lines(a), y = Lines(b);
  const size_t n = x.size(), m = y.size();
  struct Op {
    char kind;  // ' ', '-', '+'
    size_t i, j;
  };
  std::vector<Op> ops;
  // The lines both sides start and end with need no table; a change to a
  // big inline table is usually a few lines in the middle.
  size_t head = 0, tail = 0;
  while (head < n && head < m && x[head] == y[head]) ++head;
  while (tail < n - head && tail < m - head && x[n - 1 - tail] == y[m - 1 - tail]) ++tail;
  const size_t xn = n - tail, ym = m - tail;  // the middle is [head, xn) and [head, ym)
  for (size_t k = 0; k < head; ++k) ops.push_back({' ', k, k});
  // Longest common subsequence of the middles. Past ~16M cells (64 MB) the
  // middle is shown as all removed, then all added: still a correct diff.
  const size_t rows = xn - head, cols = ym - head;
  std::vector<std::vector<uint32_t>> lcs;
  if (rows * cols <= (16u << 20)) {
    lcs.assign(rows + 1, std::vector<uint32_t>(cols + 1, 0));
    for (size_t r = rows; r-- > 0;) {
      for (size_t c = cols; c-- > 0;) {
        lcs[r][c] = x[head + r] == y[head + c] ? lcs[r + 1][c + 1] + 1
                                               : std::max(lcs[r + 1][c], lcs[r][c + 1]);
      }
    }
  }
  auto keep_left = [&](size_t i, size_t j) {  // prefer '-' at i over '+' at j
    if (lcs.empty()) return i < xn;
    return i < xn && (j == ym || lcs[i - head + 1][j - head] >= lcs[i - head][j - head + 1]);
  };
  size_t i = head, j = head;
  while (i < xn || j < ym) {
    if (!lcs.empty() && i < xn && j < ym && x[i] == y[j]) {
      ops.push_back({' ', i++, j++});
    } else if (keep_left(i, j)) {
      ops.push_back({'-', i++, j});
    } else {
      ops.push_back({'+', i, j++});
    }
  }
  for (size_t k = 0; k < tail; ++k) ops.push_back({' ', xn + k, ym + k});
  std::ostringstream out;
  out << "--- " << a_label << "\n+++ " << b_label << "\n";
  const size_t kContext = 3;
  std::vector<size_t> changes;
  for (size_t q = 0; q < ops.size(); ++q) {
    if (ops[q].kind != ' ') changes.push_back(q);
  }
  for (size_t c = 0; c < changes.size();) {
    // One hunk: changes less than 2*kContext unchanged lines apart, with
    // kContext lines around them.
    size_t last = c;
    while (last + 1 < changes.size() && changes[last + 1] - changes[last] <= 2 * kContext + 1) {
      ++last;
    }
    size_t start = changes[c] >= kContext ? changes[c] - kContext : 0;
    size_t end = std::min(ops.size(), changes[last] + kContext + 1);
    size_t a_len = 0, b_len = 0;
    for (size_t q = start; q < end; ++q) {
      if (ops[q].kind != '+') ++a_len;
      if (ops[q].kind != '-') ++b_len;
    }
    out << "@@ -" << (ops[start].i + 1) << "," << a_len << " +" << (ops[start].j + 1) << ","
        << b_len << " @@\n";
    for (size_t q = start; q < end; ++q) {
      out << ops[q].kind << (ops[q].kind == '+' ? y[ops[q].j] : x[ops[q].i]) << "\n";
    }
    c = last + 1;
  }
  return out.str();
}

}  // namespace mxs::control

// cidr_table: parsing (Postfix cidr_table(5) syntax as postscreen uses it) and
// first-match lookup.
#include "filters/access_cidr/cidr_table.h"

#include <strings.h>

#include <fstream>
#include <stdexcept>

namespace mxs::access_cidr {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

CidrTable CidrTable::Parse(const std::vector<std::string>& raw_lines, const std::string& source) {
  CidrTable table;
  // Postfix joins a line that starts with white space onto the previous one.
  std::vector<std::pair<int, std::string>> logical;
  for (size_t i = 0; i < raw_lines.size(); ++i) {
    const std::string& line = raw_lines[i];
    std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    if ((line[0] == ' ' || line[0] == '\t') && !logical.empty()) {
      logical.back().second += " " + trimmed;
    } else {
      logical.emplace_back(static_cast<int>(i + 1), trimmed);
    }
  }
  for (const auto& [number, text] : logical) {
    auto fail = [&, n = number](const std::string& why) {
      throw std::invalid_argument(source + ", line " + std::to_string(n) + ": " + why);
    };
    size_t sp = text.find_first_of(" \t");
    if (sp == std::string::npos) fail("expected \"network/prefix action\", got \"" + text + "\"");
    std::string net = text.substr(0, sp);
    std::string action = Trim(text.substr(sp));
    if (strcasecmp(net.c_str(), "if") == 0 || strcasecmp(net.c_str(), "endif") == 0) {
      fail("if/endif blocks are not supported");
    }
    std::string error;
    auto cidr = Cidr::Parse(net, &error);
    if (!cidr) fail(error);
    TableAction a = TableAction::kDunno;  // set below, or fail() throws
    if (strcasecmp(action.c_str(), "permit") == 0) {
      a = TableAction::kPermit;
    } else if (strcasecmp(action.c_str(), "reject") == 0) {
      a = TableAction::kReject;
    } else if (strcasecmp(action.c_str(), "dunno") == 0) {
      a = TableAction::kDunno;
    } else {
      fail("unknown action \"" + action + "\" (expected permit, reject or dunno)");
    }
    table.rules_.push_back({*cidr, a});
  }
  return table;
}

CidrTable CidrTable::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot open the table");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return Parse(lines, path);
}

std::optional<TableAction> CidrTable::Match(const IpAddress& addr) const {
  for (const auto& r : rules_) {
    if (r.network.Contains(addr)) return r.action;
  }
  return std::nullopt;
}

}  // namespace mxs::access_cidr

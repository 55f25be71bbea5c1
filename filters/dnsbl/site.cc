// dnsbl site: the postscreen_dnsbl_sites syntax (see site.h). The grammar:
//   site    = domain [ "=" filter ] [ "*" weight ]
//   filter  = octet "." octet "." octet "." octet
//   octet   = number | "[" item *( ";" item ) "]"
//   item    = number [ ".." number ]          ; 0..255, n <= m
//   weight  = [ "-" | "+" ] digits            ; default 1
#include "filters/dnsbl/site.h"

#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace mxs::dnsbl {
namespace {

constexpr int kMaxWeight = 1000000;

[[noreturn]] void Bad(std::string_view text, const std::string& why) {
  throw std::invalid_argument("bad DNSBL site \"" + std::string(text) + "\": " + why);
}

// A decimal 0..255 at text[*pos]; advances *pos.
int ParseNumber(std::string_view entry, std::string_view s, size_t* pos) {
  size_t start = *pos;
  int v = 0;
  while (*pos < s.size() && std::isdigit(static_cast<unsigned char>(s[*pos]))) {
    v = v * 10 + (s[*pos] - '0');
    if (v > 255) Bad(entry, "octet value above 255 in filter");
    ++*pos;
  }
  if (*pos == start) {
    Bad(entry, "expected a number at \"" + std::string(s.substr(start)) + "\" in filter");
  }
  return v;
}

std::bitset<256> ParseOctet(std::string_view entry, std::string_view s, size_t* pos) {
  std::bitset<256> set;
  if (*pos < s.size() && s[*pos] == '[') {
    ++*pos;
    for (;;) {
      int lo = ParseNumber(entry, s, pos);
      int hi = lo;
      if (s.substr(*pos, 2) == "..") {
        *pos += 2;
        hi = ParseNumber(entry, s, pos);
        if (hi < lo)
          Bad(entry, "range " + std::to_string(lo) + ".." + std::to_string(hi) +
                         " runs backwards in filter");
      }
      for (int v = lo; v <= hi; ++v) set.set(v);
      if (*pos < s.size() && s[*pos] == ';') {
        ++*pos;
        continue;
      }
      if (*pos < s.size() && s[*pos] == ']') {
        ++*pos;
        return set;
      }
      Bad(entry, "expected \";\" or \"]\" in filter");
    }
  }
  set.set(ParseNumber(entry, s, pos));
  return set;
}

void CheckDomain(std::string_view entry, std::string_view d) {
  if (d.empty()) Bad(entry, "no domain");
  if (d.size() > 190) Bad(entry, "domain longer than 190 characters");
  size_t label = 0;
  for (size_t i = 0; i <= d.size(); ++i) {
    if (i == d.size() || d[i] == '.') {
      if (label == 0) Bad(entry, "empty label in domain");
      if (label > 63) Bad(entry, "label longer than 63 characters in domain");
      label = 0;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (!std::isalnum(c) && c != '-' && c != '_') {
      Bad(entry, std::string("character '") + static_cast<char>(c) + "' not allowed in domain");
    }
    ++label;
  }
}

}  // namespace

Site ParseSite(std::string_view text) {
  Site site;
  site.text = std::string(text);
  std::string_view rest = text;
  size_t star = rest.find('*');
  if (star != std::string_view::npos) {
    std::string_view w = rest.substr(star + 1);
    rest = rest.substr(0, star);
    size_t i = 0;
    bool negative = false;
    if (i < w.size() && (w[i] == '-' || w[i] == '+')) negative = w[i++] == '-';
    if (i == w.size()) Bad(text, "no weight after \"*\"");
    long v = 0;
    for (; i < w.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(w[i]))) {
        Bad(text, "weight \"" + std::string(w) + "\" is not an integer");
      }
      v = v * 10 + (w[i] - '0');
      if (v > kMaxWeight) Bad(text, "weight beyond +-" + std::to_string(kMaxWeight));
    }
    site.weight = static_cast<int>(negative ? -v : v);
  }
  size_t eq = rest.find('=');
  std::string_view domain = rest.substr(0, eq);
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  CheckDomain(text, domain);
  for (char c : domain) {
    site.domain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (eq != std::string_view::npos) {
    std::string_view f = rest.substr(eq + 1);
    if (f.empty()) Bad(text, "empty filter after \"=\"");
    size_t pos = 0;
    for (int o = 0; o < 4; ++o) {
      if (o > 0) {
        if (pos >= f.size() || f[pos] != '.') Bad(text, "filter needs four octets");
        ++pos;
      }
      site.octets[o] = ParseOctet(text, f, &pos);
    }
    if (pos != f.size())
      Bad(text, "unexpected \"" + std::string(f.substr(pos)) + "\" after filter");
    site.has_filter = true;
  }
  return site;
}

bool Site::FilterMatches(uint32_t addr) const {
  if (!has_filter) return false;
  for (int o = 0; o < 4; ++o) {
    if (!octets[o].test((addr >> (24 - 8 * o)) & 0xff)) return false;
  }
  return true;
}

bool Site::Matches(uint32_t addr) const {
  return has_filter ? FilterMatches(addr) : !IsErrorCode(addr);
}

bool IsErrorCode(uint32_t addr) { return (addr & 0xffffff00u) == 0x7fffff00u; }

std::string ReverseName(const IpAddress& client) {
  const auto& b = client.bytes();
  std::string out;
  if (client.is_v4()) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[3], b[2], b[1], b[0]);
    return buf;
  }
  static const char kHex[] = "0123456789abcdef";
  out.reserve(63);
  for (int i = 15; i >= 0; --i) {
    out += kHex[b[i] & 0xf];
    out += '.';
    out += kHex[b[i] >> 4];
    if (i > 0) out += '.';
  }
  return out;
}

std::string FormatIpv4(uint32_t a) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
                a & 0xff);
  return buf;
}

}  // namespace mxs::dnsbl

// admin_http: request-target and Authorization helpers.
#include "core/admin_http.h"

#include <cctype>

namespace mxs {
namespace {

constexpr size_t kMaxTarget = 4096;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; '+' stays '+' (a query of ours never carries spaces, and
// an IPv6 address never has '+'). False on a bad escape or a NUL.
bool Decode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi << 4 | lo);
      i += 2;
    }
    if (c == '\0') return false;
    out->push_back(c);
  }
  return true;
}

}  // namespace

std::optional<AdminTarget> ParseAdminTarget(std::string_view target) {
  if (target.empty() || target.size() > kMaxTarget || target[0] != '/') return std::nullopt;
  auto hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  AdminTarget out;
  auto q = target.find('?');
  if (!Decode(target.substr(0, q), &out.path)) return std::nullopt;
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string name, value;
    if (!Decode(pair.substr(0, eq), &name)) return std::nullopt;
    if (eq != std::string_view::npos && !Decode(pair.substr(eq + 1), &value)) return std::nullopt;
    out.query[name] = value;
  }
  return out;
}

std::optional<std::string_view> ParseBearer(std::string_view h) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  h = trim(h);
  constexpr std::string_view kScheme = "bearer";
  if (h.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) != kScheme[i]) return std::nullopt;
  }
  if (h[kScheme.size()] != ' ' && h[kScheme.size()] != '\t') return std::nullopt;
  std::string_view token = trim(h.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return std::nullopt;
    }
  }
  return token;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Walk the longer length so a short guess costs as much as a long one.
  size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  // Keep the compiler from turning the loop into an early-exit compare.
  volatile unsigned sink = diff;
  return sink == 0;
}

}  // namespace mxs

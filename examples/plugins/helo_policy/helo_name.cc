// helo_name: the HELO name rules (see helo_name.h for what they are).
#include "helo_name.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

namespace helo_policy {
namespace {

bool IsIpv4(const std::string& text) {
  in_addr a;
  return inet_pton(AF_INET, text.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& text) {
  in6_addr a;
  return inet_pton(AF_INET6, text.c_str(), &a) == 1;
}

// "[192.0.2.1]" or "[IPv6:2001:db8::1]" (the tag in any case).
bool WellFormedLiteral(std::string_view name) {
  std::string inner(name.substr(1, name.size() - 2));
  if (inner.size() > 5 && strncasecmp(inner.c_str(), "IPv6:", 5) == 0) {
    return IsIpv6(inner.substr(5));
  }
  return IsIpv4(inner);
}

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Postfix's valid_hostname() rules; `name` without its trailing dot.
bool ValidHostname(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  bool non_numeric = false;
  size_t label = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '.') {
      if (label == 0) return false;  // leading dot or ".."
      label = 0;
      continue;
    }
    if (!IsLabelChar(c)) return false;
    if (c < '0' || c > '9') non_numeric = true;
    if (c == '-' && (label == 0 || i + 1 == name.size() || name[i + 1] == '.')) return false;
    if (++label > 63) return false;
  }
  return label > 0 && non_numeric;
}

}  // namespace

Judgement Judge(std::string_view name) {
  Judgement j;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    j.address_literal = WellFormedLiteral(name);
    j.invalid = !j.address_literal;
    j.non_fqdn = !j.address_literal;
    return j;
  }
  std::string text(name);
  j.bare_ip = text.find('\0') == std::string::npos && (IsIpv4(text) || IsIpv6(text));
  // Like Postfix, drop one trailing dot but not two ("a.example." is fine).
  std::string_view test = name;
  if (test.size() >= 2 && test.back() == '.' && test[test.size() - 2] != '.') {
    test.remove_suffix(1);
  }
  bool valid = ValidHostname(test);
  j.invalid = !valid;
  j.non_fqdn = !valid || test.find('.') == std::string_view::npos;
  return j;
}

std::string Printable(std::string_view name) {
  std::string out(name.substr(0, 100));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace helo_policy

// helo_name: what kind of name a client gave in HELO/EHLO, judged the way
// Postfix's smtpd_helo_restrictions judge it (reject_invalid_helo_hostname,
// reject_non_fqdn_helo_hostname), for the helo_policy example plugin.
// Standard library and inet_pton only.
#pragma once

#include <string>
#include <string_view>

namespace helo_policy {

// The checks a name can fail, in the order the plugin reports them.
enum class Check { kBareIp, kInvalid, kNonFqdn };

struct Judgement {
  bool address_literal = false;  // "[192.0.2.1]", "[IPv6:2001:db8::1]", well formed
  bool bare_ip = false;          // an IP address without brackets
  bool invalid = false;          // not a valid hostname (Postfix's valid_hostname) nor a
                                 // well-formed address literal
  bool non_fqdn = false;         // neither a valid hostname with a dot nor an address literal
  bool Fails(Check c) const {
    return c == Check::kBareIp ? bare_ip : c == Check::kInvalid ? invalid : non_fqdn;
  }
};

// Judges the HELO/EHLO argument (surrounding blanks already removed).
//  - An address literal that is well formed passes every check (RFC 5321
//    4.1.3: a client without a name sends one); a malformed one is invalid.
//  - One trailing dot is ignored, as Postfix does ("mail.example.com.").
//  - A valid hostname: at most 255 bytes, labels of 1 to 63 letters, digits,
//    '-' or '_' (no '-' at either end), separated by single dots, and not
//    all digits and dots ("192.0.2.1" is not a hostname).
//  - A bare IP (192.0.2.1, 2001:db8::1) is therefore also invalid and not
//    fully qualified: with only non_fqdn enabled it still fails, as with
//    Postfix's reject_non_fqdn_helo_hostname alone.
Judgement Judge(std::string_view name);

// The name as it may appear in a reply or log line: printable ASCII kept,
// every other byte '?', cut to 100 bytes (Postfix writes "%.100s").
std::string Printable(std::string_view name);

}  // namespace helo_policy

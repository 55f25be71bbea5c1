// admin_http: the small parsers of the admin server's requests: a request
// target into its path and query, and the Authorization header (its JSON
// answers are escaped by core/json_string.h). Free of Beast so the fuzz target and unit
// tests reach them without a socket (tests/fuzz/admin_http_fuzz.cc).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mxs {

struct AdminTarget {
  std::string path;                          // percent-decoded, e.g. "/verdicts/::1"
  std::map<std::string, std::string> query;  // decoded; a repeated name keeps the last
};

// "/verdicts/192.0.2.1?listener=smtp" -> path and query. nullopt for a
// target that is not an origin-form path ("*", "http://..."), a bad or NUL
// percent escape, or one longer than 4096 bytes.
std::optional<AdminTarget> ParseAdminTarget(std::string_view target);

// The token of "Bearer TOKEN" (scheme case-insensitive, spaces around the
// token allowed); nullopt for any other credential or a malformed header.
std::optional<std::string_view> ParseBearer(std::string_view authorization);

// Equality whose running time depends on the lengths only, not on where
// the bytes first differ (a token compare must not leak a prefix).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace mxs

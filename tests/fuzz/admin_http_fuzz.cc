// Fuzz target: the admin server's request parsers (core/admin_http.h) and
// the handler's routing and access rules behind them (core/admin_handler.h),
// and the JSON string escaper (core/json_string.h).
// The input is "METHOD\nTARGET\nAUTHORIZATION": each line goes where an HTTP
// request's would. Checked: nothing crashes; a parsed path starts with '/'
// and holds no NUL; a bearer token is non-empty printable ASCII; JsonString
// output is valid for a JSON reader (no raw control bytes; pure ASCII when
// every non-ASCII byte is escaped); without the right token a DELETE never
// succeeds and a GET succeeds only for the probes and the dashboard's files.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/admin_assets.h"
#include "core/admin_handler.h"
#include "core/admin_http.h"
#include "core/json_string.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

class NoBackend : public mxs::AdminBackend {
 public:
  std::string NotReadyReason() override { return ""; }
  std::string ConfigDumpJson() override { return "{}"; }
  std::shared_ptr<mxs::VerdictStore> StoreOf(const std::string&, std::string*,
                                             std::string* error) override {
    *error = "no store";
    return nullptr;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl1 = in.find('\n');
  std::string_view method = in.substr(0, nl1);
  std::string_view rest = nl1 == std::string_view::npos ? "" : in.substr(nl1 + 1);
  auto nl2 = rest.find('\n');
  std::string_view target = rest.substr(0, nl2);
  std::string_view auth = nl2 == std::string_view::npos ? "" : rest.substr(nl2 + 1);

  if (auto t = mxs::ParseAdminTarget(target)) {
    Check(!t->path.empty() && t->path[0] == '/');
    Check(t->path.find('\0') == std::string::npos);
  }
  if (auto b = mxs::ParseBearer(auth)) {
    Check(!b->empty());
    for (char c : *b)
      Check(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f);
  }
  std::string json = mxs::JsonString(in);
  Check(json.size() >= 2 && json.front() == '"' && json.back() == '"');
  for (char c : json) Check(static_cast<unsigned char>(c) >= 0x20);
  std::string bytes = mxs::JsonString(in, mxs::JsonNonAscii::kEscapeBytes);
  for (char c : bytes)
    Check(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);

  NoBackend backend;
  mxs::AdminConfig config;
  config.bearer_token = "fuzz-token";
  mxs::AdminRequest req;
  req.method = std::string(method);
  req.target = std::string(target);
  req.has_authorization = nl2 != std::string_view::npos;
  req.authorization = std::string(auth);
  mxs::AdminResponse r = mxs::HandleAdminRequest(req, config, backend);
  Check(r.status >= 200 && r.status < 600);
  auto token = mxs::ParseBearer(auth);
  bool authenticated = req.has_authorization && token && *token == "fuzz-token";
  if (!authenticated && r.status == 200) {
    Check(method == "GET");
    auto t = mxs::ParseAdminTarget(target);
    // Only the probes and the dashboard's own files (which hold no data) are
    // public; every data endpoint needs the token.
    Check(t && (t->path == "/healthz" || t->path == "/ready" ||
                mxs::FindAdminAsset(t->path) != nullptr));
  }
  return 0;
}

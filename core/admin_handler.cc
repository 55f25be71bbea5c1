// admin_handler: routing, access control and the JSON of the admin endpoints.
#include "core/admin_handler.h"

#include <ctime>

#include "core/admin_assets.h"
#include "core/admin_http.h"
#include "core/json_string.h"
#include "core/logger.h"
#include "core/metrics.h"
#include "core/verdict_store.h"

namespace mxs {
namespace {

constexpr const char* kJson = "application/json";

AdminResponse Text(int status, std::string body) {
  AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  if (!r.body.empty() && r.body.back() != '\n') r.body += '\n';
  return r;
}

AdminResponse JsonError(int status, const std::string& message) {
  AdminResponse r;
  r.status = status;
  r.content_type = kJson;
  r.body = "{\"error\":" + JsonString(message) + "}\n";
  return r;
}

AdminResponse Unauthorized(bool sent_token) {
  AdminResponse r = Text(401, sent_token ? "401 unauthorized: wrong bearer token"
                                         : "401 unauthorized: send Authorization: Bearer TOKEN");
  r.headers.emplace_back("WWW-Authenticate",
                         sent_token ? "Bearer realm=\"mxscreen\", error=\"invalid_token\""
                                    : "Bearer realm=\"mxscreen\"");
  return r;
}

AdminResponse Verdicts(const AdminRequest& req, const AdminTarget& target, AdminBackend& backend) {
  std::string addr_text = target.path.substr(std::string("/verdicts/").size());
  auto client = ParseClientAddress(addr_text);
  if (!client) return JsonError(400, "not an IP address: \"" + addr_text + "\"");
  auto it = target.query.find("listener");
  std::string wanted = it == target.query.end() ? "" : it->second;
  std::string listener, error;
  auto store = backend.StoreOf(wanted, &listener, &error);
  if (!store) return JsonError(404, error);
  std::string addr = client->ToString();
  if (req.method == "DELETE") {
    if (!store->Delete(*client)) return JsonError(404, "no record for " + addr);
    Logger::Global().Logf("mxscreen", "admin: removed the verdict record of %s (listener %s)",
                          addr.c_str(), listener.c_str());
    AdminResponse r;
    r.content_type = kJson;
    r.body = "{\"deleted\":" + JsonString(addr) + ",\"listener\":" + JsonString(listener) + "}\n";
    return r;
  }
  auto record = store->Lookup(*client);
  if (!record || record->passes.empty()) return JsonError(404, "no record for " + addr);
  int64_t now = time(nullptr);
  std::string body =
      "{\"client\":" + JsonString(addr) + ",\"listener\":" + JsonString(listener) + ",\"passes\":[";
  bool first = true;
  for (const auto& [filter, expiry] : record->passes) {
    if (!first) body += ",";
    first = false;
    body += "{\"filter\":" + JsonString(filter) + ",\"expires\":" + JsonString(FormatUtc(expiry)) +
            ",\"expires_unix\":" + std::to_string(expiry) +
            ",\"valid\":" + (expiry > now ? "true" : "false") + "}";
  }
  body += "]}\n";
  AdminResponse r;
  r.content_type = kJson;
  r.body = std::move(body);
  return r;
}

}  // namespace

AdminResponse HandleAdminRequest(const AdminRequest& req, const AdminConfig& config,
                                 AdminBackend& backend) {
  if (req.method != "GET" && req.method != "DELETE") {
    AdminResponse r = Text(405, "405 method not allowed");
    r.headers.emplace_back("Allow", "GET, DELETE");
    return r;
  }
  auto target = ParseAdminTarget(req.target);
  if (!target) return Text(400, "400 bad request target");
  const std::string& path = target->path;

  // Access control before routing: an unauthenticated caller learns nothing
  // about which paths exist beyond the public ones.
  std::optional<std::string_view> bearer;
  if (req.has_authorization) bearer = ParseBearer(req.authorization);
  bool token_ok =
      !config.bearer_token.empty() && bearer && ConstantTimeEquals(*bearer, config.bearer_token);
  bool authenticated = token_ok || req.client_cert_verified;
  // Public without a token: the probes, and the dashboard's own files (the
  // page, its script and styles hold no data: the script fetches the numbers
  // with the token, which a browser cannot send for a page load).
  bool probe = path == "/healthz" || path == "/ready";
  bool page_file = req.method == "GET" && FindAdminAsset(path) != nullptr;
  if (req.method == "DELETE" && !authenticated) {
    if (config.bearer_token.empty() && config.client_ca_file.empty()) {
      return Text(403,
                  "403 forbidden: DELETE needs authentication; configure admin.bearer_token_file "
                  "and send \"Authorization: Bearer TOKEN\" (or use HTTPS client certificates: "
                  "admin.client_ca_file)");
    }
    return Unauthorized(req.has_authorization);
  }
  if (!config.bearer_token.empty() && !authenticated && !probe && !page_file) {
    return Unauthorized(req.has_authorization);
  }

  if (path.rfind("/verdicts/", 0) == 0 && path.size() > 10) {
    return Verdicts(req, *target, backend);
  }
  if (req.method == "DELETE") {
    AdminResponse r = Text(405, "405 method not allowed");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  if (path == "/metrics") {
    AdminResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics::Registry::Get().RenderText();
    return r;
  }
  if (path == "/healthz") return Text(200, "ok");
  if (path == "/ready") {
    std::string why = backend.NotReadyReason();
    return why.empty() ? Text(200, "ready") : Text(503, "not ready: " + why);
  }
  if (path == "/config_dump") {
    AdminResponse r;
    r.content_type = kJson;
    r.body = backend.ConfigDumpJson();
    return r;
  }
  if (path == "/api/summary") {
    AdminResponse r;
    r.content_type = kJson;
    r.body = AdminSummaryJson();
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  if (const AdminAsset* asset = FindAdminAsset(path)) {
    AdminResponse r;
    r.content_type = std::string(asset->content_type);
    r.body = std::string(asset->body);
    return r;
  }
  return Text(404, "404 not found");
}

}  // namespace mxs

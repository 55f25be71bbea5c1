// admin_handler: what the admin server answers, as a plain function of the
// request (method, target, Authorization, whether TLS verified a client
// certificate) and of the running gateway (AdminBackend). No sockets and no
// Beast here: admin_server.cc does the HTTP, this decides the response, and
// unit tests call it directly.
//
// Access: a configured bearer token is required for every request except
// /healthz and /ready (probes), wherever the server is bound; a verified
// client certificate counts as authenticated. DELETE always needs one of
// the two, even on loopback without a token (then it is refused with 403).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/admin_config.h"

namespace mxs {

class VerdictStore;

struct AdminRequest {
  std::string method;  // "GET", "DELETE", ...
  std::string target;  // "/verdicts/192.0.2.1?listener=smtp"
  bool has_authorization = false;
  std::string authorization;          // the header's value
  bool client_cert_verified = false;  // HTTPS with a client certificate the CA signed
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// What the handler needs of the running gateway (core/server.cc).
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  // "" when ready to serve: every listener bound and every verdict store
  // open and healthy; else why not, for people.
  virtual std::string NotReadyReason() = 0;
  // The effective config as pretty-printed JSON.
  virtual std::string ConfigDumpJson() = 0;
  // The verdict store of the named listener ("" = the first); on nullptr
  // *error says why (no such listener, or it has no store). *listener gets
  // the listener's name.
  virtual std::shared_ptr<VerdictStore> StoreOf(const std::string& name, std::string* listener,
                                                std::string* error) = 0;
};

AdminResponse HandleAdminRequest(const AdminRequest& request, const AdminConfig& config,
                                 AdminBackend& backend);

// The body of /api/summary (core/admin_summary.cc): the dashboard's numbers,
// read from the metrics registry and the top-talker tracker.
std::string AdminSummaryJson();

}  // namespace mxs

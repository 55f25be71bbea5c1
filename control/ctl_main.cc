// ctl_main: `mxscreenctl`, the operators' client of the control plane's
// FleetAdmin service: push, status, rollback, versions, diff, show, audit.
// Output is for people; --json prints the service's answer for scripts.
// Exit codes: 0 done (every connected gateway ACKed, for push/rollback),
// 1 failed (unreachable, refused, bad file), 2 bad usage, 3 stored but some
// gateway NACKed it or did not answer in time.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>

#include "control/config_text.h"
#include "core/config_error.h"
#include "core/gateway_config.h"
#include "core/grpc_tls.h"
#include "mxscreen/control/v1/admin.grpc.pb.h"

namespace {

namespace cp = ::mxscreen::control::v1;
namespace pb = google::protobuf;

struct Options {
  std::string server;
  std::string cert, key, ca, server_name;
  bool json = false;
  std::string fleet;
  std::string file;
  std::string comment;
  double wait_seconds = 10;
  uint64_t to_version = 0, from_version = 0, version = 0;
  uint32_t limit = 0;
};

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string When(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Json(const pb::Message& m) {
  pb::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  std::string out;
  (void)pb::util::MessageToJsonString(m, &out, o);
  return out;
}

std::unique_ptr<cp::FleetAdmin::Stub> Connect(const Options& o) {
  grpc::ChannelArguments args;
  if (!o.server_name.empty()) args.SetSslTargetNameOverride(o.server_name);
  args.SetMaxReceiveMessageSize(mxs::kMaxConfigMessageBytes);
  args.SetMaxSendMessageSize(mxs::kMaxConfigMessageBytes);
  return cp::FleetAdmin::NewStub(
      grpc::CreateCustomChannel(o.server, mxs::ClientCredentials(o.ca, o.cert, o.key), args));
}

void SetDeadline(grpc::ClientContext& ctx, double seconds) {
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

int Failed(const grpc::Status& st, const Options& o) {
  std::cerr << "mxscreenctl: " << o.server << ": "
            << (st.error_code() == grpc::StatusCode::UNAVAILABLE ? "unreachable: " : "")
            << st.error_message() << "\n";
  return 1;
}

// One FleetAdmin call with a deadline. Prints the failure; false then.
template <typename Request, typename Response>
bool Call(grpc::Status (cp::FleetAdmin::Stub::*method)(grpc::ClientContext*, const Request&,
                                                       Response*),
          cp::FleetAdmin::Stub& stub, const Request& req, Response* resp, const Options& o,
          double seconds = 10) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, seconds);
  grpc::Status st = (stub.*method)(&ctx, req, resp);
  if (!st.ok()) Failed(st, o);
  return st.ok();
}

// Waits for the fleet's gateways to answer `version`; prints one line per
// gateway. Returns the exit code.
int WaitAndReport(cp::FleetAdmin::Stub& stub, const Options& o, uint64_t version) {
  if (o.wait_seconds <= 0) return 0;
  cp::WaitForVersionRequest req;
  req.set_fleet(o.fleet);
  req.set_version(version);
  req.set_timeout_ms(static_cast<uint32_t>(o.wait_seconds * 1000));
  cp::WaitForVersionResponse resp;
  if (!Call(&cp::FleetAdmin::Stub::WaitForVersion, stub, req, &resp, o, o.wait_seconds + 5)) {
    return 1;
  }
  if (o.json) {
    std::cout << Json(resp);
  }
  const std::string v = std::to_string(version);
  int acked = 0, nacked = 0, silent = 0, offline = 0;
  for (const auto& n : resp.nodes()) {
    std::string line;
    if (!n.connected()) {
      ++offline;
      line = "offline  (runs " + (n.applied_version().empty() ? "-" : n.applied_version()) +
             "; gets version " + v + " when it reconnects)";
    } else if (n.nacked_version() == v) {
      ++nacked;
      line = "NACK     keeps version " +
             (n.applied_version().empty() ? "(local)" : n.applied_version()) + ": " +
             n.nack_error();
    } else if (n.applied_version() == v) {
      ++acked;
      line = "ACK      version " + v + " in " + std::to_string(n.last_apply_ms()) + " ms";
    } else {
      ++silent;
      line = "waiting  (runs " + (n.applied_version().empty() ? "-" : n.applied_version()) + ")";
    }
    if (!o.json) std::cout << "  " << std::left << std::setw(24) << n.node_id() << line << "\n";
  }
  if (!o.json) {
    std::cout << "fleet " << o.fleet << " version " << v << ": " << acked << " ACK, " << nacked
              << " NACK, " << silent << " no answer, " << offline << " offline ("
              << resp.elapsed_ms() << " ms)\n";
  }
  return nacked || silent || !resp.complete() ? 3 : 0;
}

int Push(const Options& o) {
  mxs::config::v1::Bootstrap config;
  try {
    config = mxs::LoadBootstrapFile(o.file);
  } catch (const mxs::ConfigError& e) {
    std::cerr << "mxscreenctl: " << o.file << ": " << e.what() << "\n";
    return 1;
  }
  auto stub = Connect(o);
  cp::SetConfigRequest req;
  req.set_fleet(o.fleet);
  *req.mutable_config() = config;
  req.set_comment(o.comment);
  cp::SetConfigResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx, 30);
  grpc::Status st = stub->SetConfig(&ctx, req, &resp);
  if (!st.ok()) {
    if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      std::cerr << "mxscreenctl: " << o.file << " refused: " << st.error_message() << "\n";
      return 1;
    }
    return Failed(st, o);
  }
  if (o.json) {
    std::cout << Json(resp);
  } else if (resp.unchanged()) {
    std::cout << "fleet " << o.fleet << ": unchanged, still version " << resp.version().version()
              << "\n";
  } else {
    std::cout << "fleet " << o.fleet << ": version " << resp.version().version()
              << " stored: " << resp.version().summary() << "\n";
  }
  return WaitAndReport(*stub, o, resp.version().version());
}

int Rollback(const Options& o) {
  auto stub = Connect(o);
  cp::RollbackRequest req;
  req.set_fleet(o.fleet);
  req.set_to_version(o.to_version);
  req.set_comment(o.comment);
  cp::SetConfigResponse resp;
  if (!Call(&cp::FleetAdmin::Stub::Rollback, *stub, req, &resp, o, 30)) return 1;
  if (o.json) {
    std::cout << Json(resp);
  } else {
    std::cout << "fleet " << o.fleet << ": version " << resp.version().version()
              << " stored: " << resp.version().summary() << "\n";
  }
  return WaitAndReport(*stub, o, resp.version().version());
}

int Status(const Options& o) {
  auto stub = Connect(o);
  cp::GetStatusRequest req;
  req.set_fleet(o.fleet);
  cp::GetStatusResponse resp;
  if (!Call(&cp::FleetAdmin::Stub::GetStatus, *stub, req, &resp, o)) return 1;
  if (o.json) {
    std::cout << Json(resp);
    return 0;
  }
  for (const auto& f : resp.fleets()) {
    std::cout << "fleet " << f.fleet() << ": newest version "
              << (f.newest_version() ? std::to_string(f.newest_version()) : "-") << ", "
              << f.nodes_size() << " gateway(s)\n";
    if (f.nodes_size() == 0) continue;
    std::cout << "  " << std::left << std::setw(24) << "NODE" << std::setw(10) << "STATE"
              << std::setw(9) << "VERSION" << std::setw(22) << "SINCE"
              << "LAST NACK\n";
    for (const auto& n : f.nodes()) {
      std::string nack = n.nacked_version().empty()
                             ? "-"
                             : "version " + n.nacked_version() + " at " + When(n.nack_unix()) +
                                   ": " + n.nack_error();
      std::cout << "  " << std::left << std::setw(24) << n.node_id() << std::setw(10)
                << (n.connected() ? "connected" : "offline") << std::setw(9)
                << (n.applied_version().empty() ? "-" : n.applied_version()) << std::setw(22)
                << When(n.connected() ? n.connected_since_unix() : n.last_seen_unix()) << nack
                << "\n";
    }
  }
  return 0;
}

int Versions(const Options& o) {
  auto stub = Connect(o);
  cp::ListVersionsRequest req;
  req.set_fleet(o.fleet);
  req.set_limit(o.limit);
  cp::ListVersionsResponse resp;
  if (!Call(&cp::FleetAdmin::Stub::ListVersions, *stub, req, &resp, o)) return 1;
  if (o.json) {
    std::cout << Json(resp);
    return 0;
  }
  std::cout << std::left << std::setw(9) << "VERSION" << std::setw(22) << "CREATED" << std::setw(24)
            << "AUTHOR"
            << "SUMMARY\n";
  for (const auto& v : resp.versions()) {
    std::cout << std::left << std::setw(9) << v.version() << std::setw(22) << When(v.created_unix())
              << std::setw(24) << v.author() << v.summary()
              << (v.comment().empty() ? "" : " (" + v.comment() + ")") << "\n";
  }
  return 0;
}

bool GetVersion(cp::FleetAdmin::Stub& stub, const Options& o, uint64_t version,
                cp::ConfigVersion* out) {
  cp::GetVersionRequest req;
  req.set_fleet(o.fleet);
  req.set_version(version);
  return Call(&cp::FleetAdmin::Stub::GetVersion, stub, req, out, o);
}

int Show(const Options& o) {
  auto stub = Connect(o);
  cp::ConfigVersion v;
  if (!GetVersion(*stub, o, o.version, &v)) return 1;
  std::cout << (o.json ? Json(v) : mxs::control::ConfigToJson(v.config()));
  return 0;
}

int Diff(const Options& o) {
  auto stub = Connect(o);
  cp::ConfigVersion newest;
  if (!GetVersion(*stub, o, o.to_version, &newest)) return 1;
  std::string a_text, a_label;
  if (!o.file.empty()) {
    try {
      mxs::config::v1::Bootstrap file = mxs::LoadBootstrapFile(o.file);
      a_text = mxs::control::ConfigToJson(newest.config());
      a_label = "fleet " + o.fleet + " version " + std::to_string(newest.version());
      std::string b_text = mxs::control::ConfigToJson(file);
      std::string d = mxs::control::UnifiedDiff(a_text, b_text, a_label, o.file);
      std::cout << (d.empty() ? "no difference\n" : d);
      return 0;
    } catch (const mxs::ConfigError& e) {
      std::cerr << "mxscreenctl: " << o.file << ": " << e.what() << "\n";
      return 1;
    }
  }
  uint64_t from = o.from_version ? o.from_version : newest.version() - 1;
  if (from == 0) {
    std::cout << "fleet " << o.fleet << " has only version " << newest.version() << "\n";
    return 0;
  }
  cp::ConfigVersion older;
  if (!GetVersion(*stub, o, from, &older)) return 1;
  std::string d = mxs::control::UnifiedDiff(
      mxs::control::ConfigToJson(older.config()), mxs::control::ConfigToJson(newest.config()),
      "fleet " + o.fleet + " version " + std::to_string(older.version()),
      "fleet " + o.fleet + " version " + std::to_string(newest.version()));
  std::cout << (d.empty() ? "no difference\n" : d);
  return 0;
}

int Audit(const Options& o) {
  auto stub = Connect(o);
  cp::ListAuditRequest req;
  req.set_fleet(o.fleet);
  req.set_limit(o.limit);
  cp::ListAuditResponse resp;
  if (!Call(&cp::FleetAdmin::Stub::ListAudit, *stub, req, &resp, o)) return 1;
  if (o.json) {
    std::cout << Json(resp);
    return 0;
  }
  std::cout << std::left << std::setw(22) << "TIME" << std::setw(24) << "WHO" << std::setw(10)
            << "ACTION" << std::setw(12) << "FLEET" << std::setw(9) << "VERSION"
            << "SUMMARY\n";
  for (const auto& r : resp.records()) {
    std::cout << std::left << std::setw(22) << When(r.time_unix()) << std::setw(24) << r.who()
              << std::setw(10) << r.action() << std::setw(12) << r.fleet() << std::setw(9)
              << r.version() << r.summary() << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mxscreenctl: push configs to mxscreen fleets and see what the gateways run"};
  app.require_subcommand(1);
  Options o;
  o.server = Env("MXSCREENCTL_SERVER", "127.0.0.1:18000");
  o.cert = Env("MXSCREENCTL_CERT", "");
  o.key = Env("MXSCREENCTL_KEY", "");
  o.ca = Env("MXSCREENCTL_CA", "");
  app.add_option("--server,-s", o.server, "control plane host:port (env MXSCREENCTL_SERVER)")
      ->capture_default_str();
  app.add_option("--cert", o.cert, "operator certificate (env MXSCREENCTL_CERT)");
  app.add_option("--key", o.key, "operator key (env MXSCREENCTL_KEY)");
  app.add_option("--ca", o.ca, "CA of the control plane's certificate (env MXSCREENCTL_CA)");
  app.add_option("--server-name", o.server_name, "name to check the server certificate against");
  app.add_flag("--json", o.json, "print the service's answer as JSON");

  auto fleet_opt = [&](CLI::App* sub, bool required) {
    auto* opt = sub->add_option("--fleet,-f", o.fleet, "fleet name");
    if (required) opt->required();
  };
  auto* push = app.add_subcommand("push", "store FILE as the fleet's newest version and push it");
  push->add_option("FILE", o.file, "gateway config (YAML or JSON)")->required();
  fleet_opt(push, true);
  push->add_option("--comment,-m", o.comment, "why (kept in the audit log)");
  push->add_option("--wait", o.wait_seconds, "seconds to wait for the gateways' answers (0: none)")
      ->capture_default_str();

  auto* status = app.add_subcommand("status", "which gateways run which version");
  fleet_opt(status, false);

  auto* rollback =
      app.add_subcommand("rollback", "make an earlier version the newest again (as a new version)");
  fleet_opt(rollback, true);
  rollback->add_option("--to", o.to_version, "version to go back to (default: the one before)");
  rollback->add_option("--comment,-m", o.comment, "why (kept in the audit log)");
  rollback->add_option("--wait", o.wait_seconds, "seconds to wait for the gateways' answers")
      ->capture_default_str();

  auto* versions = app.add_subcommand("versions", "a fleet's versions, newest first");
  fleet_opt(versions, true);
  versions->add_option("--limit,-n", o.limit, "at most this many");

  auto* diff = app.add_subcommand(
      "diff",
      "what changed between two versions (default: the newest and the one before), or "
      "between the newest and a file");
  fleet_opt(diff, true);
  diff->add_option("--from", o.from_version, "older version");
  diff->add_option("--to", o.to_version, "newer version (default: the newest)");
  diff->add_option("--file", o.file, "compare the newest version with this config file");

  auto* show = app.add_subcommand("show", "print a version's config");
  fleet_opt(show, true);
  show->add_option("--version,-v", o.version, "version (default: the newest)");

  auto* audit = app.add_subcommand("audit", "who pushed and rolled back what, newest first");
  fleet_opt(audit, false);
  audit->add_option("--limit,-n", o.limit, "at most this many");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (*push) return Push(o);
    if (*status) return Status(o);
    if (*rollback) return Rollback(o);
    if (*versions) return Versions(o);
    if (*diff) return Diff(o);
    if (*show) return Show(o);
    if (*audit) return Audit(o);
  } catch (const std::exception& e) {
    std::cerr << "mxscreenctl: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

// control_server: the services. Each discovery stream has two threads (the
// gRPC handler reads ACK/NACKs, a writer sends new versions as the hub
// announces them): the sync API allows one reader and one writer at once,
// and a few hundred gateways are a few hundred threads.
#include "control/control_server.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <thread>

#include "control/auth.h"
#include "control/config_text.h"
#include "control/control_store.h"
#include "control/fleet_hub.h"
#include "core/config_error.h"
#include "core/gateway_config.h"
#include "core/grpc_tls.h"
#include "core/ip_address.h"
#include "mxscreen/control/v1/admin.grpc.pb.h"
#include "mxscreen/control/v1/discovery.grpc.pb.h"

#include <google/protobuf/util/message_differencer.h>

namespace mxs::control {

namespace {

grpc::Status Refuse(grpc::StatusCode code, const std::string& why) { return {code, why}; }

const char kFleetNameRule[] = "1-64 letters, digits, '.', '_' or '-'";

}  // namespace

bool ValidFleetName(const std::string& fleet) {
  if (fleet.empty() || fleet.size() > 64) return false;
  for (char c : fleet) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

void CheckControlPlaneConfig(const cp::ControlPlaneConfig& c) {
  if (c.listen().empty() || c.listen().rfind(':') == std::string::npos) {
    throw ConfigError("listen", "expected \"address:port\", got \"" + c.listen() + "\"");
  }
  if (c.store_path().empty()) throw ConfigError("store_path", "a directory is required");
  if (c.has_tls()) {
    if (c.tls().cert_file().empty() || c.tls().key_file().empty()) {
      throw ConfigError("tls", "cert_file and key_file are required");
    }
    if (c.tls().ca_file().empty()) {
      throw ConfigError("tls.ca_file",
                        "required: gateways and operators are told apart by client certificates");
    }
  } else if (!c.allow_plaintext() && !IsLoopbackHost(c.listen().substr(0, c.listen().rfind(':')))) {
    throw ConfigError("listen", "plaintext on a non-loopback address (" + c.listen() +
                                    "): configure tls, or set allow_plaintext: true");
  }
  for (int i = 0; i < c.fleets_size(); ++i) {
    if (!ValidFleetName(c.fleets(i).fleet())) {
      throw ConfigError("fleets[" + std::to_string(i) + "].fleet", kFleetNameRule);
    }
  }
}

struct ControlServer::Impl {
  cp::ControlPlaneConfig config;
  Logger& logger;
  ControlStore store;
  FleetHub hub;
  Authorizer auth;
  std::atomic<bool> shutting_down{false};
  std::atomic<uint64_t> nonce{0};

  class Discovery;
  class Admin;
  std::unique_ptr<Discovery> discovery;
  std::unique_ptr<Admin> admin;
  // Last: destroyed first, while the services it calls still exist.
  std::unique_ptr<grpc::Server> server;

  Impl(const cp::ControlPlaneConfig& c, Logger& l)
      : config(c), logger(l), store(c.store_path()), hub(store), auth(c) {}
};

// ---------------------------------------------------------------- discovery
class ControlServer::Impl::Discovery final : public cp::ConfigDiscovery::Service {
 public:
  explicit Discovery(Impl& impl) : impl_(impl) {}

  grpc::Status StreamConfig(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<cp::DiscoveryResponse, cp::DiscoveryRequest>* stream) override {
    cp::DiscoveryRequest req;
    if (!stream->Read(&req)) return grpc::Status::CANCELLED;
    const cp::Node node = req.node();
    if (node.id().empty()) {
      return Refuse(grpc::StatusCode::INVALID_ARGUMENT,
                    "the first request of a stream must name the node (node.id)");
    }
    Caller caller = impl_.auth.Identify(*ctx);
    std::string why;
    std::string fleet = impl_.auth.GatewayFleet(caller, node.fleet(), &why);
    if (fleet.empty() || !ValidFleetName(fleet)) {
      if (why.empty()) why = "invalid fleet name \"" + fleet + "\"";
      impl_.logger.Logf("mxscreen-control", "warning: node %s from %s refused: %s",
                        node.id().c_str(), ctx->peer().c_str(), why.c_str());
      return Refuse(grpc::StatusCode::PERMISSION_DENIED, why);
    }
    uint64_t generation = impl_.hub.Connected(node, fleet, ctx->peer(), req.version_info());
    impl_.logger.Logf("mxscreen-control", "node %s of fleet %s connected from %s, running %s",
                      node.id().c_str(), fleet.c_str(), ctx->peer().c_str(),
                      req.version_info().empty() ? "no pushed version"
                                                 : ("version " + req.version_info()).c_str());
    std::atomic<bool> done{false};
    std::mutex mu;
    std::map<std::string, uint64_t> pending;  // nonce -> version
    auto stop = [&] { return done.load() || impl_.shutting_down.load() || ctx->IsCancelled(); };
    std::thread writer([&] {
      try {
        uint64_t sent = 0;
        while (!stop()) {
          auto v = impl_.hub.WaitNewer(fleet, sent, stop, std::chrono::milliseconds(1000));
          if (!v) continue;
          cp::DiscoveryResponse resp;
          resp.set_version_info(std::to_string(v->version()));
          *resp.mutable_config() = v->config();
          resp.set_nonce(std::to_string(++impl_.nonce));
          resp.set_fleet(fleet);
          {
            std::lock_guard<std::mutex> lock(mu);
            pending[resp.nonce()] = v->version();
          }
          impl_.hub.Sent(fleet, node.id(), v->version());
          if (!stream->Write(resp)) break;
          sent = v->version();
        }
      } catch (const std::exception& e) {
        // One stream's trouble (out of memory copying a config, say) must
        // not end the process: drop the stream, the gateway reconnects.
        impl_.logger.Logf("mxscreen-control", "warning: node %s of fleet %s: %s", node.id().c_str(),
                          fleet.c_str(), e.what());
        ctx->TryCancel();
      }
    });
    while (stream->Read(&req)) {
      uint64_t version = 0;
      {
        std::lock_guard<std::mutex> lock(mu);
        auto it = pending.find(req.response_nonce());
        if (it == pending.end()) continue;  // stale or unknown nonce: nothing to match
        version = it->second;
        pending.erase(it);
      }
      std::string error = req.error_detail().message();
      if (req.has_error_detail() && error.empty()) error = "refused without a reason";
      impl_.hub.Answered(fleet, node.id(), version, req.version_info(), error);
      if (error.empty()) {
        impl_.logger.Logf("mxscreen-control", "node %s of fleet %s: ACK version %llu",
                          node.id().c_str(), fleet.c_str(),
                          static_cast<unsigned long long>(version));
      } else {
        impl_.logger.Logf(
            "mxscreen-control", "warning: node %s of fleet %s: NACK version %llu (runs %s): %s",
            node.id().c_str(), fleet.c_str(), static_cast<unsigned long long>(version),
            req.version_info().empty() ? "no pushed version" : req.version_info().c_str(),
            error.c_str());
      }
    }
    done = true;
    impl_.hub.Wake();
    writer.join();
    impl_.hub.Disconnected(fleet, node.id(), generation);
    impl_.logger.Logf("mxscreen-control", "node %s of fleet %s disconnected", node.id().c_str(),
                      fleet.c_str());
    return grpc::Status::OK;
  }

 private:
  Impl& impl_;
};

// -------------------------------------------------------------------- admin
class ControlServer::Impl::Admin final : public cp::FleetAdmin::Service {
 public:
  explicit Admin(Impl& impl) : impl_(impl) {}

  grpc::Status SetConfig(grpc::ServerContext* ctx, const cp::SetConfigRequest* req,
                         cp::SetConfigResponse* resp) override {
    Caller caller;
    if (auto st = MayChange(*ctx, req->fleet(), &caller); !st.ok()) return st;
    const auto& config = req->config();
    if (config.has_control_plane() || !config.node_id().empty()) {
      return Refuse(grpc::StatusCode::INVALID_ARGUMENT,
                    "node_id and control_plane belong to each gateway's local bootstrap; leave "
                    "them out of a pushed config");
    }
    try {
      // The gateway's own builder; files a config names are each gateway's
      // and are read (or NACKed) there.
      BuildGatewayConfig(config, "", /*read_local_files=*/false);
    } catch (const ConfigError& e) {
      return Refuse(grpc::StatusCode::INVALID_ARGUMENT, e.what());
    }
    return Store(caller, req->fleet(), config, req->comment(), "push", 0, resp);
  }

  grpc::Status Rollback(grpc::ServerContext* ctx, const cp::RollbackRequest* req,
                        cp::SetConfigResponse* resp) override {
    Caller caller;
    if (auto st = MayChange(*ctx, req->fleet(), &caller); !st.ok()) return st;
    auto newest = impl_.hub.Newest(req->fleet());
    if (!newest)
      return Refuse(grpc::StatusCode::NOT_FOUND, "fleet " + req->fleet() + " has no versions");
    uint64_t to = req->to_version() ? req->to_version() : newest->version() - 1;
    if (to == 0 || to >= newest->version()) {
      return Refuse(grpc::StatusCode::INVALID_ARGUMENT,
                    "nothing to roll back to: give a version older than " +
                        std::to_string(newest->version()));
    }
    std::optional<cp::ConfigVersion> target;
    try {
      target = impl_.store.GetVersion(req->fleet(), to);
    } catch (const std::exception& e) {
      return Refuse(grpc::StatusCode::INTERNAL, e.what());
    }
    if (!target) {
      return Refuse(grpc::StatusCode::NOT_FOUND,
                    "fleet " + req->fleet() + " has no version " + std::to_string(to));
    }
    return Store(caller, req->fleet(), target->config(), req->comment(), "rollback", to, resp);
  }

  grpc::Status ListVersions(grpc::ServerContext* ctx, const cp::ListVersionsRequest* req,
                            cp::ListVersionsResponse* resp) override {
    if (auto st = MayRead(*ctx, req->fleet()); !st.ok()) return st;
    for (auto& v : impl_.store.ListVersions(req->fleet(), req->limit())) {
      v.clear_config();
      *resp->add_versions() = std::move(v);
    }
    return grpc::Status::OK;
  }

  grpc::Status GetVersion(grpc::ServerContext* ctx, const cp::GetVersionRequest* req,
                          cp::ConfigVersion* resp) override {
    if (auto st = MayRead(*ctx, req->fleet()); !st.ok()) return st;
    auto v = impl_.store.GetVersion(req->fleet(), req->version());
    if (!v) {
      return Refuse(grpc::StatusCode::NOT_FOUND,
                    "fleet " + req->fleet() + " has no version" +
                        (req->version() ? " " + std::to_string(req->version()) : "s"));
    }
    *resp = std::move(*v);
    return grpc::Status::OK;
  }

  grpc::Status GetStatus(grpc::ServerContext* ctx, const cp::GetStatusRequest* req,
                         cp::GetStatusResponse* resp) override {
    Caller caller = impl_.auth.Identify(*ctx);
    if (!impl_.auth.IsOperator(caller)) return NotOperator(caller);
    std::vector<std::string> fleets;
    if (!req->fleet().empty()) {
      fleets.push_back(req->fleet());
    } else {
      fleets = impl_.hub.Fleets();
    }
    for (const auto& f : fleets) {
      if (!impl_.auth.MayOperate(caller, f)) {
        if (!req->fleet().empty()) return NotAllowed(caller, f);
        continue;
      }
      auto* fs = resp->add_fleets();
      fs->set_fleet(f);
      if (auto v = impl_.hub.Newest(f)) fs->set_newest_version(v->version());
      for (auto& n : impl_.hub.Nodes(f)) *fs->add_nodes() = std::move(n);
    }
    return grpc::Status::OK;
  }

  grpc::Status WaitForVersion(grpc::ServerContext* ctx, const cp::WaitForVersionRequest* req,
                              cp::WaitForVersionResponse* resp) override {
    if (auto st = MayRead(*ctx, req->fleet()); !st.ok()) return st;
    auto start = std::chrono::steady_clock::now();
    std::vector<cp::NodeStatus> nodes;
    // At most a minute: the call holds one of gRPC's threads.
    auto timeout = std::chrono::milliseconds(
        std::min<uint32_t>(req->timeout_ms() ? req->timeout_ms() : 10000, 60000));
    bool complete = impl_.hub.WaitAnswered(
        req->fleet(), req->version(), timeout,
        [&] { return impl_.shutting_down.load() || ctx->IsCancelled(); }, &nodes);
    resp->set_complete(complete);
    for (auto& n : nodes) *resp->add_nodes() = std::move(n);
    resp->set_elapsed_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count());
    return grpc::Status::OK;
  }

  grpc::Status ListAudit(grpc::ServerContext* ctx, const cp::ListAuditRequest* req,
                         cp::ListAuditResponse* resp) override {
    Caller caller = impl_.auth.Identify(*ctx);
    if (!impl_.auth.IsOperator(caller)) return NotOperator(caller);
    if (!req->fleet().empty() && !impl_.auth.MayOperate(caller, req->fleet())) {
      return NotAllowed(caller, req->fleet());
    }
    for (auto& r : impl_.store.Audit(req->fleet(), 0)) {
      if (!impl_.auth.MayOperate(caller, r.fleet())) continue;
      *resp->add_records() = std::move(r);
      if (req->limit() && resp->records_size() >= static_cast<int>(req->limit())) break;
    }
    return grpc::Status::OK;
  }

 private:
  grpc::Status NotOperator(const Caller& c) {
    return Refuse(grpc::StatusCode::PERMISSION_DENIED, c.authenticated
                                                           ? c.identity + " is not an operator"
                                                           : "no verified client certificate");
  }
  grpc::Status NotAllowed(const Caller& c, const std::string& fleet) {
    return Refuse(grpc::StatusCode::PERMISSION_DENIED,
                  c.identity + " may not change fleet " + fleet);
  }
  grpc::Status MayRead(grpc::ServerContext& ctx, const std::string& fleet) {
    Caller c;
    return MayChange(ctx, fleet, &c);
  }
  grpc::Status MayChange(grpc::ServerContext& ctx, const std::string& fleet, Caller* caller) {
    *caller = impl_.auth.Identify(ctx);
    if (!ValidFleetName(fleet)) {
      return Refuse(grpc::StatusCode::INVALID_ARGUMENT,
                    "fleet \"" + fleet + "\": " + kFleetNameRule);
    }
    if (!impl_.auth.IsOperator(*caller)) return NotOperator(*caller);
    if (!impl_.auth.MayOperate(*caller, fleet)) return NotAllowed(*caller, fleet);
    return grpc::Status::OK;
  }

  grpc::Status Store(const Caller& caller, const std::string& fleet,
                     const config::v1::Bootstrap& config, const std::string& comment,
                     const std::string& action, uint64_t rollback_of, cp::SetConfigResponse* resp) {
    auto newest = impl_.hub.Newest(fleet);
    if (newest && google::protobuf::util::MessageDifferencer::Equals(newest->config(), config)) {
      *resp->mutable_version() = *newest;
      resp->mutable_version()->clear_config();
      resp->set_unchanged(true);
      return grpc::Status::OK;
    }
    cp::ConfigVersion v;
    v.set_fleet(fleet);
    *v.mutable_config() = config;
    v.set_author(caller.identity);
    v.set_created_unix(NowUnix());
    v.set_comment(comment);
    v.set_summary((rollback_of ? "rollback to version " + std::to_string(rollback_of) + ": " : "") +
                  SummarizeChange(newest ? &newest->config() : nullptr, config));
    v.set_rollback_of(rollback_of);
    cp::AuditRecord a;
    a.set_time_unix(v.created_unix());
    a.set_who(caller.identity);
    a.set_action(action);
    a.set_fleet(fleet);
    a.set_summary(v.summary() + (comment.empty() ? "" : " (" + comment + ")"));
    try {
      v = impl_.hub.Publish(std::move(v), std::move(a));
    } catch (const std::exception& e) {
      return Refuse(grpc::StatusCode::INTERNAL, e.what());
    }
    impl_.logger.Logf("mxscreen-control", "fleet %s: version %llu stored (%s by %s): %s",
                      fleet.c_str(), static_cast<unsigned long long>(v.version()), action.c_str(),
                      caller.identity.c_str(), v.summary().c_str());
    *resp->mutable_version() = std::move(v);
    resp->mutable_version()->clear_config();
    return grpc::Status::OK;
  }

  Impl& impl_;
};

// ------------------------------------------------------------------ server
ControlServer::ControlServer(const cp::ControlPlaneConfig& config, Logger& logger) {
  CheckControlPlaneConfig(config);
  impl_ = std::make_unique<Impl>(config, logger);
  impl_->discovery = std::make_unique<Impl::Discovery>(*impl_);
  impl_->admin = std::make_unique<Impl::Admin>(*impl_);
}

ControlServer::~ControlServer() { Shutdown(); }

int ControlServer::Start() {
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (impl_->config.has_tls()) {
    const auto& t = impl_->config.tls();
    creds = ServerCredentials(t.ca_file(), t.cert_file(), t.key_file());
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(impl_->config.listen(), creds, &port);
  builder.RegisterService(impl_->discovery.get());
  builder.RegisterService(impl_->admin.get());
  builder.SetMaxReceiveMessageSize(kMaxConfigMessageBytes);
  builder.SetMaxSendMessageSize(kMaxConfigMessageBytes);
  // Gateways send keepalive pings every 20 s; allow them.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // And ping them, so a gateway that vanished without a reset is noticed
  // (its stream ends, it shows offline) within a minute.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || port == 0) {
    throw std::runtime_error("cannot listen on " + impl_->config.listen());
  }
  impl_->logger.Logf(
      "mxscreen-control", "serving on %s (%s), store %s", impl_->config.listen().c_str(),
      impl_->config.has_tls() ? "mutual TLS" : "plaintext", impl_->config.store_path().c_str());
  return port;
}

void ControlServer::Shutdown() {
  if (!impl_ || !impl_->server || impl_->shutting_down.exchange(true)) return;
  impl_->hub.Wake();
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

void ControlServer::Wait() {
  if (impl_ && impl_->server) impl_->server->Wait();
}

}  // namespace mxs::control

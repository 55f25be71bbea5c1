// control_client: the discovery stream loop, the push cache file.
#include "core/control_client.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "core/grpc_tls.h"
#include "mxscreen/control/v1/discovery.grpc.pb.h"

namespace mxs {

const char kMxscreenVersion[] = "mxscreen 0.5.0";

namespace cp = ::mxscreen::control::v1;

config::v1::Bootstrap MergePushedConfig(const config::v1::Bootstrap& local,
                                        const config::v1::Bootstrap& pushed) {
  config::v1::Bootstrap merged = pushed;
  merged.set_node_id(local.node_id());
  *merged.mutable_control_plane() = local.control_plane();
  *merged.mutable_logging() = local.logging();
  // The admin server is host-local too (its address, token and certificates).
  if (local.has_admin()) {
    *merged.mutable_admin() = local.admin();
  } else {
    merged.clear_admin();
  }
  const auto& own = local.control_plane().listener_addresses();
  for (auto& l : *merged.mutable_listeners()) {
    auto it = own.find(l.name().empty() ? "smtp" : l.name());
    if (it != own.end()) l.set_address(it->second);
  }
  return merged;
}

std::optional<PushCache> LoadPushCache(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (access(path.c_str(), F_OK) != 0) return std::nullopt;
    throw std::runtime_error("cannot read " + path);
  }
  cp::CachedConfig cached;
  if (!cached.ParseFromIstream(&in)) throw std::runtime_error(path + ": not a pushed config cache");
  return PushCache{cached.fleet(), cached.version_info(), cached.config()};
}

std::string SavePushCache(const std::string& path, const PushCache& cache) {
  cp::CachedConfig cached;
  cached.set_fleet(cache.fleet);
  cached.set_version_info(cache.version);
  *cached.mutable_config() = cache.config;
  cached.set_applied_unix(std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !cached.SerializeToOstream(&out)) return "cannot write " + tmp;
    out.flush();
    if (!out) return "cannot write " + tmp;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return "cannot rename " + tmp + " to " + path;
  return "";
}

struct ControlClient::Impl {
  ControlPlaneConfig cp;
  std::string node_id;
  Logger& logger;
  ApplyFn apply;

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::shared_ptr<grpc::ClientContext> ctx;  // the open stream's, to cancel it
  std::string version;
  std::thread thread;

  Impl(ControlPlaneConfig c, std::string id, std::string v, Logger& l, ApplyFn a)
      : cp(std::move(c)),
        node_id(std::move(id)),
        logger(l),
        apply(std::move(a)),
        version(std::move(v)) {}

  std::shared_ptr<grpc::Channel> MakeChannel() {
    grpc::ChannelArguments args;
    // Notice a dead control plane (or path) within half a minute, not at the
    // next TCP timeout.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    // Between pushes the stream carries no data; keep pinging anyway (gRPC
    // stops after two pings without data by default).
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    // Our own backoff decides when to retry; gRPC's reconnect starts fresh.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // One connection per client, not one shared by every channel to the
    // same address in the process (the push benchmark runs many clients).
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // A config with large inline tables is bigger than gRPC's default 4 MiB.
    args.SetMaxReceiveMessageSize(kMaxConfigMessageBytes);
    if (cp.tls() && !cp.server_name.empty()) args.SetSslTargetNameOverride(cp.server_name);
    return grpc::CreateCustomChannel(
        cp.address, ClientCredentials(cp.ca_file, cp.cert_file, cp.key_file), args);
  }

  // One stream, until it ends. True when the control plane answered at all.
  bool RunStream() {
    std::shared_ptr<grpc::Channel> channel;
    try {
      channel = MakeChannel();
    } catch (const std::exception& e) {
      logger.Logf("mxscreen", "warning: control plane %s: %s", cp.address.c_str(), e.what());
      return false;
    }
    auto stub = cp::ConfigDiscovery::NewStub(channel);
    auto ctx = std::make_shared<grpc::ClientContext>();
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) return false;
      this->ctx = ctx;
    }
    auto stream = stub->StreamConfig(ctx.get());
    cp::DiscoveryRequest hello;
    hello.mutable_node()->set_id(node_id);
    hello.mutable_node()->set_fleet(cp.fleet);
    hello.mutable_node()->set_build_version(kMxscreenVersion);
    hello.set_version_info(running_version());
    bool answered = false;
    if (stream->Write(hello)) {
      cp::DiscoveryResponse resp;
      while (stream->Read(&resp)) {
        if (!answered) {
          logger.Logf("mxscreen", "control plane %s: connected as %s, fleet %s", cp.address.c_str(),
                      node_id.c_str(), cp.fleet.c_str());
        }
        answered = true;
        Answer(resp, stream.get());
      }
    }
    grpc::Status st = stream->Finish();
    {
      std::lock_guard<std::mutex> lock(mu);
      this->ctx.reset();
      if (stopping) return answered;
    }
    logger.Logf("mxscreen", "warning: control plane %s: %s: %s", cp.address.c_str(),
                answered ? "stream ended" : "unreachable",
                st.ok() ? "closed by the control plane" : st.error_message().c_str());
    return answered;
  }

  void Answer(const cp::DiscoveryResponse& resp,
              grpc::ClientReaderWriter<cp::DiscoveryRequest, cp::DiscoveryResponse>* stream) {
    std::string error;
    bool current = !resp.version_info().empty() && resp.version_info() == running_version() &&
                   resp.fleet() == cp.fleet;
    try {
      // The control plane sends its newest version on every new stream; a
      // gateway that already runs it (from its cache) just says so.
      if (!current) error = apply(resp.config(), resp.version_info());
    } catch (const std::exception& e) {
      error = e.what();
    }
    cp::DiscoveryRequest reply;
    reply.set_response_nonce(resp.nonce());
    if (error.empty() && !current) {
      {
        std::lock_guard<std::mutex> lock(mu);
        version = resp.version_info();
      }
      std::string saved =
          SavePushCache(cp.cache_path, {cp.fleet, resp.version_info(), resp.config()});
      if (!saved.empty()) {
        logger.Logf("mxscreen", "warning: control plane: applied version %s but %s",
                    resp.version_info().c_str(), saved.c_str());
      }
      logger.Logf("mxscreen", "control plane %s: applied version %s of fleet %s",
                  cp.address.c_str(), resp.version_info().c_str(), cp.fleet.c_str());
    } else if (!error.empty()) {
      reply.mutable_error_detail()->set_code(grpc::StatusCode::INVALID_ARGUMENT);
      reply.mutable_error_detail()->set_message(error);
      logger.Logf("mxscreen",
                  "warning: control plane %s: refused version %s of fleet %s, keeping version "
                  "%s: %s",
                  cp.address.c_str(), resp.version_info().c_str(), cp.fleet.c_str(),
                  running_version().empty() ? "(local)" : running_version().c_str(), error.c_str());
    }
    reply.set_version_info(running_version());
    stream->Write(reply);
  }

  std::string running_version() const {
    std::lock_guard<std::mutex> lock(mu);
    return version;
  }

  void Loop() {
    std::mt19937_64 rng(std::random_device{}() ^ std::hash<std::string>()(node_id));
    auto wait = std::chrono::milliseconds(cp.reconnect_initial);
    const auto max_wait = std::chrono::milliseconds(cp.reconnect_max);
    for (;;) {
      if (RunStream()) wait = std::chrono::milliseconds(cp.reconnect_initial);
      // Jitter: between half and all of the current wait, so a fleet that
      // lost its control plane does not come back in one burst.
      std::uniform_int_distribution<int64_t> d(wait.count() / 2, wait.count());
      auto sleep = std::chrono::milliseconds(d(rng));
      std::unique_lock<std::mutex> lock(mu);
      if (stopping) return;
      if (cv.wait_for(lock, sleep, [this] { return stopping; })) return;
      wait = std::min(max_wait, wait * 2);
    }
  }
};

ControlClient::ControlClient(ControlPlaneConfig cp, std::string node_id,
                             std::string running_version, Logger& logger, ApplyFn apply)
    : impl_(std::make_unique<Impl>(std::move(cp), std::move(node_id), std::move(running_version),
                                   logger, std::move(apply))) {}

ControlClient::~ControlClient() { Stop(); }

void ControlClient::Start() {
  impl_->thread = std::thread([this] { impl_->Loop(); });
}

void ControlClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
    if (impl_->ctx) impl_->ctx->TryCancel();
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string ControlClient::running_version() const { return impl_->running_version(); }

}  // namespace mxs

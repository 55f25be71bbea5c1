// control_fleet: N simulated gateways in one process for the control-plane
// push benchmark (tests/bench/control.sh). Each is the gateway's real
// discovery client (core/control_client) with its own node id and push
// cache; applying a push builds the config fully, as a gateway does (filters
// and tables), but opens no listener. Prints "APPLIED <version> <count>"
// whenever every simulated gateway runs a new version, until SIGTERM.
//
// Usage: mxs_control_fleet --control HOST:PORT --fleet NAME --gateways N --dir DIR
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/config_error.h"
#include "core/control_client.h"
#include "core/gateway_config.h"

int main(int argc, char** argv) {
  CLI::App app{"simulated gateways for the control-plane push benchmark"};
  std::string control, fleet = "bench", dir = "/tmp";
  int gateways = 100;
  app.add_option("--control", control, "control plane host:port")->required();
  app.add_option("--fleet", fleet, "fleet")->capture_default_str();
  app.add_option("--gateways", gateways, "how many")->capture_default_str();
  app.add_option("--dir", dir, "where the push caches go")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  mxs::LoggingConfig lc;
  lc.sink = mxs::config::v1::Logging::FILE;
  lc.path = dir + "/fleet.log";
  mxs::Logger logger(lc, "bench");

  std::mutex mu;
  std::map<std::string, int> applied;  // version -> gateways running it
  std::vector<std::unique_ptr<mxs::ControlClient>> clients;
  for (int i = 0; i < gateways; ++i) {
    std::string id = "sim" + std::to_string(i);
    mxs::ControlPlaneConfig cp;
    cp.address = control;
    cp.fleet = fleet;
    cp.cache_path = dir + "/" + id + ".binpb";
    mxs::config::v1::Bootstrap local;
    local.set_node_id(id);
    local.mutable_control_plane()->set_address(control);
    local.mutable_control_plane()->set_fleet(fleet);
    local.mutable_control_plane()->set_cache_path(cp.cache_path);
    auto apply = [&, local, gateways](const mxs::config::v1::Bootstrap& pushed,
                                      const std::string& version) -> std::string {
      try {
        mxs::BuildGatewayConfig(mxs::MergePushedConfig(local, pushed), dir);
      } catch (const mxs::ConfigError& e) {
        return e.what();
      }
      std::lock_guard<std::mutex> lock(mu);
      if (++applied[version] == gateways) {
        std::cout << "APPLIED " << version << " " << gateways << std::endl;
      }
      return "";
    };
    clients.push_back(std::make_unique<mxs::ControlClient>(cp, id, "", logger, apply));
    clients.back()->Start();
  }
  std::cout << "STARTED " << gateways << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  for (auto& c : clients) c->Stop();
  return 0;
}

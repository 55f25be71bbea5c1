// control_main: the `mxscreen-control` command: loads its config file, serves
// until SIGTERM/SIGINT. Exit codes: 0 stopped cleanly, 1 runtime failure
// (store, bind), 2 bad usage or invalid config.
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <thread>

#include "control/control_server.h"
#include "core/config_error.h"
#include "core/gateway_config.h"
#include "core/logger.h"
#include "core/proto_yaml.h"

int main(int argc, char** argv) {
  CLI::App app{"mxscreen-control: keeps each fleet's gateway config and pushes it to the fleet"};
  std::string config_path = "/etc/mxscreen/control.yaml";
  app.add_option("--config,-c", config_path, "config file (YAML or JSON)")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  mxscreen::control::v1::ControlPlaneConfig config;
  try {
    mxs::ParseConfigFile(config_path, &config, nullptr);
    mxs::control::CheckControlPlaneConfig(config);
  } catch (const mxs::ConfigError& e) {
    std::cerr << "mxscreen-control: " << config_path << ": " << e.what() << "\n";
    return 2;
  }
  mxs::LoggingConfig lc;
  if (!config.log_file().empty()) {
    lc.sink = mxs::config::v1::Logging::FILE;
    lc.path = config.log_file();
  }
  std::shared_ptr<mxs::Logger> logger;
  try {
    logger = std::make_shared<mxs::Logger>(lc, mxs::HostnameOf({}));
  } catch (const std::exception& e) {
    std::cerr << "mxscreen-control: " << e.what() << "\n";
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    mxs::control::ControlServer server(config, *logger);
    server.Start();
    int sig = 0;
    sigwait(&set, &sig);
    logger->Logf("mxscreen-control", "terminating on signal %d", sig);
    server.Shutdown();
    server.Wait();
  } catch (const mxs::ConfigError& e) {
    std::cerr << "mxscreen-control: " << config_path << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    logger->Logf("mxscreen-control", "fatal: %s", e.what());
    if (!config.log_file().empty()) std::cerr << "mxscreen-control: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

// main: the `mxscreen` command line. Subcommands: run, validate, verdict,
// import-postfix. Exit codes: 0 success, 1 runtime failure, 2 bad usage or
// invalid config. Names no filter: filters register themselves.
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

#include "core/config_error.h"
#include "core/gateway_config.h"
#include "core/import_postfix.h"
#include "core/logger.h"
#include "core/server.h"
#include "core/verdict_cli.h"

namespace {

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Loads and builds a config, printing the error for people. nullptr on error.
std::shared_ptr<const mxs::GatewayConfig> LoadConfig(const std::string& path) {
  try {
    auto bootstrap = mxs::LoadBootstrapFile(path);
    return mxs::BuildGatewayConfig(bootstrap, DirOf(path));
  } catch (const mxs::ConfigError& e) {
    std::cerr << "mxscreen: " << path << ": " << e.what() << "\n";
    return nullptr;
  }
}

int Run(const std::string& path) {
  auto config = LoadConfig(path);
  if (!config) return 2;
  std::shared_ptr<mxs::Logger> logger;
  try {
    logger = std::make_shared<mxs::Logger>(config->logging, config->hostname);
  } catch (const std::exception& e) {
    std::cerr << "mxscreen: " << e.what() << "\n";
    return 1;
  }
  mxs::Logger::SetGlobal(logger);
  // A client that resets the connection must not kill the gateway.
  std::signal(SIGPIPE, SIG_IGN);
  // Block the signals that Server::Run handles, so workers never receive them.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  try {
    mxs::Server server(config, logger, path);
    server.Start();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    server.Run();
  } catch (const std::exception& e) {
    logger->Logf("mxscreen", "fatal: %s", e.what());
    if (config->logging.sink != mxs::config::v1::Logging::STDERR) {
      std::cerr << "mxscreen: " << e.what() << "\n";
    }
    return 1;
  }
  return 0;
}

int Validate(const std::string& path) {
  auto config = LoadConfig(path);
  if (!config) return 2;
  size_t filters = 0;
  for (const auto& l : config->listeners) filters += l->chain.size();
  std::cout << path << ": ok (" << config->listeners.size() << " listener(s), " << filters
            << " filter(s))\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mxscreen: an SMTP connection screener in front of a real MTA"};
  app.require_subcommand(1);
  std::string config_path = "/etc/mxscreen/mxscreen.yaml";

  auto* run = app.add_subcommand("run", "start the gateway");
  run->add_option("--config,-c", config_path, "config file (YAML or JSON)")->capture_default_str();

  auto* validate = app.add_subcommand("validate", "check a config file and print every error");
  validate->add_option("--config,-c", config_path, "config file (YAML or JSON)")
      ->capture_default_str();

  mxs::ImportPostfixOptions import_opts;
  auto* import = app.add_subcommand("import-postfix",
                                    "print the mxscreen YAML equivalent of a postscreen setup");
  import->add_option("--main-cf", import_opts.main_cf, "Postfix main.cf")->required();
  import->add_option("--master-cf", import_opts.master_cf, "Postfix master.cf");
  import->add_option("--zmprov", import_opts.zmprov, "Zimbra zmprov lines (zmprov mcf NAME VALUE)");
  import
      ->add_option("--backend", import_opts.backend,
                   "HOST:PORT of the MTA that passing clients are handed to")
      ->capture_default_str();

  // ---- verdict get|delete|import: a stopped gateway's verdict store
  // (core/verdict_cli.h).
  mxs::VerdictCliOptions verdict_opts;
  auto* verdict = app.add_subcommand(
      "verdict", "read, remove or import verdict store records (the gateway must be stopped)");
  verdict->require_subcommand(1);
  for (const char* name : {"get", "delete"}) {
    auto* sub = verdict->add_subcommand(name, std::string(name) == "get"
                                                  ? "print a client's passes and when they expire"
                                                  : "remove a client's record");
    sub->add_option("ADDR", verdict_opts.address, "client IP address")->required();
    sub->add_option("--config,-c", verdict_opts.config_path, "config file (YAML or JSON)")
        ->capture_default_str();
    sub->add_option("--listener", verdict_opts.listener,
                    "whose store (default: the first listener)");
    sub->final_callback([&verdict_opts, name] { verdict_opts.command = name; });
  }
  auto* verdict_import =
      verdict->add_subcommand("import", "import a postscreen cache dump (postmap -s btree:PATH)");
  verdict_import->add_option("--from-postmap", verdict_opts.from_postmap, "the dump (- for stdin)")
      ->required();
  verdict_import->add_option("--config,-c", verdict_opts.config_path, "config file (YAML or JSON)")
      ->capture_default_str();
  verdict_import->add_option("--listener", verdict_opts.listener,
                             "whose store (default: the first listener)");
  verdict_import->final_callback([&verdict_opts] { verdict_opts.command = "import"; });
  // ---- end verdict

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (*run) return Run(config_path);
  if (*validate) return Validate(config_path);
  if (*import) return mxs::RunImportPostfix(import_opts, std::cout, std::cerr);
  if (*verdict) return mxs::RunVerdictCommand(verdict_opts, std::cout, std::cerr);
  return 2;
}

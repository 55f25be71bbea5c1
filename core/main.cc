// main: the `mxscreen` command line. Subcommands: run (from a static file,
// or fed by a control plane), validate, verdict, import-postfix, stats. Exit codes:
// 0 success, 1 runtime failure, 2 bad usage or invalid config. Names no
// filter: filters register themselves.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <mutex>
#include <optional>

#include "core/admin_server.h"
#include "core/config_error.h"
#include "core/control_client.h"
#include "core/gateway_config.h"
#include "core/import_postfix.h"
#include "core/logger.h"
#include "core/privileges.h"
#include "core/sd_notify.h"
#include "core/server.h"
#include "core/stats_cli.h"
#include "core/verdict_cli.h"
#include "core/waiting_admin_backend.h"

namespace {

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Reads the config file and checks its control_plane section, printing the
// error for people. False on error.
bool LoadBootstrap(const std::string& path, mxs::config::v1::Bootstrap* bootstrap,
                   std::optional<mxs::ControlPlaneConfig>* cp) {
  try {
    *bootstrap = mxs::LoadBootstrapFile(path);
    *cp = mxs::BuildControlPlaneConfig(*bootstrap, DirOf(path));
    return true;
  } catch (const mxs::ConfigError& e) {
    std::cerr << "mxscreen: " << path << ": " << e.what() << "\n";
    return false;
  }
}

// Builds a static config, printing the error for people. nullptr on error.
std::shared_ptr<const mxs::GatewayConfig> BuildConfig(const mxs::config::v1::Bootstrap& bootstrap,
                                                      const std::string& path) {
  try {
    return mxs::BuildGatewayConfig(bootstrap, DirOf(path));
  } catch (const mxs::ConfigError& e) {
    std::cerr << "mxscreen: " << path << ": " << e.what() << "\n";
    return nullptr;
  }
}

// A failure that ends the gateway: to the log, and to stderr too when the
// log goes elsewhere. Returns the exit code.
int Fatal(mxs::Logger& logger, const mxs::LoggingConfig& logging, const std::string& what) {
  logger.Logf("mxscreen", "fatal: %s", what.c_str());
  if (logging.sink != mxs::config::v1::Logging::STDERR) std::cerr << "mxscreen: " << what << "\n";
  return 1;
}

// Blocks the signals that Server::Run handles, so workers (and the control
// client's thread) never receive them.
sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&set, s);
  return set;
}

// Opens the log, makes it the process's, and ignores SIGPIPE (a client that
// resets the connection must not kill the gateway). Null (error printed) on
// failure.
std::shared_ptr<mxs::Logger> StartLogging(const mxs::LoggingConfig& config,
                                          const std::string& hostname) {
  std::shared_ptr<mxs::Logger> logger;
  try {
    logger = std::make_shared<mxs::Logger>(config, hostname);
  } catch (const std::exception& e) {
    std::cerr << "mxscreen: " << e.what() << "\n";
    return nullptr;
  }
  mxs::Logger::SetGlobal(logger);
  std::signal(SIGPIPE, SIG_IGN);
  return logger;
}

// Bootstrap.user looked up before anything starts, so a typo is a config
// error (exit 2) rather than a gateway that came up as root.
bool LookUpRunAs(const std::string& user, const std::string& path,
                 std::optional<mxs::RunAsUser>* out) {
  if (user.empty()) return true;
  try {
    *out = mxs::LookUpUser(user);
    return true;
  } catch (const std::exception& e) {
    std::cerr << "mxscreen: " << path << ": user: " << e.what() << "\n";
    return false;
  }
}

// Before the stores open (as root): a store directory that does not exist
// yet is created for the user, or RocksDB would create it owned by root.
void PrepareStores(const mxs::GatewayConfig& config, const std::optional<mxs::RunAsUser>& run_as) {
  if (!run_as || geteuid() != 0) return;
  for (const auto& l : config.listeners) {
    if (!l->store_path.empty()) mxs::PrepareStoreDirectory(l->store_path, *run_as);
  }
}

// After the listeners, the log and the stores are open: becomes the user
// for every thread, then checks that the stores can still grow. "" or the
// reason; the caller must stop (some threads may have switched already).
std::string BecomeUser(const std::optional<mxs::RunAsUser>& run_as,
                       const mxs::GatewayConfig& config, mxs::Server& server, mxs::Logger& logger) {
  if (!run_as) return "";
  const auto& u = *run_as;
  if (getuid() == u.uid && geteuid() == u.uid) {
    // Started as the user already (systemd's User=, with the port-binding
    // capability): nothing to switch.
    logger.Logf("mxscreen", "running as user %s (uid %u, gid %u)", u.name.c_str(),
                static_cast<unsigned>(u.uid), static_cast<unsigned>(getgid()));
  } else if (geteuid() != 0) {
    return "cannot switch to user " + u.name + ": not started as root (uid " +
           std::to_string(geteuid()) + ")";
  } else {
    std::string err = mxs::DropPrivileges(u);
    if (!err.empty()) return "cannot drop root privileges: " + err;
    logger.Logf("mxscreen", "switched to user %s (uid %u, gid %u)", u.name.c_str(),
                static_cast<unsigned>(u.uid), static_cast<unsigned>(u.gid));
  }
  server.SetRunAs(u.name);
  for (const auto& l : config.listeners) {
    if (l->store_path.empty()) continue;
    std::string err = mxs::CheckWritable(l->store_path, u.name);
    if (!err.empty()) return "verdict store of listener " + l->name + ": " + err;
  }
  return "";
}

// Tells systemd (Type=notify) that the gateway serves: listeners bound,
// privileges dropped.
void NotifyReady(mxs::Logger& logger, size_t listeners) {
  std::string err = mxs::SdNotify("READY=1\nSTATUS=serving " + std::to_string(listeners) +
                                  " listener(s)\nMAINPID=" + std::to_string(getpid()));
  if (!err.empty()) logger.Logf("mxscreen", "warning: %s", err.c_str());
}

// A gateway whose config comes from a control plane: start from the last
// pushed config on disk, else from the local file's listeners, else wait for
// the first push; then keep applying pushes while serving. Until a server
// runs, a push is applied by starting the server with it, so a config that
// cannot start (an address in use, a store that does not open) is NACKed
// rather than ACKed and cached.
int RunWithControlPlane(const std::string& path, const mxs::config::v1::Bootstrap& local,
                        const mxs::ControlPlaneConfig& cp) {
  const std::string base = DirOf(path);
  std::optional<mxs::RunAsUser> run_as;
  if (!LookUpRunAs(local.user(), path, &run_as)) return 2;
  // The logger is host-local: the local file's logging section.
  mxs::LoggingConfig logging;
  try {
    logging = mxs::BuildLoggingConfig(local.logging());
  } catch (const mxs::ConfigError& e) {
    std::cerr << "mxscreen: " << path << ": " << e.what() << "\n";
    return 2;
  }
  auto logger = StartLogging(logging, mxs::HostnameOf(local));
  if (!logger) return 1;
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  // Until a server runs, the admin server (host-local, from the file) still
  // answers: alive, not ready, saying what it waits for. The server's own
  // admin server takes the address over when it starts.
  std::optional<mxs::AdminConfig> admin_config;
  try {
    admin_config = mxs::BuildAdminConfig(local, base);
  } catch (const mxs::ConfigError& e) {
    std::cerr << "mxscreen: " << path << ": " << e.what() << "\n";
    return 2;
  }
  mxs::WaitingAdminBackend waiting_backend("the first config of fleet " + cp.fleet + " from " +
                                           cp.address);
  std::unique_ptr<mxs::AdminServer> waiting_admin;
  auto open_waiting_admin = [&] {
    if (!admin_config || waiting_admin) return;
    try {
      waiting_admin = std::make_unique<mxs::AdminServer>(*admin_config, waiting_backend, *logger);
    } catch (const std::exception& e) {
      logger->Logf("mxscreen", "warning: %s", e.what());
    }
  };

  std::mutex mu;  // guards server, first_config and waiting_admin
  std::unique_ptr<mxs::Server> server;
  std::shared_ptr<const mxs::GatewayConfig> first_config;  // the one the server started with
  auto start_server = [&](std::shared_ptr<const mxs::GatewayConfig> config) -> std::string {
    waiting_admin.reset();  // frees the admin address for the server's own
    try {
      PrepareStores(*config, run_as);
      auto s = std::make_unique<mxs::Server>(config, logger, path);
      s->Start();
      server = std::move(s);
      first_config = config;
    } catch (const std::exception& e) {
      open_waiting_admin();
      return e.what();
    }
    return "";
  };

  std::string running_version;
  try {
    if (auto cache = mxs::LoadPushCache(cp.cache_path)) {
      if (cache->fleet != cp.fleet) {
        logger->Logf("mxscreen", "warning: %s holds fleet %s, not %s: not used",
                     cp.cache_path.c_str(), cache->fleet.c_str(), cp.fleet.c_str());
      } else {
        std::string err;
        try {
          auto config = mxs::BuildGatewayConfig(mxs::MergePushedConfig(local, cache->config), base,
                                                true, cache->version);
          err = start_server(config);
        } catch (const mxs::ConfigError& e) {
          err = std::string("it no longer builds: ") + e.what();
        }
        if (err.empty()) {
          running_version = cache->version;
          logger->Logf("mxscreen", "starting from version %s of fleet %s (%s)",
                       cache->version.c_str(), cp.fleet.c_str(), cp.cache_path.c_str());
        } else {
          logger->Logf("mxscreen", "warning: %s: version %s does not start: %s",
                       cp.cache_path.c_str(), cache->version.c_str(), err.c_str());
        }
      }
    }
  } catch (const std::exception& e) {
    logger->Logf("mxscreen", "warning: %s", e.what());
  }
  if (!server && local.listeners_size() > 0) {
    auto config = BuildConfig(local, path);
    if (!config) return 2;
    std::string err = start_server(config);
    if (!err.empty()) return Fatal(*logger, logging, err);
  }

  auto apply = [&](const mxs::config::v1::Bootstrap& pushed,
                   const std::string& version) -> std::string {
    std::shared_ptr<const mxs::GatewayConfig> built;
    try {
      built = mxs::BuildGatewayConfig(mxs::MergePushedConfig(local, pushed), base, true, version);
    } catch (const mxs::ConfigError& e) {
      return e.what();
    }
    std::lock_guard<std::mutex> lock(mu);
    if (!server) return start_server(built);
    return server->Apply(built);
  };
  if (!server) open_waiting_admin();  // the client's thread is not running yet
  mxs::ControlClient client(cp, local.node_id(), running_version, *logger, apply);
  client.Start();
  bool have_server;
  {
    std::lock_guard<std::mutex> lock(mu);
    have_server = server != nullptr;
  }
  if (!have_server) {
    logger->Logf("mxscreen", "waiting for the first config of fleet %s from %s", cp.fleet.c_str(),
                 cp.address.c_str());
    timespec tick{0, 200 * 1000 * 1000};
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (server) break;
      }
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        logger->Logf("mxscreen", "terminating on signal %d", sig);
        client.Stop();
        return 0;
      }
    }
  }
  // The server is never replaced from here on, and outlives the client's
  // thread (stopped first).
  mxs::Server* running;
  std::shared_ptr<const mxs::GatewayConfig> started_with;
  {
    std::lock_guard<std::mutex> lock(mu);
    running = server.get();
    started_with = first_config;
  }
  // Pushes that arrive from here on are applied as the user (a push cache
  // written by the client thread, too: its directory must be the user's).
  std::string drop_err = BecomeUser(run_as, *started_with, *running, *logger);
  if (!drop_err.empty()) {
    client.Stop();
    return Fatal(*logger, logging, drop_err);
  }
  NotifyReady(*logger, started_with->listeners.size());
  running->SetReloadHandler([&] {
    logger->Logf("mxscreen",
                 "SIGHUP ignored: the config comes from the control plane %s (restart to "
                 "re-read %s)",
                 cp.address.c_str(), path.c_str());
  });
  try {
    // Unblocks the signals once it handles them; stops the workers, and
    // later pushes are refused.
    running->Run();
  } catch (const std::exception& e) {
    client.Stop();
    return Fatal(*logger, logging, e.what());
  }
  client.Stop();
  std::lock_guard<std::mutex> lock(mu);
  server.reset();
  return 0;
}

int Run(const std::string& path) {
  mxs::config::v1::Bootstrap local;
  std::optional<mxs::ControlPlaneConfig> cp;
  if (!LoadBootstrap(path, &local, &cp)) return 2;
  if (cp) {
    // Every merged config carries the cache path as resolved here, so it
    // does not depend on where a pushed config puts the verdict store.
    local.mutable_control_plane()->set_cache_path(cp->cache_path);
    return RunWithControlPlane(path, local, *cp);
  }
  auto config = BuildConfig(local, path);
  if (!config) return 2;
  std::optional<mxs::RunAsUser> run_as;
  if (!LookUpRunAs(config->user, path, &run_as)) return 2;
  auto logger = StartLogging(config->logging, config->hostname);
  if (!logger) return 1;
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  try {
    PrepareStores(*config, run_as);
    mxs::Server server(config, logger, path);
    server.Start();
    std::string err = BecomeUser(run_as, *config, server, *logger);
    if (!err.empty()) return Fatal(*logger, config->logging, err);
    NotifyReady(*logger, config->listeners.size());
    server.Run();  // unblocks the signals once it handles them
  } catch (const std::exception& e) {
    return Fatal(*logger, config->logging, e.what());
  }
  return 0;
}

int Validate(const std::string& path) {
  // A control-plane gateway's bootstrap may hold no listeners: its own part
  // (node_id, control_plane, logging) is what there is to check.
  mxs::config::v1::Bootstrap local;
  std::optional<mxs::ControlPlaneConfig> cp;
  if (!LoadBootstrap(path, &local, &cp)) return 2;
  if (cp && local.listeners_size() == 0) {
    try {
      mxs::BuildLoggingConfig(local.logging());
      mxs::BuildAdminConfig(local, DirOf(path));
    } catch (const mxs::ConfigError& e) {
      std::cerr << "mxscreen: " << path << ": " << e.what() << "\n";
      return 2;
    }
    std::cout << path << ": ok (node " << local.node_id() << ", fleet " << cp->fleet
              << " from the control plane " << cp->address
              << (cp->tls() ? " over mutual TLS" : " in plaintext") << ")\n";
    return 0;
  }
  auto config = BuildConfig(local, path);
  if (!config) return 2;
  // The user must exist here, where the gateway will run (ExecStartPre).
  std::optional<mxs::RunAsUser> run_as;
  if (!LookUpRunAs(config->user, path, &run_as)) return 2;
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

  // ---- stats: a report from postscreen or mxscreen logs (core/stats_cli.h).
  mxs::StatsCliOptions stats_opts;
  auto* stats = app.add_subcommand(
      "stats",
      "report on postscreen or mxscreen logs (outcomes, rejects, DNSBL hits, top clients)");
  stats->add_option("LOGFILE", stats_opts.files,
                    "log files, plain or gzip-compressed (none or - : stdin)");
  stats->add_flag("--json", stats_opts.json, "JSON for scripts (schema mxscreen-stats/1)");
  stats->add_option("--top", stats_opts.top, "clients and networks to list (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  stats
      ->add_option("--program", stats_opts.programs,
                   "count only this program name (and its dnsblog sibling); repeatable; "
                   "default: any */postscreen and */dnsblog")
      ->allow_extra_args(false);  // one name per --program: LOGFILEs follow
  // ---- end stats

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
  if (*stats) return mxs::RunStatsCommand(stats_opts, std::cout, std::cerr);
  return 2;
}

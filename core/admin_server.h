// admin_server: the admin HTTP(S) server (/metrics, /healthz, /ready,
// /config_dump, /verdicts, /api/summary and the bundled dashboard). It runs
// on a thread and io_context of its own, so the data plane never waits on a
// scrape: a slow scraper or a long /config_dump only ever delays other admin
// requests. What each request gets is decided by admin_handler.h; this file
// is the transport (Boost.Beast, OpenSSL for HTTPS). Beast stays in the .cc.
#pragma once

#include <memory>

#include "core/admin_config.h"
#include "core/admin_handler.h"

namespace mxs {

class Logger;

class AdminServer {
 public:
  // Binds config.address and starts serving. Throws std::runtime_error
  // ("admin server: cannot listen on ADDR: REASON", or a TLS file that does
  // not load). `backend` must outlive the server.
  AdminServer(const AdminConfig& config, AdminBackend& backend, Logger& logger);
  // Stops accepting, closes open connections and joins the thread.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // A new config on the same address: token and TLS files are swapped in
  // for the next connection (the socket stays). Throws std::runtime_error
  // when the TLS files do not load; the old config then stays.
  void Update(const AdminConfig& config);
  AdminConfig config() const;
  // The bound port (config.address's, or the one the kernel chose for 0).
  uint16_t port() const;

  // The transport's state (admin_server.cc); public only so that file's
  // connection classes can name it.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mxs

// admin_server: Boost.Beast HTTP/1.1 on the admin thread. One connection at
// a time per socket, keep-alive, 30 s per request, 8 KiB of header and no
// body (no admin request carries one).
#include "core/admin_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <mutex>
#include <thread>

#include "core/logger.h"

namespace mxs {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr size_t kHeaderLimit = 8192;

std::shared_ptr<ssl::context> MakeTlsContext(const AdminConfig& c) {
  if (!c.tls()) return nullptr;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(c.cert_file, ec);
  if (ec) throw std::runtime_error("admin server: " + c.cert_file + ": " + ec.message());
  ctx->use_private_key_file(c.key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("admin server: " + c.key_file + ": " + ec.message());
  if (!c.client_ca_file.empty()) {
    ctx->load_verify_file(c.client_ca_file, ec);
    if (ec) throw std::runtime_error("admin server: " + c.client_ca_file + ": " + ec.message());
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

}  // namespace

// Connections and handlers point at Impl without owning it: the io_context
// (and with it every pending handler) goes before Impl does.
struct AdminServer::Impl {
  Impl(AdminBackend& b, Logger& l) : backend(b), logger(l), acceptor(io) {}

  // The config and TLS context a new connection starts with.
  struct Settings {
    AdminConfig config;
    std::shared_ptr<ssl::context> tls;
  };

  std::shared_ptr<const Settings> current() const {
    std::lock_guard<std::mutex> lock(mu);
    return settings;
  }

  void Accept() {
    acceptor.async_accept([self = this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) self->StartConnection(std::move(socket));
      self->Accept();
    });
  }

  void StartConnection(tcp::socket socket);

  AdminBackend& backend;
  Logger& logger;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread thread;
  uint16_t port = 0;
  mutable std::mutex mu;
  std::shared_ptr<const Settings> settings;
};

namespace {

// One client connection. Stream is beast::tcp_stream or an ssl_stream of one.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  Connection(AdminServer::Impl* server, std::shared_ptr<const AdminServer::Impl::Settings> settings,
             Stream stream)
      : server_(server), settings_(std::move(settings)), stream_(std::move(stream)) {}

  void Start() {
    if constexpr (kTls) {
      Lowest().expires_after(kRequestTimeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](boost::system::error_code ec) {
                                if (ec) return;  // a failed handshake is the client's problem
                                self->Read();
                              });
    } else {
      Read();
    }
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(0);
    Lowest().expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                       if (ec == http::error::end_of_stream) return self->Shutdown();
                       if (ec) {
                         if (ec == http::error::header_limit || ec == http::error::body_limit ||
                             ec == http::error::bad_target || ec == http::error::bad_method ||
                             ec == http::error::bad_version || ec == http::error::bad_field) {
                           self->SendError(400, "400 bad request: " + ec.message() + "\n");
                         }
                         return;
                       }
                       self->Serve();
                     });
  }

  void Serve() {
    auto& req = parser_->get();
    AdminRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    auto auth = req.find(http::field::authorization);
    if (auth != req.end()) {
      r.has_authorization = true;
      r.authorization = std::string(auth->value());
    }
    if constexpr (kTls) {
      SSL* ssl = stream_.native_handle();
      X509* cert = SSL_get_peer_certificate(ssl);
      r.client_cert_verified = cert != nullptr && SSL_get_verify_result(ssl) == X509_V_OK &&
                               !settings_->config.client_ca_file.empty();
      if (cert) X509_free(cert);
    }
    // The newest auth settings apply to every request, also on a kept-alive
    // connection (the TLS context is the connection's own).
    auto latest = server_->current();
    AdminResponse out = HandleAdminRequest(r, latest->config, server_->backend);
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req.version());
    res->result(static_cast<unsigned>(out.status));
    res->set(http::field::server, "mxscreen");
    res->set(http::field::content_type, out.content_type);
    for (const auto& [k, v] : out.headers) res->set(k, v);
    res->keep_alive(req.keep_alive());
    res->body() = std::move(out.body);
    res->prepare_payload();
    Write(std::move(res));
  }

  void SendError(int status, std::string body) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(status));
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->keep_alive(false);
    res->body() = std::move(body);
    res->prepare_payload();
    Write(std::move(res));
  }

  void Write(std::shared_ptr<http::response<http::string_body>> res) {
    Lowest().expires_after(kRequestTimeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](boost::system::error_code ec, size_t) {
                        if (ec) return;
                        if (!res->keep_alive()) return self->Shutdown();
                        self->Read();
                      });
  }

  void Shutdown() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](boost::system::error_code) {
        boost::system::error_code ignored;
        self->Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    } else {
      boost::system::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  AdminServer::Impl* server_;
  std::shared_ptr<const AdminServer::Impl::Settings> settings_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
};

}  // namespace

void AdminServer::Impl::StartConnection(tcp::socket socket) {
  auto s = current();
  if (s->tls) {
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    std::make_shared<Connection<TlsStream>>(
        this, s, TlsStream(beast::tcp_stream(std::move(socket)), *s->tls))
        ->Start();
  } else {
    std::make_shared<Connection<beast::tcp_stream>>(this, s, beast::tcp_stream(std::move(socket)))
        ->Start();
  }
}

AdminServer::AdminServer(const AdminConfig& config, AdminBackend& backend, Logger& logger)
    : impl_(std::make_unique<Impl>(backend, logger)) {
  auto settings = std::make_shared<Impl::Settings>();
  settings->config = config;
  settings->tls = MakeTlsContext(config);
  impl_->settings = std::move(settings);
  std::string where = config.address.ToString();
  tcp::endpoint ep(asio::ip::make_address(config.address.address.ToString()), config.address.port);
  boost::system::error_code ec;
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("admin server: cannot listen on " + where + ": " + ec.message());
  impl_->port = acc.local_endpoint().port();
  where = Endpoint{config.address.address, impl_->port}.ToString();
  impl_->Accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
  logger.Logf("mxscreen", "admin server on %s%s", where.c_str(), config.tls() ? " (HTTPS)" : "");
}

AdminServer::~AdminServer() {
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->io.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

void AdminServer::Update(const AdminConfig& config) {
  auto settings = std::make_shared<Impl::Settings>();
  settings->config = config;
  settings->tls = MakeTlsContext(config);
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->settings = std::move(settings);
}

AdminConfig AdminServer::config() const { return impl_->current()->config; }

uint16_t AdminServer::port() const { return impl_->port; }

}  // namespace mxs

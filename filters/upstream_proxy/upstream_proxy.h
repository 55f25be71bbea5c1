// upstream_proxy: postscreen's upstream PROXY protocol support
// (postscreen_upstream_proxy_protocol = haproxy). A listener-phase filter: it
// reads the PROXY v1/v2 header a load balancer sends before the client's
// bytes and gives the session the real client and server endpoints, before
// the CONNECT line, the limits and every test. A header that is missing,
// malformed, cut off or late gets postscreen's warning and
// "421 4.3.2 No system resources". Judged on every connection, never cached.
#pragma once

#include <chrono>

#include "core/filter.h"
#include "filters/upstream_proxy/proxy_parser.h"

namespace mxs::upstream_proxy {

// postscreen's reply to any endpoint failure (psc_endpt_lookup_done).
constexpr const char* kReply = "421 4.3.2 No system resources";
// At most this much of a refused header is escaped into the warning.
constexpr size_t kMaxLoggedBytes = 512;

class UpstreamProxyFilter : public Filter {
 public:
  explicit UpstreamProxyFilter(ProxyVersions versions) : versions_(versions) {}
  ListenerVerdict OnListenerInput(SessionCallbacks& cb, std::string_view bytes,
                                  ListenerEvent event) override;

 private:
  ProxyVersions versions_;
};

}  // namespace mxs::upstream_proxy

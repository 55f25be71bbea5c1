// proxy_header: the PROXY protocol header (v1 text, v2 binary) that announces
// the real client to the backend MTA at hand-off, so Postfix smtpd
// (smtpd_upstream_proxy_protocol = haproxy) logs and judges the real client.
#pragma once

#include <string>

#include "core/ip_address.h"

namespace mxs {

std::string ProxyV1Header(const Endpoint& client, const Endpoint& server);
std::string ProxyV2Header(const Endpoint& client, const Endpoint& server);

}  // namespace mxs

// handoff: gives a client that passed to the real MTA. Connects to the first
// healthy backend (connect timeout, failover, a failing backend skipped for a
// while), announces the real client with a PROXY v2/v1 header (or none),
// forwards what the client already sent, then relays bytes both ways until
// both sides are closed, passing half-closes on (splice(2) where possible).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>

#include "core/gateway_config.h"
#include "core/listener_state.h"

namespace mxs {

class Worker;

struct HandoffRequest {
  boost::asio::ip::tcp::socket client;
  Endpoint client_endpoint;
  Endpoint server_endpoint;
  std::string pending;  // client bytes read before the hand-off
  bool teaser_sent = false;
  std::string client_tag;
};

void StartHandoff(Worker& worker, std::shared_ptr<const ListenerConfig> config,
                  std::shared_ptr<ListenerState> state, HandoffRequest request);

}  // namespace mxs

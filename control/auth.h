// auth: who is calling the control plane and what they may do. With TLS the
// caller is the subject common name of the client certificate the TLS layer
// verified against the configured CA (without a CN, its first
// subjectAltName); a gateway's identity picks its fleet
// (so one fleet's config, secrets included, never reaches another fleet's
// gateways) and an operator's identity picks the fleets they may change.
// Over plaintext (loopback only, unless opted in) a gateway's claimed fleet
// is trusted and every operator is "local" with every right.
#pragma once

#include <string>
#include <vector>

#include "mxscreen/control/v1/server_config.pb.h"

namespace grpc {
class ServerContext;
}

namespace mxs::control {

namespace cp = ::mxscreen::control::v1;

struct Caller {
  std::string identity;  // certificate CN, or "local" over plaintext
  bool authenticated = false;
  std::string peer;
};

class Authorizer {
 public:
  explicit Authorizer(const cp::ControlPlaneConfig& config);
  bool tls() const { return tls_; }
  Caller Identify(const grpc::ServerContext& ctx) const;
  // The fleet a gateway may fetch: from its certificate with TLS (claimed
  // must match or be empty), the claim itself over plaintext. On refusal
  // returns "" with *why set.
  std::string GatewayFleet(const Caller& caller, const std::string& claimed,
                           std::string* why) const;
  // Whether an operator may change (and read) `fleet`.
  bool MayOperate(const Caller& caller, const std::string& fleet) const;
  // Whether the caller is an operator at all.
  bool IsOperator(const Caller& caller) const;

  // "mx1.eu.example" matches "mx1.eu.example" and "*.eu.example".
  static bool Matches(const std::string& pattern, const std::string& identity);

 private:
  bool tls_;
  std::vector<cp::FleetMembers> fleets_;
  std::vector<cp::Operator> operators_;
};

}  // namespace mxs::control

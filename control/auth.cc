// auth: identities from gRPC's auth context, matched against the config.
#include "control/auth.h"

#include <grpcpp/grpcpp.h>

namespace mxs::control {

Authorizer::Authorizer(const cp::ControlPlaneConfig& config)
    : tls_(config.has_tls()),
      fleets_(config.fleets().begin(), config.fleets().end()),
      operators_(config.operators().begin(), config.operators().end()) {}

bool Authorizer::Matches(const std::string& pattern, const std::string& identity) {
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    const std::string suffix = pattern.substr(1);  // ".eu.example"
    return identity.size() > suffix.size() &&
           identity.compare(identity.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return pattern == identity;
}

Caller Authorizer::Identify(const grpc::ServerContext& ctx) const {
  Caller c;
  c.peer = ctx.peer();
  if (!tls_) {
    c.identity = "local";
    c.authenticated = true;
    return c;
  }
  auto auth = ctx.auth_context();
  if (auth && auth->IsPeerAuthenticated()) {
    // The subject CN; a certificate without one is known by its first
    // subjectAltName.
    for (const char* property : {"x509_common_name", "x509_subject_alternative_name"}) {
      for (const auto& v : auth->FindPropertyValues(property)) {
        c.identity.assign(v.data(), v.size());
        break;
      }
      if (!c.identity.empty()) break;
    }
    c.authenticated = !c.identity.empty();
  }
  return c;
}

std::string Authorizer::GatewayFleet(const Caller& caller, const std::string& claimed,
                                     std::string* why) const {
  if (!tls_) {
    if (claimed.empty()) *why = "the node names no fleet";
    return claimed;
  }
  if (!caller.authenticated) {
    *why = "no verified client certificate";
    return "";
  }
  for (const auto& f : fleets_) {
    for (const auto& pattern : f.identities()) {
      if (!Matches(pattern, caller.identity)) continue;
      if (!claimed.empty() && claimed != f.fleet()) {
        *why = "certificate " + caller.identity + " belongs to fleet " + f.fleet() + ", not " +
               claimed;
        return "";
      }
      return f.fleet();
    }
  }
  *why = "certificate " + caller.identity + " is in no fleet";
  return "";
}

bool Authorizer::IsOperator(const Caller& caller) const {
  if (!tls_) return true;
  if (!caller.authenticated) return false;
  for (const auto& o : operators_) {
    if (Matches(o.identity(), caller.identity)) return true;
  }
  return false;
}

bool Authorizer::MayOperate(const Caller& caller, const std::string& fleet) const {
  if (!tls_) return true;
  if (!caller.authenticated) return false;
  for (const auto& o : operators_) {
    if (!Matches(o.identity(), caller.identity)) continue;
    for (const auto& f : o.fleets()) {
      if (f == "*" || f == fleet) return true;
    }
  }
  return false;
}

}  // namespace mxs::control

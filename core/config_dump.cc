// config_dump: fills in the builder's defaults and prints JSON.
#include "core/config_dump.h"

#include <google/protobuf/util/json_util.h>

#include "core/json_string.h"

namespace mxs {
namespace {

std::string Secs(Seconds s) { return std::to_string(s.count()) + "s"; }

void FillLimits(const LimitsConfig& l, config::v1::Limits* out) {
  out->set_client_connection_count_limit(l.client_connection_count_limit);
  out->set_pre_queue_limit(l.pre_queue_limit);
  out->set_post_queue_limit(l.post_queue_limit);
  out->set_relay_limit(l.relay_limit);
}

config::v1::Action ProtoAction(Action a) {
  switch (a) {
    case Action::kIgnore:
      return config::v1::IGNORE;
    case Action::kEnforce:
      return config::v1::ENFORCE;
    case Action::kDrop:
      return config::v1::DROP;
  }
  return config::v1::ACTION_UNSPECIFIED;
}

}  // namespace

config::v1::Bootstrap EffectiveBootstrap(const GatewayConfig& c) {
  config::v1::Bootstrap b = c.source;
  b.set_hostname(c.hostname);
  b.set_workers(c.workers);
  if (c.admin) {
    auto* a = b.mutable_admin();
    if (a->address().empty()) a->set_address(kDefaultAdminAddress);
    a->set_bearer_token_file(c.admin->bearer_token_file);
    a->set_cert_file(c.admin->cert_file);
    a->set_key_file(c.admin->key_file);
    a->set_client_ca_file(c.admin->client_ca_file);
  }
  for (int i = 0; i < b.listeners_size() && i < static_cast<int>(c.listeners.size()); ++i) {
    const ListenerConfig& lc = *c.listeners[i];
    auto* l = b.mutable_listeners(i);
    l->set_name(lc.name);
    l->set_program_name(lc.program_name);
    l->set_banner(lc.banner);
    FillLimits(lc.limits, l->mutable_limits());
    l->set_greet_wait(Secs(lc.greet_wait));
    l->set_greet_wait_stress(Secs(lc.greet_wait_stress));
    auto* smtp = l->mutable_smtp();
    smtp->set_command_count_limit(lc.engine.command_count_limit);
    smtp->set_command_time_limit(Secs(lc.engine.command_time_limit));
    smtp->set_command_time_limit_stress(Secs(lc.engine.command_time_limit_stress));
    smtp->set_line_length_limit(lc.engine.line_length_limit);
    smtp->set_helo_required(lc.engine.helo_required);
    smtp->set_disable_vrfy(lc.engine.disable_vrfy);
    auto* h = l->mutable_handoff();
    h->set_proxy_protocol(lc.handoff.proxy == ProxyVersion::kV2   ? config::v1::Handoff::V2
                          : lc.handoff.proxy == ProxyVersion::kV1 ? config::v1::Handoff::V1
                                                                  : config::v1::Handoff::NONE);
    h->set_connect_timeout(Secs(lc.handoff.connect_timeout));
    h->set_failure_backoff(Secs(lc.handoff.failure_backoff));
    h->set_splice(lc.handoff.splice);
    auto* st = l->mutable_store();
    st->set_path(lc.store_path);
    st->set_retention_time(Secs(lc.store_retention));
    st->set_cleanup_interval(Secs(lc.store_cleanup_interval));
    st->set_memory_records(lc.store_memory_records);
    for (auto& f : *l->mutable_filters()) {
      bool enabled = !f.has_enabled() || f.enabled();
      f.set_enabled(enabled);
      for (const auto& e : lc.chain) {
        if (e.name != f.name()) continue;
        f.set_action(ProtoAction(e.action));
        f.set_ttl(Secs(e.ttl));
        break;
      }
    }
  }
  return b;
}

std::string ConfigDumpJson(const GatewayConfig& c) {
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  std::string out;
  auto st = google::protobuf::util::MessageToJsonString(EffectiveBootstrap(c), &out, o);
  if (!st.ok()) {
    return "{\"error\":" + JsonString("cannot print the config: " + std::string(st.message())) +
           "}\n";
  }
  return out;
}

}  // namespace mxs

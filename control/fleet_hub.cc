// fleet_hub: versions in memory, node status written through to the store.
#include "control/fleet_hub.h"

#include <algorithm>
#include <cstdlib>

namespace mxs::control {

namespace {
std::string NodeKey(const std::string& fleet, const std::string& id) { return fleet + "/" + id; }
}  // namespace

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

FleetHub::FleetHub(ControlStore& store) : store_(store) {
  for (auto& v : store_.NewestVersions()) {
    std::string fleet = v.fleet();  // v is moved from below
    newest_[fleet] = std::make_shared<const cp::ConfigVersion>(std::move(v));
  }
  for (auto& n : store_.Nodes()) {
    Node node;
    n.set_connected(false);
    node.status = std::move(n);
    std::string key = NodeKey(node.status.fleet(), node.status.node_id());
    nodes_[key] = std::move(node);
  }
}

std::shared_ptr<const cp::ConfigVersion> FleetHub::Newest(const std::string& fleet) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = newest_.find(fleet);
  return it == newest_.end() ? nullptr : it->second;
}

cp::ConfigVersion FleetHub::Publish(cp::ConfigVersion v, cp::AuditRecord audit) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = newest_.find(v.fleet());
  v.set_version(it == newest_.end() ? 1 : it->second->version() + 1);
  audit.set_version(v.version());
  store_.AddVersion(v, std::move(audit));
  newest_[v.fleet()] = std::make_shared<const cp::ConfigVersion>(v);
  cv_.notify_all();
  return v;
}

std::shared_ptr<const cp::ConfigVersion> FleetHub::WaitNewer(const std::string& fleet,
                                                             uint64_t after,
                                                             const std::function<bool()>& stop,
                                                             std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  std::shared_ptr<const cp::ConfigVersion> found;
  cv_.wait_for(lock, timeout, [&] {
    auto it = newest_.find(fleet);
    if (it != newest_.end() && it->second->version() > after) found = it->second;
    return found != nullptr || stop();
  });
  return found;
}

void FleetHub::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

void FleetHub::Persist(const Node& n) {
  try {
    store_.PutNode(n.status);
  } catch (const std::exception&) {
    // Status is also in memory; the next change writes it again.
  }
}

uint64_t FleetHub::Connected(const cp::Node& node, const std::string& fleet,
                             const std::string& peer, const std::string& reported_version) {
  std::lock_guard<std::mutex> lock(mu_);
  Node& n = nodes_[NodeKey(fleet, node.id())];
  n.generation = next_generation_++;
  n.status.set_node_id(node.id());
  n.status.set_fleet(fleet);
  n.status.set_build_version(node.build_version());
  n.status.set_connected(true);
  n.status.set_connected_since_unix(NowUnix());
  n.status.set_last_seen_unix(NowUnix());
  n.status.set_peer(peer);
  n.status.set_applied_version(reported_version);
  n.answered = 0;
  n.sent = 0;
  Persist(n);
  cv_.notify_all();
  return n.generation;
}

void FleetHub::Sent(const std::string& fleet, const std::string& node_id, uint64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(NodeKey(fleet, node_id));
  if (it == nodes_.end()) return;
  it->second.sent = version;
  it->second.sent_at = std::chrono::steady_clock::now();
}

void FleetHub::Answered(const std::string& fleet, const std::string& node_id, uint64_t version,
                        const std::string& running, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(NodeKey(fleet, node_id));
  if (it == nodes_.end()) return;
  Node& n = it->second;
  n.answered = std::max(n.answered, version);
  n.status.set_last_seen_unix(NowUnix());
  n.status.set_applied_version(running);
  if (n.sent == version) {
    n.status.set_last_apply_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - n.sent_at)
                                   .count());
  }
  if (error.empty()) {
    if (!n.status.nacked_version().empty() &&
        std::strtoull(n.status.nacked_version().c_str(), nullptr, 10) <= version) {
      n.status.clear_nacked_version();
      n.status.clear_nack_error();
      n.status.clear_nack_unix();
    }
  } else {
    n.status.set_nacked_version(std::to_string(version));
    n.status.set_nack_error(error);
    n.status.set_nack_unix(NowUnix());
  }
  Persist(n);
  cv_.notify_all();
}

void FleetHub::Disconnected(const std::string& fleet, const std::string& node_id,
                            uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(NodeKey(fleet, node_id));
  if (it == nodes_.end() || it->second.generation != generation) return;
  it->second.status.set_connected(false);
  it->second.status.set_last_seen_unix(NowUnix());
  Persist(it->second);
  cv_.notify_all();
}

std::vector<cp::NodeStatus> FleetHub::Nodes(const std::string& fleet) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<cp::NodeStatus> out;
  for (const auto& [id, n] : nodes_) {
    if (fleet.empty() || n.status.fleet() == fleet) out.push_back(n.status);
  }
  return out;
}

std::vector<std::string> FleetHub::Fleets() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [f, v] : newest_) out.push_back(f);
  for (const auto& [id, n] : nodes_) {
    if (newest_.count(n.status.fleet()) == 0 &&
        std::find(out.begin(), out.end(), n.status.fleet()) == out.end()) {
      out.push_back(n.status.fleet());
    }
  }
  return out;
}

bool FleetHub::AllAnswered(const std::string& fleet, uint64_t version) const {
  for (const auto& [id, n] : nodes_) {
    if (n.status.fleet() == fleet && n.status.connected() && n.answered < version) return false;
  }
  return true;
}

bool FleetHub::WaitAnswered(const std::string& fleet, uint64_t version,
                            std::chrono::milliseconds timeout, const std::function<bool()>& stop,
                            std::vector<cp::NodeStatus>* nodes) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool done = false;
  while (!(done = AllAnswered(fleet, version)) && !stop()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    // In slices, so a cancelled call or a shutdown ends the wait soon.
    cv_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(200)));
  }
  nodes->clear();
  for (const auto& [id, n] : nodes_) {
    if (n.status.fleet() == fleet) nodes->push_back(n.status);
  }
  return done;
}

}  // namespace mxs::control

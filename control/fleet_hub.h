// fleet_hub: what the control plane knows right now, shared by every stream
// and admin call: each fleet's newest version (a new one wakes every stream
// of that fleet at once) and each gateway's status, written through to the
// store so a restart loses nothing. One mutex and one condition variable:
// a fleet of a few hundred gateways changes state a few times a second.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "control/control_store.h"
#include "mxscreen/control/v1/discovery.pb.h"

namespace mxs::control {

class FleetHub {
 public:
  // Loads newest versions and node status from `store`; every node starts
  // disconnected.
  explicit FleetHub(ControlStore& store);

  std::shared_ptr<const cp::ConfigVersion> Newest(const std::string& fleet) const;
  // Assigns the next version number of v.fleet(), stores it with `audit`
  // (its version filled in) and wakes the fleet's streams. Throws
  // std::runtime_error when the store fails.
  cp::ConfigVersion Publish(cp::ConfigVersion v, cp::AuditRecord audit);

  // Blocks until the fleet has a version newer than `after`, `stop()` turns
  // true, or `timeout` passes; returns that version or null.
  std::shared_ptr<const cp::ConfigVersion> WaitNewer(const std::string& fleet, uint64_t after,
                                                     const std::function<bool()>& stop,
                                                     std::chrono::milliseconds timeout);
  // Wakes every waiter (a stream that ends, shutdown).
  void Wake();

  // A stream opened: returns its generation, so a stale stream of the same
  // node cannot mark the newer one disconnected.
  uint64_t Connected(const cp::Node& node, const std::string& fleet, const std::string& peer,
                     const std::string& reported_version);
  // Nodes are known by fleet and id: the same id in two fleets (or a
  // certificate of one fleet reusing another's id) is two nodes.
  void Sent(const std::string& fleet, const std::string& node_id, uint64_t version);
  // An ACK (error empty) or NACK of `version`; `running` is what it runs now.
  void Answered(const std::string& fleet, const std::string& node_id, uint64_t version,
                const std::string& running, const std::string& error);
  void Disconnected(const std::string& fleet, const std::string& node_id, uint64_t generation);

  // fleet "" = all.
  std::vector<cp::NodeStatus> Nodes(const std::string& fleet) const;
  std::vector<std::string> Fleets() const;
  // Blocks until every connected node of `fleet` answered `version` (or a
  // newer one), or the timeout; true when complete.
  // Also ends early when stop() turns true (checked a few times a second).
  bool WaitAnswered(const std::string& fleet, uint64_t version, std::chrono::milliseconds timeout,
                    const std::function<bool()>& stop, std::vector<cp::NodeStatus>* nodes);

 private:
  struct Node {
    cp::NodeStatus status;
    uint64_t generation = 0;
    uint64_t answered = 0;  // newest version ACKed or NACKed
    std::chrono::steady_clock::time_point sent_at;
    uint64_t sent = 0;
  };
  bool AllAnswered(const std::string& fleet, uint64_t version) const;
  void Persist(const Node& n);

  ControlStore& store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<const cp::ConfigVersion>> newest_;
  std::map<std::string, Node> nodes_;  // by NodeKey(fleet, id)
  uint64_t next_generation_ = 1;
};

int64_t NowUnix();

}  // namespace mxs::control

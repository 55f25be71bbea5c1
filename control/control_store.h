// control_store: the control plane's durable state in its own RocksDB: every
// fleet's config versions, the last known status of every gateway, and the
// audit log. A version and its audit record are written in one batch, so a
// crash never leaves a push without its record (or the reverse).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mxscreen/control/v1/admin.pb.h"

namespace rocksdb {
class DB;
}

namespace mxs::control {

namespace cp = ::mxscreen::control::v1;

class ControlStore {
 public:
  // Opens (creating) the database; throws std::runtime_error with the path
  // and RocksDB's reason.
  explicit ControlStore(const std::string& path);
  ~ControlStore();

  // Stores `v` (its version number already assigned) with its audit record,
  // whose sequence this assigns. Throws std::runtime_error.
  void AddVersion(const cp::ConfigVersion& v, cp::AuditRecord audit);
  // version 0: the newest.
  std::optional<cp::ConfigVersion> GetVersion(const std::string& fleet, uint64_t version) const;
  // Newest first; limit 0 = all.
  std::vector<cp::ConfigVersion> ListVersions(const std::string& fleet, uint32_t limit) const;
  // Every fleet that has a version, with its newest.
  std::vector<cp::ConfigVersion> NewestVersions() const;

  void PutNode(const cp::NodeStatus& node);
  std::vector<cp::NodeStatus> Nodes() const;

  // Newest first; fleet "" = every fleet; limit 0 = all.
  std::vector<cp::AuditRecord> Audit(const std::string& fleet, uint32_t limit) const;

 private:
  std::unique_ptr<rocksdb::DB> db_;
  uint64_t next_audit_ = 1;
};

}  // namespace mxs::control

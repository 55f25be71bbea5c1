// control_store: key layout
//   v/<fleet>/<version, 20 digits>  ConfigVersion (zero-padded, so a prefix
//                                   scan is in version order)
//   n/<fleet>/<node id>             NodeStatus
//   a/<sequence, 20 digits>         AuditRecord
// Fleet names are checked by the admin service ([A-Za-z0-9._-]), so "/" only
// separates.
#include "control/control_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

namespace mxs::control {

namespace {
std::string Padded(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020" PRIu64, n);
  return buf;
}
std::string VersionPrefix(const std::string& fleet) { return "v/" + fleet + "/"; }

void Check(const rocksdb::Status& s, const std::string& what) {
  if (!s.ok()) throw std::runtime_error("control store: " + what + ": " + s.ToString());
}

// Iterates keys with `prefix` backwards (newest first), calling f(value)
// until it returns false.
template <typename F>
void ScanBackwards(rocksdb::DB* db, const std::string& prefix, F f) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  std::string end = prefix;
  end.back() = static_cast<char>(end.back() + 1);
  it->SeekForPrev(end);
  if (it->Valid() && it->key().ToString() == end) it->Prev();
  for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    if (!f(it->value())) break;
  }
}
}  // namespace

ControlStore::ControlStore(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &db);
  if (!s.ok()) throw std::runtime_error("cannot open control store " + path + ": " + s.ToString());
  db_.reset(db);
  ScanBackwards(db_.get(), "a/", [&](const rocksdb::Slice& v) {
    cp::AuditRecord r;
    if (r.ParseFromArray(v.data(), static_cast<int>(v.size()))) next_audit_ = r.sequence() + 1;
    return false;
  });
}

ControlStore::~ControlStore() = default;

void ControlStore::AddVersion(const cp::ConfigVersion& v, cp::AuditRecord audit) {
  std::string existing;
  rocksdb::Status found =
      db_->Get(rocksdb::ReadOptions(), VersionPrefix(v.fleet()) + Padded(v.version()), &existing);
  if (found.ok()) {
    // A newest version that did not decode made the hub count from an older one.
    throw std::runtime_error("control store: fleet " + v.fleet() + " already has a version " +
                             std::to_string(v.version()));
  }
  audit.set_sequence(next_audit_);
  rocksdb::WriteBatch batch;
  batch.Put(VersionPrefix(v.fleet()) + Padded(v.version()), v.SerializeAsString());
  batch.Put("a/" + Padded(audit.sequence()), audit.SerializeAsString());
  rocksdb::WriteOptions wo;
  wo.sync = true;  // an accepted push is on disk before the operator hears so
  Check(db_->Write(wo, &batch), "write version");
  ++next_audit_;
}

std::optional<cp::ConfigVersion> ControlStore::GetVersion(const std::string& fleet,
                                                          uint64_t version) const {
  std::optional<cp::ConfigVersion> out;
  if (version == 0) {
    ScanBackwards(db_.get(), VersionPrefix(fleet), [&](const rocksdb::Slice& v) {
      cp::ConfigVersion c;
      if (c.ParseFromArray(v.data(), static_cast<int>(v.size()))) out = std::move(c);
      return false;
    });
    return out;
  }
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), VersionPrefix(fleet) + Padded(version), &value);
  if (s.IsNotFound()) return std::nullopt;
  Check(s, "read version");
  cp::ConfigVersion c;
  if (!c.ParseFromString(value)) throw std::runtime_error("control store: corrupt version record");
  return c;
}

std::vector<cp::ConfigVersion> ControlStore::ListVersions(const std::string& fleet,
                                                          uint32_t limit) const {
  std::vector<cp::ConfigVersion> out;
  ScanBackwards(db_.get(), VersionPrefix(fleet), [&](const rocksdb::Slice& v) {
    cp::ConfigVersion c;
    if (c.ParseFromArray(v.data(), static_cast<int>(v.size()))) out.push_back(std::move(c));
    return limit == 0 || out.size() < limit;
  });
  return out;
}

std::vector<cp::ConfigVersion> ControlStore::NewestVersions() const {
  std::vector<cp::ConfigVersion> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::string last_fleet;
  // Forward over v/: the last key of each fleet is its newest version.
  cp::ConfigVersion newest;
  bool have = false;
  for (it->Seek("v/"); it->Valid() && it->key().starts_with("v/"); it->Next()) {
    cp::ConfigVersion c;
    if (!c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
    if (have && c.fleet() != newest.fleet()) out.push_back(newest);
    newest = std::move(c);
    have = true;
  }
  if (have) out.push_back(newest);
  return out;
}

void ControlStore::PutNode(const cp::NodeStatus& node) {
  Check(db_->Put(rocksdb::WriteOptions(), "n/" + node.fleet() + "/" + node.node_id(),
                 node.SerializeAsString()),
        "write node status");
}

std::vector<cp::NodeStatus> ControlStore::Nodes() const {
  std::vector<cp::NodeStatus> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("n/"); it->Valid() && it->key().starts_with("n/"); it->Next()) {
    cp::NodeStatus n;
    if (n.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      out.push_back(std::move(n));
    }
  }
  return out;
}

std::vector<cp::AuditRecord> ControlStore::Audit(const std::string& fleet, uint32_t limit) const {
  std::vector<cp::AuditRecord> out;
  ScanBackwards(db_.get(), "a/", [&](const rocksdb::Slice& v) {
    cp::AuditRecord r;
    if (r.ParseFromArray(v.data(), static_cast<int>(v.size())) &&
        (fleet.empty() || r.fleet() == fleet)) {
      out.push_back(std::move(r));
    }
    return limit == 0 || out.size() < limit;
  });
  return out;
}

}  // namespace mxs::control

// Fuzz target: the verdict record decoder (core/verdict_store.cc). A record
// read from disk may be damaged or written by another version; decoding it
// must fail cleanly or give a record that re-encodes to itself. The decoder
// reads the wire format by hand (it is on the lookup hot path), so it is also
// checked against the generated parser of api/mxscreen/store/v1/verdict.proto:
// both must accept the same inputs and see the same passes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/verdict_store.h"
#include "mxscreen/store/v1/verdict.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto record =
      mxs::DecodeVerdictRecord(std::string_view(reinterpret_cast<const char*>(data), size));
  mxscreen::store::v1::VerdictRecord reference;
  bool reference_ok = reference.ParseFromArray(data, static_cast<int>(size));
  if (record.has_value() != reference_ok) std::abort();
  if (!record) return 0;
  mxs::VerdictRecord expected;
  for (const auto& p : reference.passes()) expected.Set(p.filter(), p.expiry());
  if (!(expected == *record)) std::abort();

  int64_t latest = record->LatestExpiry();
  for (const auto& [name, expiry] : record->passes) {
    // The decoder keeps one pass per filter name, so a lookup finds this one.
    if (record->ExpiryOf(name) != expiry || expiry > latest) std::abort();
  }
  auto again = mxs::DecodeVerdictRecord(mxs::EncodeVerdictRecord(*record));
  if (!again || !(*again == *record)) std::abort();
  return 0;
}

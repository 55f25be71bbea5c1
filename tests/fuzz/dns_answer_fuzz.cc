// Fuzz target: DNS answer handling. The first byte picks the c-ares status a
// query callback could get (success, NXDOMAIN, NODATA, an error), the rest
// is the raw response; ParseDnsAnswer (core/dns_answer.cc, on top of
// ares_parse_a_reply and the SOA walk for the negative TTL) turns it into a
// DnsAnswer, which the DNSBL scoring then consumes as a real answer would be.
#include <ares.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/dns_resolver.h"
#include "filters/dnsbl/dnsbl.h"

namespace {

const mxs::dnsbl::Settings& TestSettings() {
  static const mxs::dnsbl::Settings* s = [] {
    auto* st = new mxs::dnsbl::Settings();
    for (const char* t : {"bl.example=127.0.0.[2..11;20]*3", "bl.example*1",
                          "bl.example=127.255.255.[0..255]*-2"}) {
      st->sites.push_back(mxs::dnsbl::ParseSite(t));
    }
    st->Index();
    return st;
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const int kStatus[] = {ARES_SUCCESS,   ARES_ENOTFOUND, ARES_ENODATA,
                                ARES_ESERVFAIL, ARES_ETIMEOUT,  ARES_EBADRESP};
  int status = kStatus[data[0] % (sizeof kStatus / sizeof kStatus[0])];
  mxs::DnsAnswer a = mxs::ParseDnsAnswer(status, data + 1, static_cast<int>(size - 1));
  mxs::dnsbl::Score sc = mxs::dnsbl::ScoreAnswers(TestSettings(), {&a});
  if (sc.ttl.count() < 60 || sc.ttl.count() > 3600) __builtin_trap();
  return 0;
}

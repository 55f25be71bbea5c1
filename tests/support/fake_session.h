// fake_session: the one test double of mxs::SessionCallbacks (core/filter.h)
// for filter unit tests. Header-only; it records every formatted log line and
// every verdict delivered through Resume, so tests can check both; a test
// may hand it a DnsResolver (tests of the DNSBL filter use a scripted one).
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/filter.h"
#include "core/ip_address.h"

namespace mxs::test {

class FakeSession : public SessionCallbacks {
 public:
  // The client is 192.0.2.1:4000 and logs as "[192.0.2.1]:4000" unless told
  // otherwise; the server is 127.0.0.1:25.
  explicit FakeSession(const char* client_ip = "192.0.2.1", uint16_t client_port = 4000,
                       std::string tag = "[192.0.2.1]:4000")
      : client_{*IpAddress::Parse(client_ip), client_port}, tag_(std::move(tag)) {}

  const Endpoint& client() const override { return client_; }
  const Endpoint& server() const override { return server_; }
  const char* client_tag() const override { return tag_.c_str(); }
  void Log(const char* fmt, ...) override {
    va_list ap;
    va_start(ap, fmt);
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    std::string line(n > 0 ? static_cast<size_t>(n) : 0, '\0');
    vsnprintf(line.data(), line.size() + 1, fmt, again);
    va_end(again);
    lines.push_back(std::move(line));
  }
  bool respectful_logging() const override { return respectful; }
  void Resume(const void* filter, Verdict verdict) override {
    resumed.emplace_back(filter, std::move(verdict));
  }
  DnsResolver* dns_resolver() override { return resolver; }
  // Lines of helper daemons are recorded as "<service>: <line>".
  void LogAs(const char* service, const std::string& line) override {
    lines.push_back(std::string(service) + ": " + line);
  }

  std::vector<std::string> lines;                        // every Log line, formatted
  bool respectful = true;                                // what respectful_logging() answers
  std::vector<std::pair<const void*, Verdict>> resumed;  // every Resume call
  DnsResolver* resolver = nullptr;                       // what dns_resolver() answers

 private:
  Endpoint client_;
  Endpoint server_{*IpAddress::Parse("127.0.0.1"), 25};
  std::string tag_;
};

}  // namespace mxs::test

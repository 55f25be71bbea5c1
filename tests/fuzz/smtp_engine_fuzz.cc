// Fuzz target: the SMTP engine's command parser and state machine, fed line
// by line as the session feeds it.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/smtp_engine.h"

namespace {
class Host : public mxs::SmtpEngineHost {
 public:
  void Log(const char* fmt, ...) override {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
  }
  const char* client_tag() const override { return "[192.0.2.1]:1"; }
  std::string_view enforced_rcpt_reply() const override { return {}; }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mxs::EngineConfig config;
  Host host;
  mxs::SmtpEngine engine(config, "mx.example", host);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out;
  while (!in.empty()) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (engine.OnLine(line, &out) == mxs::SmtpEngine::Next::kClose) break;
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return 0;
}

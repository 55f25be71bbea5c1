// upstream_proxy: the listener-phase hook and its warning lines, worded as
// postscreen's (spec section 8): "warning: haproxy read: time limit
// exceeded", "warning: haproxy read: EOF" and "warning: haproxy read:
// unrecognized protocol header: %s" with the bytes C-escaped. No line names
// the client: it is not known until the header is read.
#include "filters/upstream_proxy/upstream_proxy.h"

#include "core/log_escape.h"

namespace mxs::upstream_proxy {

ListenerVerdict UpstreamProxyFilter::OnListenerInput(SessionCallbacks& cb, std::string_view bytes,
                                                     ListenerEvent event) {
  switch (event) {
    case ListenerEvent::kTimeout:
      cb.Log("warning: haproxy read: time limit exceeded");
      return ListenerVerdict::Fail(kReply);
    case ListenerEvent::kEof:
      // Also with part of a header read: the client is gone either way.
      cb.Log("warning: haproxy read: EOF");
      return ListenerVerdict::Fail(kReply);
    case ListenerEvent::kData:
      break;
  }
  ProxyParseResult r = ParseProxyHeader(bytes, versions_);
  switch (r.status) {
    case ProxyParseResult::Status::kNeedMore:
      return ListenerVerdict::NeedMore();
    case ProxyParseResult::Status::kError:
      // r.reason (e.g. "bad or missing client port") stays out of the line:
      // log analysers match the spec's one fixed text.
      cb.Log("warning: haproxy read: unrecognized protocol header: %s",
             CEscape(bytes.substr(0, kMaxLoggedBytes)).c_str());
      return ListenerVerdict::Fail(kReply);
    case ProxyParseResult::Status::kDone:
      break;
  }
  // v2 LOCAL (the balancer's own health check): the socket's endpoints stay.
  if (r.local) return ListenerVerdict::Done(r.length);
  return ListenerVerdict::Done(r.length, r.client, r.server);
}

}  // namespace mxs::upstream_proxy

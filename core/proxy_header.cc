// proxy_header: encoding. A client and server of different families (IPv4
// client on an IPv6 listener) are sent as IPv6 with the IPv4 address mapped.
#include "core/proxy_header.h"

#include <cstring>

namespace mxs {
namespace {

std::array<uint8_t, 16> AsV6(const IpAddress& a) {
  if (!a.is_v4()) return a.bytes();
  std::array<uint8_t, 16> out{};
  out[10] = 0xff;
  out[11] = 0xff;
  std::memcpy(out.data() + 12, a.bytes().data(), 4);
  return out;
}

std::string MappedText(const IpAddress& a) {
  return a.is_v4() ? "::ffff:" + a.ToString() : a.ToString();
}

}  // namespace

std::string ProxyV1Header(const Endpoint& client, const Endpoint& server) {
  bool v4 = client.address.is_v4() && server.address.is_v4();
  std::string src = v4 ? client.address.ToString() : MappedText(client.address);
  std::string dst = v4 ? server.address.ToString() : MappedText(server.address);
  return std::string("PROXY ") + (v4 ? "TCP4 " : "TCP6 ") + src + " " + dst + " " +
         std::to_string(client.port) + " " + std::to_string(server.port) + "\r\n";
}

std::string ProxyV2Header(const Endpoint& client, const Endpoint& server) {
  static const uint8_t kSignature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  bool v4 = client.address.is_v4() && server.address.is_v4();
  std::string out(reinterpret_cast<const char*>(kSignature), sizeof kSignature);
  out.push_back(static_cast<char>(0x21));              // version 2, PROXY command
  out.push_back(static_cast<char>(v4 ? 0x11 : 0x21));  // TCP over IPv4 / IPv6
  uint16_t len = v4 ? 12 : 36;
  out.push_back(static_cast<char>(len >> 8));
  out.push_back(static_cast<char>(len & 0xff));
  if (v4) {
    out.append(reinterpret_cast<const char*>(client.address.bytes().data()), 4);
    out.append(reinterpret_cast<const char*>(server.address.bytes().data()), 4);
  } else {
    auto c = AsV6(client.address);
    auto s = AsV6(server.address);
    out.append(reinterpret_cast<const char*>(c.data()), 16);
    out.append(reinterpret_cast<const char*>(s.data()), 16);
  }
  for (uint16_t port : {client.port, server.port}) {
    out.push_back(static_cast<char>(port >> 8));
    out.push_back(static_cast<char>(port & 0xff));
  }
  return out;
}

}  // namespace mxs

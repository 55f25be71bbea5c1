// ip_address: parsing and formatting of addresses and networks.
#include "core/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace mxs {

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress out;
  if (inet_pton(AF_INET, buf, out.bytes_.data()) == 1) {
    out.family_ = Family::kV4;
    return out;
  }
  if (inet_pton(AF_INET6, buf, out.bytes_.data()) == 1) {
    out.family_ = Family::kV6;
    return out;
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* sa) {
  IpAddress out;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    out.family_ = Family::kV4;
    std::memcpy(out.bytes_.data(), &in->sin_addr, 4);
    return out;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      out.family_ = Family::kV4;
      std::memcpy(out.bytes_.data(), in6->sin6_addr.s6_addr + 12, 4);
    } else {
      out.family_ = Family::kV6;
      std::memcpy(out.bytes_.data(), in6->sin6_addr.s6_addr, 16);
    }
    return out;
  }
  return std::nullopt;
}

IpAddress IpAddress::V4(uint32_t host_order) {
  IpAddress out;
  uint32_t n = htonl(host_order);
  std::memcpy(out.bytes_.data(), &n, 4);
  return out;
}

static_assert(IpAddress::kMaxText == INET6_ADDRSTRLEN);

size_t IpAddress::Format(char* buf) const {
  if (!is_v4()) {
    inet_ntop(AF_INET6, bytes_.data(), buf, kMaxText);
    return std::strlen(buf);
  }
  char* p = buf;
  for (int i = 0; i < 4; ++i) {
    unsigned v = bytes_[i];
    if (i > 0) *p++ = '.';
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  *p = '\0';
  return static_cast<size_t>(p - buf);
}

std::string IpAddress::ToString() const {
  char buf[kMaxText];
  return std::string(buf, Format(buf));
}

std::optional<Cidr> Cidr::Parse(std::string_view text, std::string* error) {
  std::string_view addr = text;
  std::string_view len;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    len = text.substr(slash + 1);
  }
  if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') {
    addr = addr.substr(1, addr.size() - 2);
  }
  auto ip = IpAddress::Parse(addr);
  if (!ip) {
    *error = "bad address \"" + std::string(addr) + "\"";
    return std::nullopt;
  }
  int prefix = ip->bit_length();
  if (!len.empty() || text.find('/') != std::string_view::npos) {
    if (len.empty() || len.size() > 3) {
      *error = "bad prefix length \"" + std::string(len) + "\"";
      return std::nullopt;
    }
    prefix = 0;
    for (char c : len) {
      if (c < '0' || c > '9') {
        *error = "bad prefix length \"" + std::string(len) + "\"";
        return std::nullopt;
      }
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > ip->bit_length()) {
      *error = "prefix length " + std::to_string(prefix) + " is longer than the address";
      return std::nullopt;
    }
  }
  // Postfix refuses a network with host bits set ("non-null host address
  // bits"): the operator most likely meant something else, so say what.
  auto masked = ip->bytes();
  for (int bit = prefix; bit < ip->bit_length(); ++bit) masked[bit / 8] &= ~(0x80 >> (bit % 8));
  if (masked != ip->bytes()) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(ip->is_v4() ? AF_INET : AF_INET6, masked.data(), buf, sizeof buf);
    *error = "non-null host address bits in \"" + std::string(text) + "\", perhaps use \"" + buf +
             "/" + std::to_string(prefix) + "\" instead";
    return std::nullopt;
  }
  Cidr out;
  out.network_ = *ip;
  out.prefix_ = prefix;
  return out;
}

bool Cidr::Contains(const IpAddress& addr) const {
  if (addr.family() != network_.family()) return false;
  const auto& a = addr.bytes();
  const auto& n = network_.bytes();
  int full = prefix_ / 8;
  if (std::memcmp(a.data(), n.data(), full) != 0) return false;
  int rest = prefix_ % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (n[full] & mask);
}

std::string Cidr::ToString() const { return network_.ToString() + "/" + std::to_string(prefix_); }

std::string Endpoint::ToString() const {
  return "[" + address.ToString() + "]:" + std::to_string(port);
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto ip = IpAddress::Parse(host);
  if (!ip) return false;
  if (ip->is_v4()) return ip->bytes()[0] == 127;
  return *ip == *IpAddress::Parse("::1");
}

std::optional<IpAddress> ParseClientAddress(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  auto a = IpAddress::Parse(text);
  if (!a || a->is_v4()) return a;
  const auto& b = a->bytes();
  for (int i = 0; i < 10; ++i) {
    if (b[i] != 0) return a;
  }
  if (b[10] != 0xff || b[11] != 0xff) return a;
  return IpAddress::V4(uint32_t{b[12]} << 24 | uint32_t{b[13]} << 16 | uint32_t{b[14]} << 8 |
                       b[15]);
}

}  // namespace mxs

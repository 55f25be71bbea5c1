// ip_address: a small value type for IPv4/IPv6 addresses and CIDR networks,
// kept free of Asio so that filters and tests can use it cheaply.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace mxs {

class IpAddress {
 public:
  enum class Family : uint8_t { kV4, kV6 };

  IpAddress() = default;
  // Parses "192.0.2.1" or "2001:db8::1" (no brackets, no port).
  static std::optional<IpAddress> Parse(std::string_view text);
  // From a socket address; IPv4-mapped IPv6 addresses become IPv4, as Postfix logs them.
  static std::optional<IpAddress> FromSockaddr(const sockaddr* sa);
  static IpAddress V4(uint32_t host_order);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  // Network-order bytes: 4 used for IPv4, 16 for IPv6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  int bit_length() const { return is_v4() ? 32 : 128; }
  std::string ToString() const;
  // The longest text Format writes, its NUL included (INET6_ADDRSTRLEN).
  static constexpr size_t kMaxText = 46;
  // Writes what ToString returns into buf (kMaxText bytes or more),
  // NUL-terminated, and returns its length: no allocation, and IPv4 without
  // printf (glibc's inet_ntop formats IPv4 with sprintf, which was most of
  // what formatting a client address cost per connection).
  size_t Format(char* buf) const;
  bool operator==(const IpAddress& o) const { return family_ == o.family_ && bytes_ == o.bytes_; }
  bool operator!=(const IpAddress& o) const { return !(*this == o); }

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

// A network: address with the host bits cleared, and a prefix length.
class Cidr {
 public:
  // Parses "net/len", "net" (a host), "[v6]/len" or "[v6]" (Postfix allows brackets).
  // Returns nullopt with *error set to the reason.
  static std::optional<Cidr> Parse(std::string_view text, std::string* error);
  bool Contains(const IpAddress& addr) const;
  std::string ToString() const;

 private:
  IpAddress network_;
  int prefix_ = 0;
};

// A client address as an operator types it: "192.0.2.1", "[2001:db8::1]",
// or "::ffff:192.0.2.1" (kept as IPv4: the gateway sees such a client as
// IPv4, so that is the key its passes live under). nullopt when malformed.
std::optional<IpAddress> ParseClientAddress(std::string_view text);

// A client or server endpoint as logs write it: "[addr]:port".
// "localhost", 127.0.0.0/8, "::1" or "[::1]": a host name or address that
// stays on this machine (for refusing plaintext elsewhere).
bool IsLoopbackHost(std::string_view host);

struct Endpoint {
  IpAddress address;
  uint16_t port = 0;
  std::string ToString() const;
  bool operator==(const Endpoint& o) const { return address == o.address && port == o.port; }
};

}  // namespace mxs

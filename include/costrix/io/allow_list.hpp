// Which peers a server admits: a list of networks ("10.0.0.0/8", "::1/128", "127.0.0.1").
#pragma once

#include <costrix/result.hpp>

#include <boost/asio/ip/address.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::io {

/// One network: "ADDRESS/PREFIX" or a bare address (all its bits). Host bits
/// beyond the prefix are ignored ("10.1.2.3/8" is 10.0.0.0/8).
struct network {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  ///< IPv4 in the first 4
  unsigned prefix = 0;

  bool contains(const boost::asio::ip::address& a) const noexcept;
  std::string text() const;
};

/// errc::invalid_argument, naming the text, for anything but a well-formed network.
result<network> parse_network(std::string_view text);

/// An empty list admits every peer; otherwise a peer must be in one of the
/// networks. IPv4 peers seen on an IPv6 socket (::ffff:a.b.c.d) match the
/// IPv4 networks.
class allow_list {
 public:
  allow_list() = default;
  /// The first bad entry fails the whole list.
  static result<allow_list> parse(const std::vector<std::string>& networks);

  bool empty() const noexcept { return networks_.empty(); }
  bool allows(const boost::asio::ip::address& a) const noexcept;

 private:
  std::vector<network> networks_;
};

/// A server's admission check on an accepted socket: the allow list, and a
/// warning naming the refused peer (at most one line a second per server; the
/// line counts the others refused since).
class peer_filter {
 public:
  explicit peer_filter(std::string server_name) : name_(std::move(server_name)) {}
  void set(allow_list list) { list_ = std::move(list); }
  /// True when `fd`'s peer may be served. False (and logged) when it is not
  /// in the list or has no address any more.
  bool admit(int fd);

 private:
  std::string name_;
  allow_list list_;
  std::atomic<std::int64_t> logged_at_{0};  // steady_clock ms of the last line
  std::atomic<std::uint64_t> unlogged_{0};
};

}  // namespace costrix::io

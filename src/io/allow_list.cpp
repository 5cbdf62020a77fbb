#include <costrix/io/allow_list.hpp>

#include <costrix/log.hpp>

#include "../proto/printable.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <chrono>
#include <sys/socket.h>

namespace costrix::io {
namespace asio = boost::asio;

namespace {

// The address as network bytes; IPv4-mapped IPv6 as IPv4.
network as_host(const asio::ip::address& a) noexcept {
  network n;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    auto b = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_bytes();
    std::copy(b.begin(), b.end(), n.bytes.begin());
    n.prefix = 32;
  } else if (a.is_v6()) {
    n.v6 = true;
    n.bytes = a.to_v6().to_bytes();
    n.prefix = 128;
  } else {
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), n.bytes.begin());
    n.prefix = 32;
  }
  return n;
}

}  // namespace

bool network::contains(const asio::ip::address& a) const noexcept {
  network h = as_host(a);
  if (h.v6 != v6) return false;
  unsigned full = prefix / 8, rest = prefix % 8;
  for (unsigned i = 0; i < full; ++i)
    if (h.bytes[i] != bytes[i]) return false;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (h.bytes[full] & mask) == bytes[full];
}

std::string network::text() const {
  std::string addr;
  if (v6) {
    addr = asio::ip::address_v6(bytes).to_string();
  } else {
    addr = asio::ip::address_v4({bytes[0], bytes[1], bytes[2], bytes[3]}).to_string();
  }
  return addr + "/" + std::to_string(prefix);
}

result<network> parse_network(std::string_view text) {
  auto bad = [&](const char* why) {
    std::string message = "bad network ";
    message += proto::quoted(text);
    message += ": ";
    message += why;
    return fail(errc::invalid_argument, std::move(message));
  };
  if (text.empty() || text.size() > 64) return bad("expected ADDRESS or ADDRESS/PREFIX");
  // Only what an address and a prefix are made of: no spaces, names, scopes or NUL bytes.
  if (text.find_first_not_of("0123456789abcdefABCDEF.:/") != std::string_view::npos)
    return bad("expected ADDRESS or ADDRESS/PREFIX");
  auto slash = text.find('/');
  std::string_view addr_text = text.substr(0, slash);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(std::string(addr_text), ec);
  if (ec) return bad("not an IPv4 or IPv6 address");
  network n = as_host(addr);
  const unsigned max = n.v6 ? 128 : 32;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    unsigned prefix = 0;
    auto [end, perr] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || p.size() > 3 || perr != std::errc{} || end != p.data() + p.size())
      return bad("the prefix must be a number");
    if (prefix > max) return bad(n.v6 ? "the prefix must be 0 to 128" : "the prefix must be 0 to 32");
    n.prefix = prefix;
  }
  // Clear the host bits, so that contains() compares the network part only.
  for (unsigned bit = n.prefix; bit < max; ++bit) n.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  return n;
}

result<allow_list> allow_list::parse(const std::vector<std::string>& networks) {
  allow_list list;
  for (const auto& text : networks) {
    auto n = parse_network(text);
    if (!n) return fail(std::move(n).error());
    list.networks_.push_back(*n);
  }
  return list;
}

bool allow_list::allows(const asio::ip::address& a) const noexcept {
  if (networks_.empty()) return true;
  for (const auto& n : networks_)
    if (n.contains(a)) return true;
  return false;
}

bool peer_filter::admit(int fd) {
  if (list_.empty()) return true;
  sockaddr_storage storage{};
  socklen_t len = sizeof storage;
  asio::ip::tcp::endpoint peer;
  bool known = ::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &len) == 0 &&
               len <= peer.capacity();
  if (known) {
    peer.resize(len);
    std::memcpy(peer.data(), &storage, len);
    if (list_.allows(peer.address())) return true;
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch()).count();
  auto last = logged_at_.load(std::memory_order_relaxed);
  if (now - last < 1000 || !logged_at_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    unlogged_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const auto others = unlogged_.exchange(0, std::memory_order_relaxed);
  std::string who = known ? fmt::format("{}:{}", peer.address().to_string(), peer.port()) : "a peer with no address";
  std::string line = fmt::format("{}: refused {}: not in the allow list", name_, who);
  if (others > 0) line += fmt::format(" ({} other(s) refused since the last line)", others);
  log(log_level::warning, line);
  return false;
}

}  // namespace costrix::io

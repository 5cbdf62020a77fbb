#include <costrix/io/listener.hpp>

#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <sys/socket.h>

namespace costrix::io {
namespace asio = boost::asio;
using asio::ip::tcp;

result<tcp::endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return fail(errc::invalid_argument, "address must be HOST:PORT, got \"" + std::string(text) + "\"");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || p != port_text.data() + port_text.size() || port > 65535 || port_text.empty())
    return fail(errc::invalid_argument, "bad port in \"" + std::string(text) + "\"");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host.empty()) host = host.empty() ? "0.0.0.0" : "127.0.0.1";
  boost::system::error_code aec;
  auto addr = asio::ip::make_address(std::string(host), aec);
  if (aec) return fail(errc::invalid_argument, "bad address in \"" + std::string(text) + "\"");
  return tcp::endpoint{addr, static_cast<unsigned short>(port)};
}

result<tcp::acceptor> listen_reuseport(const asio::any_io_executor& ex, const tcp::endpoint& ep, int backlog) {
  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  tcp::acceptor acceptor{ex};
  boost::system::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.set_option(reuse_port(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(backlog, ec);
  if (ec) return fail(errc::failed, "listen on " + ep.address().to_string() + ":" + std::to_string(ep.port()) +
                                        ": " + ec.message());
  return acceptor;
}

}  // namespace costrix::io

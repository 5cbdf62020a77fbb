#include <costrix/metrics_server.hpp>

#include <costrix/io/listener.hpp>
#include <costrix/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <thread>

namespace costrix::metrics {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct server::impl {
  static constexpr int max_connections = 16;
  explicit impl(registry& r) : reg(r) {}
  registry& reg;
  asio::io_context context{1};
  tcp::acceptor acceptor{context};
  std::uint16_t port = 0;
  int connections = 0;  // on the server's thread only
  std::thread thread;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      if (connections >= max_connections) continue;  // the socket closes here
      ++connections;
      asio::co_spawn(context, serve(std::move(socket)), [this](std::exception_ptr) { --connections; });
    }
  }

  http::response<http::string_body> answer(const http::request<http::empty_body>& req) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.keep_alive(req.keep_alive());
    std::string_view target = req.target();
    target = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "only GET and HEAD\n";
    } else if (target != "/metrics") {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "not found: the metrics are at /metrics\n";
    } else {
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = to_prometheus(reg.collect());
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();  // Content-Length stays the GET's
    return res;
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(8192);
    for (;;) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(8192);
      stream.expires_after(std::chrono::seconds(10));
      auto [read_error, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (read_error) break;
      auto res = answer(parser.get());
      bool keep = res.keep_alive();
      stream.expires_after(std::chrono::seconds(10));
      auto [write_error, m] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      if (write_error || !keep) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

server::server(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

server::~server() {
  impl_->context.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t server::port() const noexcept { return impl_->port; }

result<std::unique_ptr<server>> server::start(std::string_view address, registry& r) {
  if (address.empty()) return std::unique_ptr<server>();
  auto ep = io::parse_endpoint(address);
  if (!ep) return fail(std::move(ep).error());
  auto i = std::make_unique<impl>(r);
  boost::system::error_code ec;
  i->acceptor.open(ep->protocol(), ec);
  if (!ec) i->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  // SO_REUSEPORT: a successor started by a hand-over binds the same address while this process drains.
  if (!ec) i->acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  if (!ec) i->acceptor.bind(*ep, ec);
  if (!ec) i->acceptor.listen(64, ec);
  if (ec) return fail(errc::invalid_argument, fmt::format("metrics: cannot listen on {}: {}", address, ec.message()));
  i->port = i->acceptor.local_endpoint().port();
  r.enable();
  asio::co_spawn(i->context, i->accept_loop(), asio::detached);
  impl* raw = i.get();
  i->thread = std::thread([raw] { raw->context.run(); });
  return std::unique_ptr<server>(new server(std::move(i)));
}

}  // namespace costrix::metrics

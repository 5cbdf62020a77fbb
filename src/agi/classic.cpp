#include <costrix/agi/classic.hpp>

#include <costrix/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <fmt/format.h>

#include <csignal>

namespace costrix::agi {
namespace asio = boost::asio;

int run_classic(const script& s, session_options options, int in_fd, int out_fd) {
  asio::io_context ctx{1};
  io::fd_stream stream{ctx.get_executor(), in_fd, out_fd};
  session sess{stream, options};
  asio::signal_set hangups{ctx, SIGHUP};
  std::signal(SIGPIPE, SIG_IGN);
  hangups.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) sess.mark_hung_up();
  });
  int status = 1;
  asio::co_spawn(ctx, [&]() -> awaitable<void> {
    if (auto started = co_await sess.start(); !started) {
      log(log_level::error, fmt::format("agi: no AGI environment on stdin: {}", started.error().what()));
      co_return;
    }
    try {
      co_await s(sess);
      status = 0;
    } catch (const std::exception& e) {
      log(log_level::error, fmt::format("agi: script {} on channel {} threw: {}", sess.env().request,
                                        sess.env().channel, e.what()));
    }
  }, [&](std::exception_ptr) {
    boost::system::error_code ignored;
    hangups.cancel(ignored);
    stream.close();
  });
  ctx.run();
  return status;
}

}  // namespace costrix::agi

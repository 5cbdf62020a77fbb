#include <costrix/agi/classic.hpp>

#include <costrix/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <signal.h>

namespace costrix::agi {
namespace asio = boost::asio;

namespace {
// The session SIGHUP marks. An atomic pointer and an atomic flag are all a
// signal handler may touch; the mark is seen before the next command is sent.
std::atomic<session*> current{nullptr};
static_assert(std::atomic<session*>::is_always_lock_free);

extern "C" void on_sighup(int) {
  if (session* s = current.load()) s->mark_hung_up();
}
}  // namespace

int run_classic(const script& s, session_options options, int in_fd, int out_fd) {
  asio::io_context ctx{1};
  io::stream stream = io::stream::duplicate(ctx.get_executor(), in_fd, out_fd);
  session sess{stream, options};
  std::signal(SIGPIPE, SIG_IGN);
  current = &sess;
  struct sigaction hup {}, previous{};
  hup.sa_handler = on_sighup;
  sigemptyset(&hup.sa_mask);
  hup.sa_flags = SA_RESTART;
  ::sigaction(SIGHUP, &hup, &previous);
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
      // The call's context follows the text, as a FastAGI call's does.
      log(log_level::error, {sess.env().request(), sess.env().channel(), sess.env().uniqueid(), {}},
          fmt::format("agi: script threw: {}", e.what()));
    }
  }, [&](std::exception_ptr) { stream.close(); });
  ctx.run();
  ::sigaction(SIGHUP, &previous, nullptr);
  current = nullptr;
  return status;
}

}  // namespace costrix::agi

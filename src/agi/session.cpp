#include <costrix/agi/session.hpp>

#include <boost/asio/buffer.hpp>

namespace costrix::agi {

session::session(io::stream& stream, session_options options)
    : stream_(stream), options_(options), reader_(stream, options.max_line), deadline_(stream) {}

awaitable<result<void>> session::start() {
  proto::agi::environment_parser parser(options_.environment_limits);
  deadline_.arm(options_.environment_timeout);
  for (;;) {
    auto line = co_await reader_.read_line();
    if (!line) {
      deadline_.disarm();
      co_return fail(broken(std::move(line).error()));
    }
    auto done = parser.feed(*line);
    if (!done) {
      deadline_.disarm();
      co_return fail(broken(std::move(done).error()));
    }
    if (*done) break;
  }
  deadline_.disarm();
  env_ = std::move(parser.get());
  reader_.buffer().shrink();  // the environment may have grown it; replies are short
  co_return ok();
}

awaitable<result<void>> session::exchange() {
  if (broken_) co_return fail(errc::disconnected, "the session's connection is closed");
  if (hung_up_) co_return fail(errc::hangup, "the caller hung up before this command");
  deadline_.arm(options_.command_timeout);
  auto [ec, written] = co_await stream_.write(boost::asio::buffer(out_));
  if (ec) {
    deadline_.disarm();
    co_return fail(broken(ec == boost::asio::error::operation_aborted ? error{errc::cancelled}
                                                                     : error{errc::disconnected, ec.message()}));
  }
  parser_.reset();
  for (;;) {
    auto line = co_await reader_.read_line();
    if (!line) {
      deadline_.disarm();
      co_return fail(broken(std::move(line).error()));
    }
    auto done = parser_.feed(*line);
    if (!done) {
      deadline_.disarm();
      co_return fail(broken(std::move(done).error()));
    }
    if (*done) break;
  }
  deadline_.disarm();
  if (parser_.get().hangup) hung_up_ = true;
  co_return ok();
}

// After a failed read or write the conversation is out of step (a late reply
// would answer the next command), so the session closes.
error session::broken(error e) {
  if (e == errc::cancelled && deadline_.expired()) e = error{errc::timeout, "no reply from Asterisk in time"};
  broken_ = true;
  stream_.close();
  return e;
}

}  // namespace costrix::agi

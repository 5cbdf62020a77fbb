#include <costrix/agi/session.hpp>

#include "../library_metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstring>

namespace costrix::agi {
namespace asio = boost::asio;

session::session(io::stream& stream, session_options options)
    : stream_(stream), options_(options), receiver_(options.max_line), deadline_(stream) {}

// Usually the whole environment is there at once: it is parsed by this
// thread's parser, whose buffers are reused. Only a session whose environment
// arrives in pieces keeps a parser of its own (a copy, sized to what came).
result<bool> session::try_start() {
  thread_local proto::agi::environment_parser shared;
  proto::agi::environment_parser* parser = starting_.get();
  if (!parser) {
    shared.reset(options_.environment_limits);
    parser = &shared;
  }
  auto done = receiver_.drain(stream_, [parser](std::string_view line) { return parser->feed(line); });
  if (!done) {
    starting_.reset();
    return fail(broken(std::move(done).error()));
  }
  if (!*done) {
    if (!starting_) starting_ = std::make_unique<proto::agi::environment_parser>(shared);
    return false;
  }
  env_ = std::move(parser->get());
  starting_.reset();
  return true;
}

awaitable<result<void>> session::start() {
  auto first = try_start();
  if (!first) co_return fail(std::move(first).error());
  if (*first) co_return ok();
  deadline_.arm(options_.environment_timeout);
  for (;;) {
    auto [ec] = co_await stream_.async_wait_readable(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      deadline_.disarm();
      starting_.reset();
      co_return fail(wait_failed(ec));
    }
    auto done = try_start();
    if (!done) {
      deadline_.disarm();
      co_return fail(std::move(done).error());
    }
    if (*done) break;
  }
  if (options_.command_timeout.count() > 0) deadline_.disarm();
  else deadline_.release();  // no deadline until the session ends: keep no timer
  co_return ok();
}

std::string& session::line_scratch() {
  thread_local std::string line;
  return line;
}

result<session::step> session::begin(std::string_view line) {
  if (broken_) return fail(errc::disconnected, "the session's connection is closed");
  if (hung_up_) return fail(errc::hangup, "the caller hung up before this command");
  parser_.reset();
  boost::system::error_code ec;
  if (metrics::library().enabled()) {
    sent_at_ = std::chrono::steady_clock::now();
    metrics::lib::agi().bytes_out.inc(line.size());
  }
  std::size_t n = stream_.write_some(line, ec);
  if (ec && ec != asio::error::would_block) return fail(broken(error{errc::disconnected, ec.message()}));
  deadline_.arm(options_.command_timeout);
  if (n == line.size()) return step::wait_read;
  // The peer's receive window is full: keep the rest until the stream can take it.
  line.remove_prefix(n);
  unsent_ = std::make_unique_for_overwrite<char[]>(line.size());
  std::memcpy(unsent_.get(), line.data(), line.size());
  unsent_size_ = static_cast<std::uint32_t>(line.size());
  unsent_offset_ = 0;
  return step::wait_write;
}

result<session::step> session::resume(const boost::system::error_code& wait_error) {
  if (wait_error) {
    deadline_.disarm();
    return fail(wait_failed(wait_error));
  }
  if (unsent_) {
    boost::system::error_code ec;
    std::string_view rest{unsent_.get() + unsent_offset_, unsent_size_ - unsent_offset_};
    std::size_t n = stream_.write_some(rest, ec);
    if (ec && ec != asio::error::would_block) {
      deadline_.disarm();
      return fail(broken(error{errc::disconnected, ec.message()}));
    }
    unsent_offset_ += static_cast<std::uint32_t>(n);
    if (unsent_offset_ < unsent_size_) return step::wait_write;
    unsent_.reset();
    unsent_size_ = unsent_offset_ = 0;
    return step::wait_read;
  }
  auto done = receiver_.drain(stream_, [this](std::string_view line) { return parser_.feed(line); });
  if (!done) {
    deadline_.disarm();
    return fail(broken(std::move(done).error()));
  }
  if (!*done) return step::wait_read;
  deadline_.disarm();
  if (parser_.get().hangup) hung_up_ = true;
  return step::done;
}

void session::command_done(std::size_t index, const error* e) noexcept {
  if (!metrics::library().enabled()) return;
  const auto& m = metrics::lib::agi();
  m.commands[index].inc();
  if (sent_at_ != std::chrono::steady_clock::time_point{}) {
    m.duration[index].observe(std::chrono::steady_clock::now() - sent_at_);
    sent_at_ = {};
  }
  if (e) m.errors[metrics::lib::error_kind(*e)].inc();
}

error session::wait_failed(const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted) return broken(error{errc::cancelled});
  return broken(error{errc::disconnected, ec.message()});
}

// After a failed read or write the conversation is out of step (a late reply
// would answer the next command), so the session closes.
error session::broken(error e) {
  if (e == errc::cancelled && deadline_.expired()) e = error{errc::timeout, "no reply from Asterisk in time"};
  broken_ = e.code.category() == category() ? static_cast<errc>(e.code.value()) : errc::disconnected;
  stream_.close();
  return e;
}

}  // namespace costrix::agi

// io::event_stream: a coroutine's end of an io::event_queue that a client fills
// on its own thread (ami::event_stream, esl::event_stream).
#pragma once

#include <costrix/io/detail/handoff.hpp>
#include <costrix/io/event_queue.hpp>
#include <costrix/result.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace costrix::io {

/// Events for a coroutine to `co_await`, in the order the peer sent them. The
/// client never waits for the consumer: a full queue loses events by its
/// overflow_policy, counted by dropped(). Survives reconnections. A client's
/// `stream()` makes one; the queue lives on the client's executor, and a
/// closed queue is dropped by the client at its next event.
template <class T>
class event_stream {
 public:
  using executor_type = boost::asio::io_context::executor_type;

  event_stream(executor_type client_executor, std::shared_ptr<event_queue<T>> queue)
      : ex_(client_executor), queue_(std::move(queue)) {}
  event_stream(event_stream&&) noexcept = default;
  event_stream& operator=(event_stream&& other) noexcept {
    if (this != &other) {
      close();
      ex_ = other.ex_;
      queue_ = std::move(other.queue_);
    }
    return *this;
  }
  ~event_stream() { close(); }

  /// The next event: `result<T>`; `errc::cancelled` once the stream is closed
  /// or the wait is cancelled. One next() at a time.
  template <class Token = boost::asio::deferred_t>
  auto next(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(result<T>)>(initiation{ex_, queue_}, token);
  }
  /// Events lost to a full queue so far.
  std::uint64_t dropped() const noexcept { return queue_ ? queue_->dropped.load(std::memory_order_relaxed) : 0; }
  /// Stops taking events; a waiting next() completes with `errc::cancelled`.
  void close() {
    if (queue_) boost::asio::dispatch(ex_, [q = queue_] { q->close(); });
  }

 private:
  template <class Handler>
  class wait_op final : public event_waiter<T> {
   public:
    wait_op(Handler h, executor_type fallback) : to_(std::move(h), fallback) {}
    void complete(result<T>&& r) override { to_.deliver(std::move(r)); }
    Handler& handler() noexcept { return to_.handler(); }

   private:
    detail::handoff<Handler> to_;
  };

  struct canceller {
    executor_type ex;
    std::shared_ptr<event_queue<T>> queue;
    std::weak_ptr<event_waiter<T>> op;
    void operator()(boost::asio::cancellation_type) const {
      boost::asio::post(ex, [q = queue, w = op] { q->cancel(w.lock()); });
    }
  };

  struct initiation {
    executor_type ex;
    std::shared_ptr<event_queue<T>> queue;
    template <class Handler>
    void operator()(Handler&& handler) const {
      auto op = std::make_shared<wait_op<std::decay_t<Handler>>>(std::forward<Handler>(handler), ex);
      auto slot = boost::asio::get_associated_cancellation_slot(op->handler());
      if (slot.is_connected()) slot.template emplace<canceller>(ex, queue, std::weak_ptr<event_waiter<T>>(op));
      boost::asio::dispatch(ex, [q = queue, op = std::move(op)]() mutable { q->wait(std::move(op)); });
    }
  };

  executor_type ex_;
  std::shared_ptr<event_queue<T>> queue_;
};

}  // namespace costrix::io

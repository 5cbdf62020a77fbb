// io::detail::handoff: carries a completion from a client's thread back to its caller's executor.
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <type_traits>
#include <utility>

namespace costrix::io::detail {

// Holds a completion handler and the caller's executor (kept busy meanwhile);
// deliver() runs the handler there, after detaching its cancellation handler.
template <class Handler>
class handoff {
 public:
  handoff(Handler h, boost::asio::io_context::executor_type fallback)
      : handler_(std::move(h)),
        work_(boost::asio::prefer(boost::asio::get_associated_executor(handler_, fallback),
                                  boost::asio::execution::outstanding_work.tracked)) {}
  Handler& handler() noexcept { return handler_; }
  template <class Value>
  void deliver(Value&& v) {
    auto ex = work_;
    boost::asio::post(ex, [h = std::move(handler_), v = std::forward<Value>(v)]() mutable {
      auto slot = boost::asio::get_associated_cancellation_slot(h);
      if (slot.is_connected()) slot.clear();
      std::move(h)(std::move(v));
    });
  }

 private:
  Handler handler_;
  std::decay_t<decltype(boost::asio::prefer(
      std::declval<boost::asio::associated_executor_t<Handler, boost::asio::io_context::executor_type>>(),
      boost::asio::execution::outstanding_work.tracked))>
      work_;
};

}  // namespace costrix::io::detail

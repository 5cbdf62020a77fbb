#include <costrix/io/deadline.hpp>

#include <boost/asio/basic_waitable_timer.hpp>

#include <cstdint>

namespace costrix::io {

struct deadline::state {
  stream* target;
  std::uint64_t generation = 0;
  bool expired = false;
};

struct deadline::timer
    : boost::asio::basic_waitable_timer<std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>,
                                        stream::executor_type> {
  using basic_waitable_timer::basic_waitable_timer;
};

deadline::deadline(stream& s) noexcept : target_(s) {}

deadline::~deadline() {
  if (!state_) return;
  state_->target = nullptr;
  ++state_->generation;
}

void deadline::arm(std::chrono::milliseconds d) {
  if (state_) state_->expired = false;
  if (d.count() <= 0) return;
  if (!state_) {
    state_ = std::make_shared<state>(state{&target_});
    timer_ = std::make_unique<timer>(target_.get_executor());
  }
  auto generation = ++state_->generation;
  timer_->expires_after(d);
  timer_->async_wait([s = state_, generation](const boost::system::error_code& ec) {
    if (ec || s->target == nullptr || s->generation != generation) return;
    s->expired = true;
    s->target->cancel();
  });
}

void deadline::disarm() noexcept {
  if (!state_) return;
  ++state_->generation;
  timer_->cancel();
}

void deadline::release() noexcept {
  if (!state_) return;
  state_->target = nullptr;  // a wait already completed must not touch the stream
  ++state_->generation;
  timer_.reset();  // cancels the wait; its handler keeps `state_` alive until it has run
  state_.reset();
}

bool deadline::expired() const noexcept { return state_ && state_->expired; }

}  // namespace costrix::io

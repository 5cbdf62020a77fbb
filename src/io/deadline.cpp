#include <costrix/io/deadline.hpp>

namespace costrix::io {

deadline::deadline(stream& s) : target_(s), timer_(s.get_executor()) {}

deadline::~deadline() {
  if (!state_) return;
  state_->target = nullptr;
  ++state_->generation;
}

void deadline::arm(std::chrono::milliseconds d) {
  if (state_) state_->expired = false;
  if (d.count() <= 0) return;
  if (!state_) state_ = std::make_shared<state>(state{&target_});
  auto generation = ++state_->generation;
  timer_.expires_after(d);
  timer_.async_wait([s = state_, generation](const boost::system::error_code& ec) {
    if (ec || s->target == nullptr || s->generation != generation) return;
    s->expired = true;
    s->target->cancel();
  });
}

void deadline::disarm() noexcept {
  if (!state_) return;
  ++state_->generation;
  timer_.cancel();
}

}  // namespace costrix::io

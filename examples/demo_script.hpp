// The demo's scripts, shared by examples/fastagi_demo.cpp and the tests that
// check what it serves: "demo" issues five commands a call, "park" holds the
// call idle (for memory measurements).
#pragma once

#include <costrix/agi/session.hpp>

#include <chrono>

namespace demo_script {

inline costrix::awaitable<void> demo(costrix::agi::session& s) {
  auto answered = co_await s.answer();
  if (!answered) co_return;
  auto number = co_await s.get_variable("CALLERID(num)");
  if (!number) co_return;
  auto played = co_await s.stream_file("demo-thanks", "12");
  if (!played) co_return;
  co_await s.set_variable("RESULT", "ok");
  co_await s.hangup();
}

inline costrix::awaitable<void> park(costrix::agi::session& s) {
  co_await s.wait_for_digit(std::chrono::milliseconds{-1});
}

}  // namespace demo_script

// A classic AGI script: Asterisk starts this program with AGI(/path/to/classic_agi,arg)
// and talks to it on stdin/stdout.
#include <costrix/agi/classic.hpp>

using costrix::awaitable;

awaitable<void> script(costrix::agi::session& s) {
  co_await s.answer();
  std::string who{s.args().empty() ? std::string_view("friend") : s.args().front()};
  co_await s.verbose("classic AGI greeting " + who, 3);
  auto key = co_await s.wait_for_digit(std::chrono::milliseconds(3000));
  std::string pressed = key && *key ? std::string(1, **key) : "none";
  co_await s.set_variable("CLASSIC_KEY", pressed);
}

int main() { return costrix::agi::run_classic(script); }

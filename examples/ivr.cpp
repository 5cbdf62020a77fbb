// A short IVR: answer, play a menu, read digits, branch, set a variable, hang up.
// Run it, then point Asterisk at it:  AGI(agi://127.0.0.1:4573/ivr)
//   ivr [--version]
#include <costrix/fastagi/server.hpp>
#include <costrix/version.hpp>

#include <cstdio>
#include <string_view>

using namespace std::chrono_literals;
using costrix::awaitable;

awaitable<void> ivr(costrix::agi::session& s) {
  co_await s.answer();
  auto choice = co_await s.get_data("ivr/menu", 5s, 1);  // result<digits>
  if (!choice) co_return;                                 // hung up, or Asterisk said no
  if (choice->value == "1") {
    co_await s.stream_file("ivr/sales");
    co_await s.set_variable("IVR_CHOICE", "sales");
  } else {
    co_await s.stream_file("ivr/goodbye");
    co_await s.set_variable("IVR_CHOICE", choice->timed_out ? "none" : "other");
  }
  co_await s.hangup();
}

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--version")
    return std::printf("ivr (costrix) %s\n", costrix::version_string), 0;
  if (argc > 1) return std::fprintf(stderr, "usage: ivr [--version]\n"), 2;
  costrix::runtime rt;
  costrix::fastagi::server srv{rt, {.listen = "127.0.0.1:4573"}};
  srv.route("ivr", ivr);
  if (auto r = srv.start(); !r) return std::fprintf(stderr, "%s\n", r.error().what().c_str()), 1;
  rt.run();
}

// ami::async_agi given an AsyncAGIStart whose Env is missing or malformed:
// a warning names the channel, nothing crashes, and other channels still run
// their scripts.
#include <costrix/ami/async_agi.hpp>
#include <costrix/log.hpp>

#include "fixture.hpp"

#include <mutex>
#include <string>
#include <vector>

using namespace ami_test;

namespace {


}  // namespace

TEST_CASE("asyncagi: an AsyncAGIStart with a missing or malformed Env is logged - other channels keep working",
          "[ami][asyncagi]") {
  costrix::test::captured_log log;
  fixture f{{.events = "agi"}};
  std::vector<std::string> ran;  // channels whose script ran (the client's thread)
  auto good_done = std::make_shared<flag>(f.ctx);
  ami::async_agi agi{f.client, [&, good_done](costrix::agi::session& session) -> awaitable<void> {
                       ran.emplace_back(session.env().channel());
                       auto answered = co_await session.answer();
                       if (answered) good_done->set();
                     }};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    // No Env at all.
    f.server.srv.broadcast({{"Event", "AsyncAGIStart"}, {"Privilege", "agi,all"}, {"Channel", "PJSIP/noenv-00000001"}});
    // An Env that is no AGI environment: lines without "key: value".
    f.server.srv.broadcast({{"Event", "AsyncAGIStart"},
                            {"Privilege", "agi,all"},
                            {"Channel", "PJSIP/badenv-00000002"},
                            {"Env", "this%20is%20not%20an%20environment%0A%0A"}});
    // A good channel after them.
    f.server.srv.start_async_agi([] {
      sim::agi_call c;
      c.channel = "PJSIP/good-00000003";
      return c;
    }());
    co_await good_done->wait();
    // Neither bad channel is left waiting in AGI: each gets ASYNCAGI BREAK and
    // goes on in the dialplan. With the good channel's ANSWER and BREAK: 4 AGI actions.
    asio::steady_timer pause(f.ctx);
    for (int i = 0; i < 5000 && f.server.srv.actions_received("AGI") < 4; ++i) {
      pause.expires_after(1ms);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    CHECK(f.server.srv.actions_received("AGI") == 4);
  }());
  CHECK(ran == std::vector<std::string>{"PJSIP/good-00000003"});
  CHECK(log.contains("noenv", "no Env"));
  CHECK(log.contains("badenv", "bad environment"));
  CHECK(agi.stats().refused == 1);  // the missing Env; the malformed one started and failed its environment
  CHECK(f.client.state() == ami::connection_state::connected);
}

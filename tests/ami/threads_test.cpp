// ami::client shared by the threads of a costrix::runtime: actions initiated on
// every core at once, through one client living on another (the test thread's
// io_context). Each action's ActionID slot is taken and freed on the client's
// thread while callers on other threads wait; each result hops back to its
// caller's thread. Run under ThreadSanitizer by scripts/test.
#include "fixture.hpp"

#include <costrix/ami/actions.hpp>

#include <boost/asio/post.hpp>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <string>
#include <vector>

using namespace ami_test;

TEST_CASE("ami client: 4 runtime threads sending 500 actions each at once get their own replies", "[ami][client][threads]") {
  constexpr unsigned threads = 4;
  constexpr int per_thread = 500;
  fixture f;
  costrix::runtime rt{{.threads = threads}};
  rt.start();
  // What one thread's callers saw; written by that thread only, read by the
  // test after every caller has reported back (a post to the test's io_context).
  struct tally {
    int right = 0;       // the value this caller set, for its own variable
    int wrong = 0;       // another caller's value, or an error
    int off_thread = 0;  // a result delivered on another thread than the caller's
    std::string first_wrong;
  };
  std::vector<tally> tallies(threads);
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    int reported = 0;
    flag all(f.ctx);
    for (unsigned t = 0; t < threads; ++t) {
      // All of this thread's callers are spawned by one handler on it, so they
      // start together, while the other threads' callers start too.
      asio::post(rt.executor(t), [&, t] {
        for (int i = 0; i < per_thread; ++i) {
          spawn(rt.executor(t), [&, t, i]() -> awaitable<void> {
            tally& mine = tallies[t];
            const std::string variable = fmt::format("T{}_{}", t, i);
            const std::string value = fmt::format("thread {} caller {}", t, i);
            // Named, not temporaries in the co_await (as everywhere in these tests).
            ami::setvar set_action{.variable = variable, .value = value};
            auto set = co_await f.client.send(std::move(set_action));
            if (!rt.executor(t).running_in_this_thread()) ++mine.off_thread;
            ami::getvar get_action{.variable = variable};
            auto got = co_await f.client.send(std::move(get_action));
            if (!rt.executor(t).running_in_this_thread()) ++mine.off_thread;
            if (set && got && *got == value) {
              ++mine.right;
            } else {
              ++mine.wrong;
              if (mine.first_wrong.empty())
                mine.first_wrong = fmt::format("{}: set {}, got {}", variable, set ? "ok" : set.error().what(),
                                               got ? *got : got.error().what());
            }
            asio::post(f.ctx, [&] {
              if (++reported == static_cast<int>(threads) * per_thread) all.set();
            });
          });
        }
      });
    }
    co_await all.wait();
    for (unsigned t = 0; t < threads; ++t) {
      INFO("thread " << t << ": " << tallies[t].first_wrong);
      CHECK(tallies[t].right == per_thread);
      CHECK(tallies[t].wrong == 0);
      CHECK(tallies[t].off_thread == 0);
    }
    const auto st = f.client.stats();
    CHECK(st.in_flight == 0);
    CHECK(st.orphans == 0);
    CHECK(st.actions >= 2u * threads * per_thread);
    CHECK(f.server.srv.actions_received("Setvar") == threads * per_thread);
    CHECK(f.server.srv.actions_received("Getvar") == threads * per_thread);
    CHECK(f.client.state() == ami::connection_state::connected);
    co_await f.shutdown();
  }());
  rt.stop();
  rt.join();
}

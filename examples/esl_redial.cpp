// Calls a number until it answers, as the redial loop of FreeSWITCH's Lua
// docs does with freeswitch.Session(): originate over the inbound Event
// Socket; on a busy line or no answer wait and try again; on any other cause
// give up. Once answered: a prompt, then the hangup.
// Try it against the simulator (every originate answers there):
//   costrix-esl-sim &
//   esl_redial [--host 127.0.0.1] [--port 8021] [--password ClueCon]
//              [--endpoint sofia/gateway/gw/5551234] [--tries 5] [--pause 10]
#include <costrix/esl/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace esl = costrix::esl;
namespace asio = boost::asio;
using costrix::awaitable;

// The causes worth another try: the line was busy, nobody answered, or the
// network was briefly short of something.
bool worth_retrying(esl::cause c) {
  switch (c) {
    case esl::cause::user_busy:
    case esl::cause::no_answer:
    case esl::cause::no_user_response:
    case esl::cause::normal_temporary_failure:
    case esl::cause::normal_circuit_congestion:
    case esl::cause::switch_congestion:
      return true;
    default:
      return false;
  }
}

awaitable<bool> run(esl::client& fs, std::string endpoint, int tries, std::chrono::seconds pause) {
  auto up = co_await fs.connect();
  if (!up) {
    std::fprintf(stderr, "esl_redial: %s\n", up.error().what().c_str());
    co_return false;
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int attempt = 1; attempt <= tries; ++attempt) {
    esl::api::originate call{.endpoint = endpoint, .destination = "&park()", .timeout = std::chrono::seconds{30}};
    auto leg = co_await fs.originate(std::move(call));
    if (leg) {
      std::printf("try %d: answered %s\n", attempt, leg->uuid().c_str());
      auto played = co_await leg->broadcast("ivr/ivr-welcome_to_freeswitch.wav");
      if (!played) std::fprintf(stderr, "esl_redial: broadcast: %s\n", played.error().what().c_str());
      auto bye = co_await leg->hangup(esl::cause::normal_clearing);
      co_return bye.has_value();
    }
    esl::cause why = esl::cause_of(leg.error());
    if (!worth_retrying(why)) {
      std::fprintf(stderr, "esl_redial: try %d: %s\n", attempt, leg.error().what().c_str());
      co_return false;
    }
    std::printf("try %d: %s, again in %llds\n", attempt, std::string(esl::to_string(why)).c_str(),
                static_cast<long long>(pause.count()));
    timer.expires_after(pause);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  std::fprintf(stderr, "esl_redial: no answer after %d tries\n", tries);
  co_return false;
}

int main(int argc, char** argv) {
  esl::client_options options;
  std::string endpoint = "sofia/gateway/gw/5551234";
  int tries = 5;
  long pause = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--host") options.host = argv[i + 1];
    else if (flag == "--port") options.port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (flag == "--password") options.password = argv[i + 1];
    else if (flag == "--endpoint") endpoint = argv[i + 1];
    else if (flag == "--tries") tries = std::atoi(argv[i + 1]);
    else if (flag == "--pause") pause = std::atol(argv[i + 1]);
    else
      return std::fprintf(stderr, "usage: esl_redial [--host H] [--port P] [--password PW] [--endpoint E] "
                                  "[--tries N] [--pause SECONDS]\n"),
             2;
  }
  options.reconnect.enabled = false;
  asio::io_context ctx{1};
  esl::client fs{ctx.get_executor(), options};
  bool ok = false;
  asio::co_spawn(ctx, [](esl::client& fs, std::string endpoint, int tries, std::chrono::seconds pause,
                         bool& ok) -> awaitable<void> {
    ok = co_await run(fs, std::move(endpoint), tries, pause);
    fs.close();
  }(fs, endpoint, tries, std::chrono::seconds{pause}, ok), asio::detached);
  ctx.run();
  return ok ? 0 : 1;
}

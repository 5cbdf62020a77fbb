// Drives FreeSWITCH over the inbound Event Socket: authenticates, prints
// CHANNEL_ANSWER and CHANNEL_HANGUP_COMPLETE events, originates a call in the
// background (bgapi), reads a variable, lists the channels, hangs the call up.
// Try it against the simulator:
//   costrix-esl-sim &
//   esl_inbound [--host 127.0.0.1] [--port 8021] [--password ClueCon] [--endpoint loopback/9001/default]
#include <costrix/esl/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace esl = costrix::esl;
using costrix::awaitable;

awaitable<bool> run(esl::client& fs, std::string endpoint) {
  fs.on_event("CHANNEL_ANSWER", [](const esl::event& e) {
    std::printf("answered    %s\n", std::string(e.get("Unique-ID").value_or("")).c_str());
  });
  fs.on_event("CHANNEL_HANGUP_COMPLETE", [](const esl::event& e) {
    std::printf("hung up     %s\n", std::string(e.get("Hangup-Cause").value_or("")).c_str());
  });
  auto up = co_await fs.connect();
  if (!up) {
    std::fprintf(stderr, "esl_inbound: %s\n", up.error().what().c_str());
    co_return false;
  }
  auto status = co_await fs.api("status");
  if (status) std::printf("%s", status->c_str());

  esl::api::originate call{.endpoint = std::move(endpoint), .variables = {{"costrix_demo", "yes"}}};
  auto uuid = co_await fs.bgapi(call);  // completes on its BACKGROUND_JOB
  if (!uuid) {
    std::fprintf(stderr, "esl_inbound: originate: %s\n", uuid.error().what().c_str());
    co_return false;
  }
  std::printf("originated  %s\n", uuid->c_str());

  esl::api::uuid_getvar demo{*uuid, "costrix_demo"};
  auto v = co_await fs.api(demo);
  if (v) std::printf("variable    costrix_demo=%s\n", v->value_or("(unset)").c_str());

  auto rows = co_await fs.api(esl::api::show_channels{});
  if (rows) std::printf("channels    %zu\n", rows->size());

  esl::api::uuid_kill kill{*uuid};
  auto killed = co_await fs.api(kill);
  if (!killed) std::fprintf(stderr, "esl_inbound: uuid_kill: %s\n", killed.error().what().c_str());
  auto bye = co_await fs.exit();
  co_return bye.has_value();
}

int main(int argc, char** argv) {
  esl::client_options options;
  std::string endpoint = "loopback/9001/default";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--host") options.host = argv[i + 1];
    else if (flag == "--port") options.port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (flag == "--password") options.password = argv[i + 1];
    else if (flag == "--endpoint") endpoint = argv[i + 1];
    else return std::fprintf(stderr, "usage: esl_inbound [--host H] [--port P] [--password PW] [--endpoint E]\n"), 2;
  }
  boost::asio::io_context ctx{1};
  esl::client fs{ctx.get_executor(), options};
  bool ok = false;
  boost::asio::co_spawn(ctx, [](esl::client& fs, std::string endpoint, bool& ok) -> awaitable<void> {
    ok = co_await run(fs, std::move(endpoint));
    fs.close();
  }(fs, endpoint, ok), boost::asio::detached);
  ctx.run();
  return ok ? 0 : 1;
}

// An IVR over AsyncAGI: every channel that enters AGI(agi:async) on the
// Asterisk behind AMI runs the same script as a FastAGI handler would. Try it
// against the simulator:
//   costrix-ami-sim --async-agi 3 --async-agi-interval 500 &
//   asyncagi [--host 127.0.0.1] [--port 5038] [--user admin] [--secret wordpass] [--calls 3]
// It logs off after --calls scripts have ended.
#include <costrix/ami/async_agi.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ami = costrix::ami;
using costrix::awaitable;

// The script: the same code would serve agi://host/... over FastAGI.
awaitable<void> greet(costrix::agi::session& s) {
  auto answered = co_await s.answer();
  if (!answered) co_return;
  auto played = co_await s.stream_file("demo-thanks", "#");
  if (played && played->digit) std::printf("%s pressed %c\n", std::string(s.env().channel()).c_str(), *played->digit);
  co_await s.set_variable("GREETED", "yes");
  std::printf("%s greeted\n", std::string(s.env().channel()).c_str());
}  // the channel is sent ASYNCAGI BREAK and goes on in the dialplan

int main(int argc, char** argv) {
  ami::client_options options{.username = "admin", .secret = "wordpass", .events = "agi"};
  int calls = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--host") options.host = argv[i + 1];
    else if (flag == "--port") options.port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (flag == "--user") options.username = argv[i + 1];
    else if (flag == "--secret") options.secret = argv[i + 1];
    else if (flag == "--calls") calls = std::atoi(argv[i + 1]);
    else return std::fprintf(stderr, "usage: asyncagi [--host H] [--port P] [--user U] [--secret S] [--calls N]\n"), 2;
  }
  boost::asio::io_context ctx{1};
  ami::client c{ctx.get_executor(), options};
  int ended = 0;
  ami::async_agi agi{c, [&](costrix::agi::session& s) -> awaitable<void> {
                       co_await greet(s);
                       if (++ended == calls) c.close();
                     }};
  int status = 0;
  c.connect([&](costrix::result<void> up) {
    if (up) return;
    std::fprintf(stderr, "asyncagi: %s\n", up.error().what().c_str());
    status = 1;
    c.close();
  });
  ctx.run();
  std::printf("%llu scripts ran\n", static_cast<unsigned long long>(agi.stats().started));
  return status;
}

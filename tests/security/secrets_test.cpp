// Credentials never reach a log line or an error message: a wrong AMI secret
// and a wrong ESL password, with every log line captured at debug level (the
// simulators run in this process, so their lines are captured too).
#include <costrix/esl/client.hpp>
#include <costrix/log.hpp>
#include <costrix/sim/esl_server.hpp>

#include "ami/fixture.hpp"
#include "regression/esl_sim.hpp"

#include <mutex>
#include <string>
#include <vector>

using namespace ami_test;
using costrix::errc;
namespace esl = costrix::esl;

namespace {

// Every log line, at every level, until the end of the test.
struct all_log_lines {
  std::mutex m;
  std::vector<std::string> lines;
  all_log_lines() {
    costrix::set_log_level(costrix::log_level::debug);
    costrix::set_log_sink([this](costrix::log_level, std::string_view l) {
      std::lock_guard lock(m);
      lines.emplace_back(l);
    });
  }
  ~all_log_lines() {
    costrix::set_log_sink(nullptr);
    costrix::set_log_level(costrix::log_level::warning);
  }
  std::vector<std::string> containing(std::string_view needle) {
    std::lock_guard lock(m);
    std::vector<std::string> out;
    for (const auto& l : lines)
      if (l.find(needle) != std::string::npos) out.push_back(l);
    return out;
  }
  std::size_t size() {
    std::lock_guard lock(m);
    return lines.size();
  }
};

constexpr const char* secret = "Zq9-very-secret-Xw4";

}  // namespace

TEST_CASE("security: a wrong AMI secret appears in no log line and no error", "[security][ami]") {
  auto method = GENERATE(ami::login_method::md5, ami::login_method::plain);
  all_log_lines log;
  std::vector<std::string> errors;
  {
    fixture f{{.secret = secret, .login = method}};
    f.run([&]() -> awaitable<void> {
      auto r = co_await f.client.connect();
      REQUIRE(!r);
      CHECK(r.error() == errc::auth_failed);
      errors.push_back(r.error().what());
      errors.push_back(r.error().message);
      // Actions on the failed client fail too: their errors must not carry it either.
      auto ping = co_await f.client.send(ami::ping{});
      REQUIRE(!ping);
      errors.push_back(ping.error().what());
    }());
  }
  CHECK(log.size() > 0);  // the login and the failure were logged
  CHECK(log.containing(secret).empty());
  for (const auto& e : errors) CHECK(e.find(secret) == std::string::npos);
}

TEST_CASE("security: a wrong ESL password appears in no log line and no error", "[security][esl]") {
  const bool userauth = GENERATE(false, true);
  all_log_lines log;
  std::vector<std::string> errors;
  {
    esl::client_options o{.password = secret};
    if (userauth) {
      o.user = "1000";
      o.domain = "default";
    }
    esl_test::esl_fixture f{o, {.password = "ClueCon", .users = {{"1000@default", "right"}}}};
    f.run([&]() -> awaitable<void> {
      auto r = co_await f.client.connect();
      REQUIRE(!r);
      CHECK(r.error() == errc::auth_failed);
      errors.push_back(r.error().what());
      auto api = co_await f.client.api("status");
      REQUIRE(!api);
      errors.push_back(api.error().what());
    }());
  }
  CHECK(log.size() > 0);
  CHECK(log.containing(secret).empty());
  for (const auto& e : errors) CHECK(e.find(secret) == std::string::npos);
}

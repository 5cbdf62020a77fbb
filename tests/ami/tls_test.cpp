// AMI over TLS against the simulator with a test certificate (tests/data/tls):
// the chain and the server's name are checked; a failed check is a clear error.
#include "fixture.hpp"

#include <string>

using namespace ami_test;
using costrix::errc;

namespace {

const std::string dir = COSTRIX_TLS_DIR;

sim::ami_server_options tls_server() {
  return {.tls_certificate_file = dir + "/server.pem", .tls_private_key_file = dir + "/server.key"};
}

ami::client_options tls_client(std::string server_name, std::string ca_file = dir + "/ca.pem") {
  ami::client_options o;
  o.tls = {.enabled = true, .ca_file = std::move(ca_file), .server_name = std::move(server_name)};
  o.reconnect.enabled = false;
  return o;
}

}  // namespace

TEST_CASE("ami tls: logs in and sends actions over TLS with the certificate checked", "[ami][tls]") {
  fixture f{tls_client("ami.test"), tls_server()};
  f.run([&]() -> awaitable<void> {
    auto up = co_await f.client.connect();
    REQUIRE(up);
    auto pong = co_await f.client.send(ami::ping{});
    REQUIRE(pong);
    CHECK(pong->ok());
    ami::getvar get{.variable = "AMI_TLS"};
    auto absent = co_await f.client.send(std::move(get));
    CHECK(absent);
  }());
  CHECK(f.server.srv.stats().logins == 1);
  CHECK(f.server.srv.actions_received("Ping") == 1);
}

TEST_CASE("ami tls: a certificate for another name is refused before anything is sent", "[ami][tls]") {
  fixture f{tls_client("asterisk.example.com"), tls_server()};
  auto r = f.run([&]() -> awaitable<costrix::result<void>> { co_return co_await f.client.connect(); }());
  REQUIRE(!r);
  CHECK(r.error() == errc::auth_failed);
  CHECK(r.error().message.find("TLS") != std::string::npos);
  CHECK(f.server.srv.stats().logins == 0);
  CHECK(f.server.srv.actions_received("Challenge") == 0);
}

TEST_CASE("ami tls: a certificate from an untrusted CA is refused", "[ami][tls]") {
  // Trusting only the server's own certificate's issuer is what makes it valid:
  // with the server certificate itself as the only "CA", the chain does not verify.
  fixture f{tls_client("ami.test", dir + "/server.pem"), tls_server()};
  auto r = f.run([&]() -> awaitable<costrix::result<void>> { co_return co_await f.client.connect(); }());
  REQUIRE(!r);
  CHECK(r.error() == errc::auth_failed);
  CHECK(f.server.srv.stats().logins == 0);
}

TEST_CASE("ami tls: a plain client at a TLS port fails with an error - not a hang", "[ami][tls]") {
  ami::client_options plain;
  plain.reconnect.enabled = false;
  plain.connect_timeout = 200ms;  // the TLS server waits for a ClientHello and sends no banner
  fixture f{plain, tls_server()};
  auto r = f.run([&]() -> awaitable<costrix::result<void>> { co_return co_await f.client.connect(); }());
  REQUIRE(!r);
  CHECK(f.server.srv.stats().logins == 0);
}

#include <costrix/proto/ami/login_key.hpp>

#include <catch2/catch.hpp>

namespace ami = costrix::proto::ami;

TEST_CASE("md5_hex: RFC 1321 test vectors", "[proto][ami]") {
  CHECK(ami::md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(ami::md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(ami::md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
        "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("login_key: the Key a real Asterisk 22 accepted for its challenge", "[proto][ami]") {
  // tests/data/transcripts/ami-session.json, steps challenge and login-md5 (secret "wordpass").
  CHECK(ami::login_key("919389003", "wordpass") == "1a3656eacb441b548699f543f29da41a");
}

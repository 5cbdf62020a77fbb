#include <costrix/io/allow_list.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using costrix::errc;
using costrix::io::allow_list;
using costrix::io::parse_network;

namespace {
boost::asio::ip::address addr(const char* text) { return boost::asio::ip::make_address(text); }
}  // namespace

TEST_CASE("parse_network reads IPv4 and IPv6 networks and bare addresses", "[io][allow_list]") {
  auto n = parse_network("10.0.0.0/8");
  REQUIRE(n);
  CHECK(n->text() == "10.0.0.0/8");
  CHECK(n->contains(addr("10.255.1.2")));
  CHECK_FALSE(n->contains(addr("11.0.0.1")));
  CHECK_FALSE(n->contains(addr("::1")));

  auto host = parse_network("127.0.0.1");
  REQUIRE(host);
  CHECK(host->text() == "127.0.0.1/32");
  CHECK(host->contains(addr("127.0.0.1")));
  CHECK_FALSE(host->contains(addr("127.0.0.2")));

  auto v6 = parse_network("::1/128");
  REQUIRE(v6);
  CHECK(v6->contains(addr("::1")));
  CHECK_FALSE(v6->contains(addr("::2")));
  CHECK_FALSE(v6->contains(addr("127.0.0.1")));

  auto doc = parse_network("2001:db8::/32");
  REQUIRE(doc);
  CHECK(doc->contains(addr("2001:db8:ffff::1")));
  CHECK_FALSE(doc->contains(addr("2001:db9::1")));
}

TEST_CASE("parse_network handles odd prefixes and host bits", "[io][allow_list]") {
  auto odd = parse_network("192.168.4.0/22");
  REQUIRE(odd);
  CHECK(odd->contains(addr("192.168.7.255")));
  CHECK_FALSE(odd->contains(addr("192.168.8.0")));
  CHECK_FALSE(odd->contains(addr("192.168.3.255")));

  auto host_bits = parse_network("10.1.2.3/8");  // the host bits are ignored
  REQUIRE(host_bits);
  CHECK(host_bits->text() == "10.0.0.0/8");
  CHECK(host_bits->contains(addr("10.9.9.9")));

  auto all4 = parse_network("0.0.0.0/0");
  REQUIRE(all4);
  CHECK(all4->contains(addr("203.0.113.9")));
  CHECK_FALSE(all4->contains(addr("2001:db8::1")));
  auto all6 = parse_network("::/0");
  REQUIRE(all6);
  CHECK(all6->contains(addr("2001:db8::1")));
}

TEST_CASE("parse_network refuses malformed and hostile text with invalid_argument", "[io][allow_list]") {
  const std::vector<std::string> bad = {
      "", "/", "/8", "10.0.0.0/", "10.0.0.0/33", "::1/129", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8",
      "10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0.0/8/8", "10.0.0.0/4294967304", "10.0.0.0/0x8", "10.0.0/8",
      "10.0.0.256", "256.0.0.0/8", "host.example.com", "localhost", "fe80::1%eth0/64", "1.2.3.4\n", "::1/12a",
      std::string("10.0.0.0\0/8", 11), std::string(100'000, '1'), std::string(70, ':'), "10.0.0.0/0008",
  };
  for (const auto& text : bad) {
    INFO("text: " << text.substr(0, 40));
    auto n = parse_network(text);
    REQUIRE_FALSE(n);
    CHECK(n.error() == errc::invalid_argument);
    CHECK(n.error().message.find("bad network") != std::string::npos);
    CHECK(n.error().message.size() < 200);  // hostile input is not echoed whole
  }
}

TEST_CASE("allow_list admits everyone when empty and only its networks otherwise", "[io][allow_list]") {
  allow_list everyone;
  CHECK(everyone.empty());
  CHECK(everyone.allows(addr("203.0.113.9")));

  auto list = allow_list::parse({"10.0.0.0/8", "::1/128", "127.0.0.1"});
  REQUIRE(list);
  CHECK(list->allows(addr("10.1.2.3")));
  CHECK(list->allows(addr("127.0.0.1")));
  CHECK(list->allows(addr("::1")));
  CHECK(list->allows(addr("::ffff:10.1.2.3")));  // an IPv4 peer on an IPv6 socket
  CHECK_FALSE(list->allows(addr("127.0.0.2")));
  CHECK_FALSE(list->allows(addr("::ffff:192.168.1.1")));
  CHECK_FALSE(list->allows(addr("2001:db8::1")));

  auto broken = allow_list::parse({"10.0.0.0/8", "10.0.0.0/40"});
  REQUIRE_FALSE(broken);
  CHECK(broken.error() == errc::invalid_argument);
  CHECK(broken.error().message.find("10.0.0.0/40") != std::string::npos);
}

#include <costrix/proto/agi/command_line.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace costrix;
using namespace costrix::proto::agi;
using namespace std::string_literals;
using args = std::vector<std::string>;

TEST_CASE("command_writer: words - arguments - quoting", "[proto][agi][command_line]") {
  std::string out;
  command_writer w(out);
  w.word("SET VARIABLE").arg("FOO").arg("value with spaces and \"quotes\"");
  REQUIRE(w.finish());
  CHECK(out == "SET VARIABLE FOO \"value with spaces and \\\"quotes\\\"\"\n");

  out.clear();
  command_writer w2(out);
  w2.word("X").arg("").arg("tab\there").arg("back\\slash").arg("plain").arg("a,b=c;${X}").quoted("").quoted("#");
  REQUIRE(w2.finish());
  CHECK(out == "X \"\" \"tab\there\" \"back\\\\slash\" plain a,b=c;${X} \"\" \"#\"\n");
}

TEST_CASE("command_writer: numbers and optionals", "[proto][agi][command_line]") {
  std::string out;
  command_writer w(out);
  w.word("N").number(0).number(-1).number(std::numeric_limits<std::int64_t>::min()).number(
      std::numeric_limits<std::int64_t>::max());
  w.opt(std::nullopt).opt(7).opt_arg("").opt_arg("x y");
  REQUIRE(w.finish());
  CHECK(out == "N 0 -1 -9223372036854775808 9223372036854775807 7 \"x y\"\n");
}

TEST_CASE("command_writer: word(\"\") writes nothing", "[proto][agi][command_line]") {
  std::string out;
  command_writer w(out);
  w.word("").word("NOOP").word("");
  REQUIRE(w.finish());
  CHECK(out == "NOOP\n");
}

TEST_CASE("command_writer: line breaks and NUL are refused - out is left as it was", "[proto][agi][command_line]") {
  for (std::string bad : {"a\nb"s, "a\rb"s, "a\0b"s, "\n"s, "\r\n"s}) {
    CAPTURE(bad);
    for (int how = 0; how < 3; ++how) {
      std::string out = "KEEP\n";
      command_writer w(out);
      w.word("SET VARIABLE").arg("X");
      if (how == 0) w.arg(bad);
      if (how == 1) w.quoted(bad);
      if (how == 2) w.word(bad);
      w.arg("after");
      auto r = w.finish();
      REQUIRE_FALSE(r);
      CHECK(r.error() == errc::invalid_argument);
      CHECK(out == "KEEP\n");
    }
  }
  std::string out;
  command_writer w(out);
  w.word("X").reject();
  CHECK_FALSE(w.finish());
  CHECK(out.empty());
}

TEST_CASE("command_writer appends to what is already there", "[proto][agi][command_line]") {
  std::string out = "ANSWER\n";
  command_writer w(out);
  w.word("NOOP");
  REQUIRE(w.finish());
  CHECK(out == "ANSWER\nNOOP\n");
}

TEST_CASE("split_command_line: parse_args semantics", "[proto][agi][command_line]") {
  CHECK(split_command_line("") == args{});
  CHECK(split_command_line("   \t ") == args{});
  CHECK(split_command_line("ANSWER") == args{"ANSWER"});
  CHECK(split_command_line("  STREAM   FILE\tx  ") == args{"STREAM", "FILE", "x"});
  CHECK(split_command_line("STREAM FILE demo-thanks \"\"") == args{"STREAM", "FILE", "demo-thanks", ""});
  CHECK(split_command_line("A \"two words\" b") == args{"A", "two words", "b"});
  CHECK(split_command_line("A \"x \\\"y\\\" \\\\ z\"") == args{"A", "x \"y\" \\ z"});
  // quotes inside a word join, they do not start a new argument
  CHECK(split_command_line("SET CALLERID \"John Doe\"<5551234>") == args{"SET", "CALLERID", "John Doe<5551234>"});
  CHECK(split_command_line("a\"b c\"d") == args{"ab cd"});
  CHECK(split_command_line("\"\"\"\"") == args{""});
  CHECK(split_command_line("\"\" \"\"") == args{"", ""});
  // backslash: the next character is literal, outside quotes too
  CHECK(split_command_line("a\\ b c") == args{"a b", "c"});
  CHECK(split_command_line("\\\"x") == args{"\"x"});
  CHECK(split_command_line("x\\\\y") == args{"x\\y"});
  CHECK(split_command_line("\\n") == args{"n"});
  CHECK(split_command_line("trailing\\") == args{"trailing"});
  CHECK(split_command_line("\\") == args{});
  CHECK(split_command_line("\\ ") == args{" "});
  // an unterminated quote runs to the end
  CHECK(split_command_line("A \"open ended") == args{"A", "open ended"});
  // '\r' is an ordinary character to Asterisk; NUL ends the C string
  CHECK(split_command_line("NOOP\r") == args{"NOOP\r"});
  CHECK(split_command_line("NOOP x\0y z"s) == args{"NOOP", "x"});
  // only ' ' and '\t' separate
  CHECK(split_command_line("a\vb\fc") == args{"a\vb\fc"});
}

TEST_CASE("split_command_line: at most 127 arguments", "[proto][agi][command_line]") {
  std::string line;
  for (int i = 0; i < 200; ++i) line += "w" + std::to_string(i) + " ";
  auto a = split_command_line(line);
  REQUIRE(a.size() == 127);
  CHECK(a.back() == "w126");

  std::string quoted;
  for (int i = 0; i < 200; ++i) quoted += "\"q " + std::to_string(i) + "\" ";
  auto b = split_command_line(quoted);
  REQUIRE(b.size() == 127);
  CHECK(b.back() == "q 126");

  // the last argument may keep growing; later words are dropped
  std::string tail;
  for (int i = 0; i < 126; ++i) tail += "x ";
  tail += "last\"still last\" dropped \"dropped too\"";
  auto c = split_command_line(tail);
  REQUIRE(c.size() == 127);
  CHECK(c.back() == "laststill last");
}

TEST_CASE("split_command_line reads back what command_writer writes", "[proto][agi][command_line]") {
  std::vector<std::string> samples = {"",      "plain", "two words", "\"", "\\", "\\\"", "a\"b",  "tab\t",
                                      " lead", "trail ", "${X}",     "#",  "*",  "'q'",  "\x01\x7f", "\xc3\xa9"};
  for (const auto& s : samples) {
    CAPTURE(s);
    std::string out;
    command_writer w(out);
    w.word("CMD").arg(s).quoted(s);
    REQUIRE(w.finish());
    REQUIRE(out.back() == '\n');
    out.pop_back();
    CHECK(split_command_line(out) == args{"CMD", s, s});
  }
}

TEST_CASE("split_command_line: hostile input never crashes", "[proto][agi][command_line]") {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (std::size_t i = 0; i < bytes.size(); ++i) (void)split_command_line(std::string_view{bytes}.substr(i));
  (void)split_command_line(std::string(1 << 20, '"'));
  (void)split_command_line(std::string(1 << 20, '\\'));
  auto big = split_command_line(std::string(1 << 20, 'a'));
  REQUIRE(big.size() == 1);
  CHECK(big[0].size() == (1u << 20));
  std::string spaced;
  for (int i = 0; i < 100000; ++i) spaced += "a ";
  CHECK(split_command_line(spaced).size() == 127);
}

// Every AGI command of Asterisk 20/22 as a small descriptor: its name, its
// arguments, how they are written and what its reply means.
//
// A descriptor is an aggregate:
//   struct stream_file {
//     static constexpr std::string_view name = "STREAM FILE";
//     using reply_type = playback;
//     std::string_view file; std::string_view escape_digits; std::optional<std::int64_t> offset;
//     void encode(command_writer& w) const;          // the arguments after the name
//     static result<reply_type> decode(const reply&); // a 200 reply into the typed value
//   };
// `encode(cmd, out)` and `decode<Cmd>(reply)` below are the one generic path;
// string_view members must outlive the call that sends the command.
#pragma once

#include <costrix/proto/agi/command_line.hpp>
#include <costrix/proto/agi/reply.hpp>
#include <costrix/proto/agi/types.hpp>
#include <costrix/result.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace costrix::proto::agi {

template <class C>
concept command = requires(const C& c, command_writer& w, const reply& r) {
  { C::name } -> std::convertible_to<std::string_view>;
  typename C::reply_type;
  c.encode(w);
  { C::decode(r) } -> std::same_as<result<typename C::reply_type>>;
};

/// Appends `cmd` as one line ("STREAM FILE demo-thanks \"12\"\n") to `out`.
template <command C>
result<void> encode(const C& cmd, std::string& out) {
  command_writer w(out);
  w.word(C::name);
  cmd.encode(w);
  return w.finish();
}

/// The typed value of a reply to `C`: the reply's code checked first (510, 511,
/// 520, HANGUP become errors), then the command's own reading of `result=`.
template <command C>
result<typename C::reply_type> decode(const reply& r) {
  if (auto c = check(r); !c) return fail(std::move(c).error());
  return C::decode(r);
}

// Readings of `result=` shared by many commands (commands.cpp).
result<void> expect(const reply& r, std::int64_t success);     ///< result must equal `success`
result<playback> to_playback(const reply& r);                  ///< digit/endpos, -1 = failed
result<std::optional<char>> to_digit(const reply& r);          ///< 0 = none, >0 = ASCII code, -1 = failed
result<std::optional<std::string>> to_value(const reply& r);   ///< 1 (data) = value, 0 = absent

// ---------------------------------------------------------------------------
// The commands, in Asterisk's alphabetical order.

struct answer {
  static constexpr std::string_view name = "ANSWER";
  using reply_type = void;
  void encode(command_writer&) const {}
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

struct get_variable {
  static constexpr std::string_view name = "GET VARIABLE";
  using reply_type = std::optional<std::string>;
  std::string_view variable;
  void encode(command_writer& w) const { w.arg(variable); }
  static result<reply_type> decode(const reply& r) { return to_value(r); }
};

struct stream_file {
  static constexpr std::string_view name = "STREAM FILE";
  using reply_type = playback;
  std::string_view file;
  std::string_view escape_digits = {};
  std::optional<std::int64_t> offset = {};
  void encode(command_writer& w) const { w.arg(file).quoted(escape_digits).opt(offset); }
  static result<playback> decode(const reply& r) { return to_playback(r); }
};

/// Any command line costrix does not model, sent as given; the reply comes back raw.
struct raw {
  static constexpr std::string_view name = "";
  using reply_type = raw_reply;
  std::string_view line;
  void encode(command_writer& w) const;
  static result<raw_reply> decode(const reply& r);
};

}  // namespace costrix::proto::agi

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
//
// Conventions (checked against the handlers in Asterisk's res_agi.c and app_stack.c):
//   - escape digits (and CONTROL STREAM FILE's control keys) are always written
//     quoted, so "no digits" is `""`; other arguments are quoted only when needed;
//   - times are std::chrono types in the unit the command takes (milliseconds
//     for most, seconds for SET AUTOHANGUP, RECORD FILE's silence and SPEECH
//     RECOGNIZE);
//   - a result Asterisk uses for failure (-1 for playback and say commands, 0
//     for most setters) is `errc::failed` with a message naming the reply;
//   - a result that is not a number where one is expected is `errc::protocol`.
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
#include <type_traits>

namespace costrix::proto::agi {

template <class C>
concept command = std::is_trivially_destructible_v<C> &&  // safe as a temporary in co_await (GCC 12)
                  requires(const C& c, command_writer& w, const reply& r) {
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

using std::chrono::milliseconds;
using std::chrono::seconds;

/// TDD MODE's argument.
enum class tdd_setting { off, on, tdd, mate };

// ---------------------------------------------------------------------------
// The commands, in Asterisk's alphabetical order.

/// ANSWER: 0, or -1 when the channel failed.
struct answer {
  static constexpr std::string_view name = "ANSWER";
  using reply_type = void;
  void encode(command_writer&) const {}
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// ASYNCAGI BREAK: leaves AsyncAGI; always 0.
struct asyncagi_break {
  static constexpr std::string_view name = "ASYNCAGI BREAK";
  using reply_type = void;
  void encode(command_writer&) const {}
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// CHANNEL STATUS [channel]: the state; -1 (no such channel) is `errc::not_found`.
struct channel_status {
  static constexpr std::string_view name = "CHANNEL STATUS";
  using reply_type = channel_state;
  std::string_view channel = {};  ///< empty: this channel
  void encode(command_writer& w) const { w.opt_arg(channel); }
  static result<channel_state> decode(const reply& r);
};

/// CONTROL STREAM FILE file escape [skipms [ffchar [rewchr [pausechr [offsetms]]]]].
/// Later arguments force earlier ones: skip defaults to 3000 ms, an empty key to
/// Asterisk's default ('#' forward, '*' rewind, no pause). endpos is -1 when the
/// file played to its end.
struct control_stream_file {
  static constexpr std::string_view name = "CONTROL STREAM FILE";
  using reply_type = playback;
  std::string_view file;
  std::string_view escape_digits = {};
  std::optional<milliseconds> skip = {};
  std::string_view forward = {};
  std::string_view rewind = {};
  std::string_view pause = {};
  std::optional<milliseconds> offset = {};
  void encode(command_writer& w) const;
  static result<playback> decode(const reply& r) { return to_playback(r); }
};

/// DATABASE DEL family key: 1 success, 0 failure. Asterisk 22 answers 1 for a
/// missing key too (the SQLite delete succeeds).
struct database_del {
  static constexpr std::string_view name = "DATABASE DEL";
  using reply_type = void;
  std::string_view family;
  std::string_view key;
  void encode(command_writer& w) const { w.arg(family).arg(key); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// DATABASE DELTREE family [keytree]: whether anything was deleted. The handler
/// writes `num_deleted > 0 ? '0' : '1'`, so result=0 means entries were deleted
/// and result=1 means none were (or the database failed), the reverse of its
/// documentation; the transcript shows exactly that.
struct database_deltree {
  static constexpr std::string_view name = "DATABASE DELTREE";
  using reply_type = bool;  ///< deleted
  std::string_view family;
  std::string_view keytree = {};
  void encode(command_writer& w) const { w.arg(family).opt_arg(keytree); }
  static result<bool> decode(const reply& r);
};

/// DATABASE GET family key: the value, or nullopt when the key is not set.
struct database_get {
  static constexpr std::string_view name = "DATABASE GET";
  using reply_type = std::optional<std::string>;
  std::string_view family;
  std::string_view key;
  void encode(command_writer& w) const { w.arg(family).arg(key); }
  static result<reply_type> decode(const reply& r) { return to_value(r); }
};

/// DATABASE PUT family key value: 1 success, 0 failure.
struct database_put {
  static constexpr std::string_view name = "DATABASE PUT";
  using reply_type = void;
  std::string_view family;
  std::string_view key;
  std::string_view value;
  void encode(command_writer& w) const { w.arg(family).arg(key).arg(value); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// EXEC application [options]: the application's own result; -2 (no such
/// application) is `errc::not_found`. Options are written quoted unless they
/// are purely letters and digits ("EXEC Wait 0", "EXEC Set \"X=1,2\"").
struct exec {
  static constexpr std::string_view name = "EXEC";
  using reply_type = int;
  std::string_view application;
  std::string_view options = {};
  void encode(command_writer& w) const;
  static result<int> decode(const reply& r);
};

/// GET DATA file [timeout [maxdigits]]: the digits; "(timeout)" sets timed_out
/// (with the digits entered so far); -1 is `errc::failed` (error or hangup).
/// A timeout of 0 ms is Asterisk's default.
struct get_data {
  static constexpr std::string_view name = "GET DATA";
  using reply_type = digits;
  std::string_view file;
  std::optional<milliseconds> timeout = {};
  std::optional<int> max_digits = {};
  void encode(command_writer& w) const;
  static result<digits> decode(const reply& r);
};

/// GET FULL VARIABLE expression [channel]: the expanded text (possibly empty:
/// "200 result=1 ()"); nullopt when the channel does not exist.
struct get_full_variable {
  static constexpr std::string_view name = "GET FULL VARIABLE";
  using reply_type = std::optional<std::string>;
  std::string_view expression;  ///< "${CALLERID(num)}"
  std::string_view channel = {};
  void encode(command_writer& w) const { w.arg(expression).opt_arg(channel); }
  static result<reply_type> decode(const reply& r) { return to_value(r); }
};

/// GET OPTION file escape [timeout]: STREAM FILE, then waits `timeout` for one
/// of the escape digits.
struct get_option {
  static constexpr std::string_view name = "GET OPTION";
  using reply_type = playback;
  std::string_view file;
  std::string_view escape_digits = {};
  std::optional<milliseconds> timeout = {};
  void encode(command_writer& w) const {
    w.arg(file).quoted(escape_digits).opt(timeout ? std::optional<std::int64_t>{timeout->count()} : std::nullopt);
  }
  static result<playback> decode(const reply& r) { return to_playback(r); }
};

/// GET VARIABLE name: the value, or nullopt when it is not set.
struct get_variable {
  static constexpr std::string_view name = "GET VARIABLE";
  using reply_type = std::optional<std::string>;
  std::string_view variable;
  void encode(command_writer& w) const { w.arg(variable); }
  static result<reply_type> decode(const reply& r) { return to_value(r); }
};

/// GOSUB context extension priority [arguments] (app_stack.c): "100 result=0
/// Trying..." then "200 result=0 Gosub complete"; anything else ("200
/// result=-1 Gosub label not found", "Gosub failed") is `errc::failed`.
struct gosub {
  static constexpr std::string_view name = "GOSUB";
  using reply_type = void;
  std::string_view context;
  std::string_view extension;
  std::string_view priority;        ///< a number or a label
  std::string_view arguments = {};  ///< "arg1,arg2", as Gosub() takes them
  void encode(command_writer& w) const { w.arg(context).arg(extension).arg(priority).opt_arg(arguments); }
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// HANGUP [channel]: 1; -1 (no such channel) is `errc::not_found`.
struct hangup {
  static constexpr std::string_view name = "HANGUP";
  using reply_type = void;
  std::string_view channel = {};
  void encode(command_writer& w) const { w.opt_arg(channel); }
  static result<void> decode(const reply& r);
};

/// NOOP [text]: always 0.
struct noop {
  static constexpr std::string_view name = "NOOP";
  using reply_type = void;
  std::string_view text = {};
  void encode(command_writer& w) const { w.opt_arg(text); }
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// RECEIVE CHAR timeout: the character; nullopt on "0 (timeout)" or when the
/// channel cannot receive text; "-1 (hangup)" is `errc::failed`.
struct receive_char {
  static constexpr std::string_view name = "RECEIVE CHAR";
  using reply_type = std::optional<char>;
  milliseconds timeout;  ///< 0: wait forever
  void encode(command_writer& w) const { w.number(timeout.count()); }
  static result<reply_type> decode(const reply& r) { return to_digit(r); }
};

/// RECEIVE TEXT timeout: "1 (text)"; -1 is `errc::failed`.
struct receive_text {
  static constexpr std::string_view name = "RECEIVE TEXT";
  using reply_type = std::string;
  milliseconds timeout;  ///< 0: wait forever
  void encode(command_writer& w) const { w.number(timeout.count()); }
  static result<std::string> decode(const reply& r);
};

/// RECORD FILE file format escape timeout [offset_samples] [BEEP] [s=silence].
/// "(dtmf)", "(timeout)" (also how Asterisk reports silence) and "(hangup)" are
/// values; "(writefile)", "(randomerror)", "(waitfor)" and bare -1 are `errc::failed`.
struct record_file {
  static constexpr std::string_view name = "RECORD FILE";
  using reply_type = recording;
  std::string_view file;
  std::string_view format;  ///< "wav", "gsm", ...
  std::string_view escape_digits = {};
  milliseconds timeout{-1};  ///< -1: no limit
  std::optional<std::int64_t> offset = {};  ///< samples: append from here
  bool beep = false;
  std::optional<seconds> silence = {};
  void encode(command_writer& w) const;
  static result<recording> decode(const reply& r);
};

/// SAY ALPHA text escape: the digit that interrupted, if any.
struct say_alpha {
  static constexpr std::string_view name = "SAY ALPHA";
  using reply_type = std::optional<char>;
  std::string_view text;
  std::string_view escape_digits = {};
  void encode(command_writer& w) const { w.arg(text).quoted(escape_digits); }
  static result<reply_type> decode(const reply& r) { return to_digit(r); }
};

/// SAY DATE time escape (time: seconds since the Unix epoch).
struct say_date {
  static constexpr std::string_view name = "SAY DATE";
  using reply_type = std::optional<char>;
  std::int64_t time;
  std::string_view escape_digits = {};
  void encode(command_writer& w) const { w.number(time).quoted(escape_digits); }
  static result<reply_type> decode(const reply& r) { return to_digit(r); }
};

/// SAY DATETIME time escape [format [timezone]]. A timezone without a format
/// writes Asterisk's default format "ABdY 'digits/at' IMp".
struct say_datetime {
  static constexpr std::string_view name = "SAY DATETIME";
  using reply_type = std::optional<char>;
  std::int64_t time;
  std::string_view escape_digits = {};
  std::string_view format = {};
  std::string_view timezone = {};
  void encode(command_writer& w) const;
  static result<reply_type> decode(const reply& r) { return to_digit(r); }
};

/// SAY DIGITS number escape: `number` is a string of digits ("0044123").
struct say_digits {
  static constexpr std::string_view name = "SAY DIGITS";
  using reply_type = std::optional<char>;
  std::string_view number;
  std::string_view escape_digits = {};
  void encode(command_writer& w) const { w.arg(number).quoted(escape_digits); }
  static result<reply_type> decode(const reply& r) { return to_digit(r); }
};

/// SAY NUMBER number escape [gender].
struct say_number {
  static constexpr std::string_view name = "SAY NUMBER";
  using reply_type = std::optional<char>;
  std::int64_t number;
  std::string_view escape_digits = {};
  std::string_view gender = {};  ///< "f", "m", "c", "n" where the language has them
  void encode(command_writer& w) const { w.number(number).quoted(escape_digits).opt_arg(gender); }
  static result<reply_type> decode(const reply& r) { return to_digit(r); }
};

/// SAY PHONETIC text escape.
struct say_phonetic {
  static constexpr std::string_view name = "SAY PHONETIC";
  using reply_type = std::optional<char>;
  std::string_view text;
  std::string_view escape_digits = {};
  void encode(command_writer& w) const { w.arg(text).quoted(escape_digits); }
  static result<reply_type> decode(const reply& r) { return to_digit(r); }
};

/// SAY TIME time escape (time: seconds since the Unix epoch).
struct say_time {
  static constexpr std::string_view name = "SAY TIME";
  using reply_type = std::optional<char>;
  std::int64_t time;
  std::string_view escape_digits = {};
  void encode(command_writer& w) const { w.number(time).quoted(escape_digits); }
  static result<reply_type> decode(const reply& r) { return to_digit(r); }
};

/// SEND IMAGE image: 0; -1 is `errc::failed`.
struct send_image {
  static constexpr std::string_view name = "SEND IMAGE";
  using reply_type = void;
  std::string_view image;
  void encode(command_writer& w) const { w.arg(image); }
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// SEND TEXT text: 0; -1 is `errc::failed`.
struct send_text {
  static constexpr std::string_view name = "SEND TEXT";
  using reply_type = void;
  std::string_view text;
  void encode(command_writer& w) const { w.arg(text); }
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// SET AUTOHANGUP time: hang up after `time`; 0 cancels. Always 0.
struct set_autohangup {
  static constexpr std::string_view name = "SET AUTOHANGUP";
  using reply_type = void;
  seconds time;
  void encode(command_writer& w) const { w.number(time.count()); }
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// SET CALLERID number: "\"Name\" <number>" or a number. Always 1.
struct set_callerid {
  static constexpr std::string_view name = "SET CALLERID";
  using reply_type = void;
  std::string_view number;
  void encode(command_writer& w) const { w.arg(number); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// SET CONTEXT context: always 0.
struct set_context {
  static constexpr std::string_view name = "SET CONTEXT";
  using reply_type = void;
  std::string_view context;
  void encode(command_writer& w) const { w.arg(context); }
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// SET EXTENSION extension: always 0.
struct set_extension {
  static constexpr std::string_view name = "SET EXTENSION";
  using reply_type = void;
  std::string_view extension;
  void encode(command_writer& w) const { w.arg(extension); }
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// SET MUSIC on|off [class]: always 0 (an unknown class is not reported).
struct set_music {
  static constexpr std::string_view name = "SET MUSIC";
  using reply_type = void;
  bool on;
  std::string_view music_class = {};
  void encode(command_writer& w) const { w.word(on ? "on" : "off").opt_arg(music_class); }
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// SET PRIORITY priority (a number or a label): 0; an unknown label is a 520.
struct set_priority {
  static constexpr std::string_view name = "SET PRIORITY";
  using reply_type = void;
  std::string_view priority;
  void encode(command_writer& w) const { w.arg(priority); }
  static result<void> decode(const reply& r) { return expect(r, 0); }
};

/// SET VARIABLE name value: always 1.
struct set_variable {
  static constexpr std::string_view name = "SET VARIABLE";
  using reply_type = void;
  std::string_view variable;
  std::string_view value;
  void encode(command_writer& w) const { w.arg(variable).arg(value); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// SPEECH ACTIVATE GRAMMAR name: 1; 0 (no speech object, or failure) is `errc::failed`.
struct speech_activate_grammar {
  static constexpr std::string_view name = "SPEECH ACTIVATE GRAMMAR";
  using reply_type = void;
  std::string_view grammar;
  void encode(command_writer& w) const { w.arg(grammar); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// SPEECH CREATE engine: 1; 0 (no such engine, or one exists already) is `errc::failed`.
struct speech_create {
  static constexpr std::string_view name = "SPEECH CREATE";
  using reply_type = void;
  std::string_view engine;
  void encode(command_writer& w) const { w.arg(engine); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// SPEECH DEACTIVATE GRAMMAR name.
struct speech_deactivate_grammar {
  static constexpr std::string_view name = "SPEECH DEACTIVATE GRAMMAR";
  using reply_type = void;
  std::string_view grammar;
  void encode(command_writer& w) const { w.arg(grammar); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// SPEECH DESTROY: 1; 0 (no speech object) is `errc::failed`.
struct speech_destroy {
  static constexpr std::string_view name = "SPEECH DESTROY";
  using reply_type = void;
  void encode(command_writer&) const {}
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// SPEECH LOAD GRAMMAR name path.
struct speech_load_grammar {
  static constexpr std::string_view name = "SPEECH LOAD GRAMMAR";
  using reply_type = void;
  std::string_view grammar;
  std::string_view path;
  void encode(command_writer& w) const { w.arg(grammar).arg(path); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// SPEECH RECOGNIZE prompt timeout [offset]. The handler compares `timeout`
/// with time() differences, so it is in seconds. Replies:
///   200 result=1 (speech) endpos=N results=K score0=S text0="..." grammar0=G ...
///   200 result=1 (digit) digit=C endpos=N      ("(dtmf)" is read the same way)
///   200 result=1 (timeout) endpos=N / (hangup) endpos=N
///   200 result=0 [endpos=N]                    errc::failed (no speech object)
struct speech_recognize {
  static constexpr std::string_view name = "SPEECH RECOGNIZE";
  using reply_type = speech;
  std::string_view prompt;
  seconds timeout;
  std::optional<std::int64_t> offset = {};  ///< samples into the prompt
  void encode(command_writer& w) const { w.arg(prompt).number(timeout.count()).opt(offset); }
  static result<speech> decode(const reply& r);
};

/// SPEECH SET name value.
struct speech_set {
  static constexpr std::string_view name = "SPEECH SET";
  using reply_type = void;
  std::string_view setting;
  std::string_view value;
  void encode(command_writer& w) const { w.arg(setting).arg(value); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// SPEECH UNLOAD GRAMMAR name.
struct speech_unload_grammar {
  static constexpr std::string_view name = "SPEECH UNLOAD GRAMMAR";
  using reply_type = void;
  std::string_view grammar;
  void encode(command_writer& w) const { w.arg(grammar); }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// STREAM FILE file escape [offset_samples]: -1 (no such file, or hangup) is `errc::failed`.
struct stream_file {
  static constexpr std::string_view name = "STREAM FILE";
  using reply_type = playback;
  std::string_view file;
  std::string_view escape_digits = {};
  std::optional<std::int64_t> offset = {};
  void encode(command_writer& w) const { w.arg(file).quoted(escape_digits).opt(offset); }
  static result<playback> decode(const reply& r) { return to_playback(r); }
};

/// TDD MODE on|off|tdd|mate: 1; 0 (the channel has no TDD) is `errc::failed`.
struct tdd_mode {
  static constexpr std::string_view name = "TDD MODE";
  using reply_type = void;
  tdd_setting mode;
  void encode(command_writer& w) const;
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// VERBOSE message [level]: always 1.
struct verbose {
  static constexpr std::string_view name = "VERBOSE";
  using reply_type = void;
  std::string_view message;
  std::optional<int> level = {};  ///< 1..4
  void encode(command_writer& w) const {
    w.arg(message).opt(level ? std::optional<std::int64_t>{*level} : std::nullopt);
  }
  static result<void> decode(const reply& r) { return expect(r, 1); }
};

/// WAIT FOR DIGIT timeout: the digit, nullopt on timeout; -1 is `errc::failed`.
struct wait_for_digit {
  static constexpr std::string_view name = "WAIT FOR DIGIT";
  using reply_type = std::optional<char>;
  milliseconds timeout{-1};  ///< -1: wait forever
  void encode(command_writer& w) const { w.number(timeout.count()); }
  static result<reply_type> decode(const reply& r) { return to_digit(r); }
};

/// Any command line costrix does not model, sent as given (an empty line or one
/// with a line break is `errc::invalid_argument`); the reply comes back raw.
struct raw {
  static constexpr std::string_view name = "";
  using reply_type = raw_reply;
  std::string_view line;
  void encode(command_writer& w) const;
  static result<raw_reply> decode(const reply& r);
};

/// Every modelled command's name, in the order above (metrics label them by it).
inline constexpr std::string_view command_names[] = {
    answer::name, asyncagi_break::name, channel_status::name, control_stream_file::name, database_del::name,
    database_deltree::name, database_get::name, database_put::name, exec::name, get_data::name,
    get_full_variable::name, get_option::name, get_variable::name, gosub::name, hangup::name, noop::name,
    receive_char::name, receive_text::name, record_file::name, say_alpha::name, say_date::name,
    say_datetime::name, say_digits::name, say_number::name, say_phonetic::name, say_time::name,
    send_image::name, send_text::name, set_autohangup::name, set_callerid::name, set_context::name,
    set_extension::name, set_music::name, set_priority::name, set_variable::name,
    speech_activate_grammar::name, speech_create::name, speech_deactivate_grammar::name, speech_destroy::name,
    speech_load_grammar::name, speech_recognize::name, speech_set::name, speech_unload_grammar::name,
    stream_file::name, tdd_mode::name, verbose::name, wait_for_digit::name};

/// The index of `name` in command_names; std::size(command_names) for raw lines.
constexpr std::size_t command_index(std::string_view name) noexcept {
  std::size_t i = 0;
  while (i < std::size(command_names) && command_names[i] != name) ++i;
  return i;
}

}  // namespace costrix::proto::agi

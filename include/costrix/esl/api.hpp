// esl API commands as data: each is a small descriptor (the text after `api `,
// the reply type, how the reply body is read), sent by client::api() or
// client::bgapi() through one generic path.
#pragma once

#include <costrix/result.hpp>

#include <chrono>
#include <concepts>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace costrix::esl {

/// An API command: `command()` is what follows `api ` (or `bgapi `) on the
/// wire; `parse()` turns FreeSWITCH's reply body into the reply.
template <class A>
concept api_command = requires(const A& a, std::string body) {
  typename A::reply;
  { a.command() } -> std::convertible_to<std::string>;
  { A::parse(std::move(body)) } -> std::same_as<result<typename A::reply>>;
};

/// FreeSWITCH's refusals in a reply body, as errors carrying its words:
/// `-ERR ... Command not found!` is `errc::invalid_command`; `-ERR No such
/// channel!` (and other "not found" texts) `errc::not_found`; `-USAGE: ...`
/// `errc::usage`; any other `-ERR ...` `errc::failed`. Anything else is the body.
result<std::string> check_reply(std::string body);
/// check_reply(), then the body must start with `+OK` (or `+Success`, `true`).
result<void> check_ok(std::string body);

namespace api {

/// Any API command as text: the body as FreeSWITCH wrote it (errors per check_reply).
struct raw {
  std::string text;  ///< "status", "sofia status profile internal"
  using reply = std::string;
  std::string command() const { return text; }
  static result<std::string> parse(std::string body) { return check_reply(std::move(body)); }
};

/// `status`: the text block ("UP 0 years, ...").
struct status {
  using reply = std::string;
  std::string command() const { return "status"; }
  static result<std::string> parse(std::string body) { return check_reply(std::move(body)); }
};

/// `version`: "FreeSWITCH Version 1.11.3-dev ...", without the trailing newline.
struct version {
  using reply = std::string;
  std::string command() const { return "version"; }
  static result<std::string> parse(std::string body);
};

/// `uptime`: seconds since FreeSWITCH started.
struct uptime {
  using reply = std::chrono::seconds;
  std::string command() const { return "uptime"; }
  static result<std::chrono::seconds> parse(std::string body);
};

/// `originate {vars}<endpoint> <destination>`: a new call; the reply is its UUID.
/// A call that fails is `errc::failed` with FreeSWITCH's cause (`-ERR NO_ROUTE_DESTINATION`).
struct originate {
  std::string endpoint;                  ///< "sofia/gateway/gw/5551234", "loopback/9001/default", "user/1000"
  std::string destination = "&park()";   ///< an application ("&park()") or "<exten> [XML [<context>]]"
  std::vector<std::pair<std::string, std::string>> variables = {};  ///< `{name=value,...}`
  std::optional<std::chrono::seconds> timeout = {};                  ///< `originate_timeout`
  using reply = std::string;
  std::string command() const;
  static result<std::string> parse(std::string body);
};

/// `uuid_kill <uuid> [<cause>]`.
struct uuid_kill {
  std::string uuid;
  std::string cause = "NORMAL_CLEARING";
  using reply = void;
  std::string command() const { return "uuid_kill " + uuid + (cause.empty() ? "" : " " + cause); }
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `uuid_transfer <uuid> [-bleg|-both] <destination> [<dialplan> [<context>]]`.
struct uuid_transfer {
  std::string uuid;
  std::string destination;  ///< an extension, or "'&park()' inline"
  std::string dialplan = {};
  std::string context = {};
  std::string leg = {};  ///< "", "-bleg" or "-both"
  using reply = void;
  std::string command() const;
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `uuid_bridge <uuid> <other_uuid>`.
struct uuid_bridge {
  std::string uuid, other;
  using reply = void;
  std::string command() const { return "uuid_bridge " + uuid + " " + other; }
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `uuid_getvar <uuid> <name>`: the value, or nullopt when the variable is unset.
struct uuid_getvar {
  std::string uuid, name;
  using reply = std::optional<std::string>;
  std::string command() const { return "uuid_getvar " + uuid + " " + name; }
  static result<std::optional<std::string>> parse(std::string body);
};

/// `uuid_setvar <uuid> <name> [<value>]` (no value unsets it).
struct uuid_setvar {
  std::string uuid, name, value;
  using reply = void;
  std::string command() const { return "uuid_setvar " + uuid + " " + name + (value.empty() ? "" : " " + value); }
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `uuid_record <uuid> start|stop <path> [<limit seconds>]`.
struct uuid_record {
  std::string uuid;
  bool start = true;
  std::string path;  ///< "/tmp/call.wav"; "all" with stop stops every recording
  std::optional<std::chrono::seconds> limit = {};
  using reply = void;
  std::string command() const;
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `uuid_broadcast <uuid> <path> [aleg|bleg|both]`.
struct uuid_broadcast {
  std::string uuid, path;
  std::string leg = "aleg";
  using reply = void;
  std::string command() const { return "uuid_broadcast " + uuid + " " + path + (leg.empty() ? "" : " " + leg); }
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `uuid_break <uuid> [all]`: stops what the channel is playing.
struct uuid_break {
  std::string uuid;
  bool all = false;
  using reply = void;
  std::string command() const { return "uuid_break " + uuid + (all ? " all" : ""); }
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `uuid_send_dtmf <uuid> <digits>`.
struct uuid_send_dtmf {
  std::string uuid, digits;
  using reply = void;
  std::string command() const { return "uuid_send_dtmf " + uuid + " " + digits; }
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `uuid_hold [off|toggle] <uuid>`.
struct uuid_hold {
  std::string uuid;
  enum class mode { on, off, toggle } action = mode::on;
  using reply = void;
  std::string command() const;
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `uuid_exists <uuid>`.
struct uuid_exists {
  std::string uuid;
  using reply = bool;
  std::string command() const { return "uuid_exists " + uuid; }
  static result<bool> parse(std::string body);
};

/// One row of `show channels as json` / `show calls as json`: the usual
/// columns by name, every column in `columns`.
struct channel_row {
  std::string uuid, direction, name, state, callstate, cid_name, cid_num, dest, application, application_data;
  std::map<std::string, std::string, std::less<>> columns;
};

/// `show channels as json`.
struct show_channels {
  using reply = std::vector<channel_row>;
  std::string command() const { return "show channels as json"; }
  static result<std::vector<channel_row>> parse(std::string body);
};

/// `show calls as json`: bridged calls; the b-leg's columns are `b_uuid`, `b_name`... in `columns`.
struct show_calls {
  using reply = std::vector<channel_row>;
  std::string command() const { return "show calls as json"; }
  static result<std::vector<channel_row>> parse(std::string body) { return show_channels::parse(std::move(body)); }
};

/// `hupall [<cause> [<variable> <value>]]`: hangs up every channel (or those with that variable).
struct hupall {
  std::string cause = "NORMAL_CLEARING";
  std::string variable = {}, value = {};
  using reply = void;
  std::string command() const;
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

/// `reloadxml`.
struct reloadxml {
  using reply = void;
  std::string command() const { return "reloadxml"; }
  static result<void> parse(std::string body) { return check_ok(std::move(body)); }
};

}  // namespace api
}  // namespace costrix::esl

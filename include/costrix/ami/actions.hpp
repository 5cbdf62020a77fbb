// ami actions as data: one small descriptor per action, sent by client::send().
#pragma once

#include <costrix/ami/response.hpp>
#include <costrix/proto/ami/action.hpp>

#include <chrono>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace costrix::ami {

using writer = proto::ami::action_writer;
using headers = std::vector<std::pair<std::string, std::string>>;

/// What client::send() takes: a `name`, and `write()`, which writes the
/// action's headers (the ActionID is the client's). Optionally:
///   - `using reply_type = T;` and `static result<T> decode(response&&)`:
///     the typed reply (default: the `response`, an unsuccessful one as its error);
///   - `std::string_view completion_event() const`: the action completes on
///     that event (carrying its ActionID) after a successful response.
/// A descriptor owns its values: it is moved to the client's thread.
template <class A>
concept action_descriptor = std::movable<A> && requires(const A& a, writer& w) {
  std::string_view(a.name);
  a.write(w);
};

namespace detail {
template <class A>
struct reply_of {
  using type = response;
};
template <class A>
  requires requires { typename A::reply_type; }
struct reply_of<A> {
  using type = typename A::reply_type;
};
}  // namespace detail

template <class A>
using reply_t = typename detail::reply_of<A>::type;

/// An action the catalogue does not model: sent as given, answered with the
/// response as it came (an `Error` response is a value, not an error).
struct raw {
  std::string name;
  ami::headers headers = {};
  std::string completion_event_name = {};  ///< wait for this event after the response (optional)

  raw& add(std::string_view key, std::string_view value) {
    headers.emplace_back(key, value);
    return *this;
  }
  void write(writer& w) const;
  std::string_view completion_event() const noexcept { return completion_event_name; }
  static result<response> decode(response&& r) { return std::move(r); }
};

// ---- the catalogue. Empty strings and unset optionals are not sent.

struct ping {
  static constexpr std::string_view name = "Ping";
  void write(writer&) const {}
};
struct logoff {
  static constexpr std::string_view name = "Logoff";
  void write(writer&) const {}
};
/// The event mask of this connection: "on", "off", or classes ("call,agent").
struct events {
  static constexpr std::string_view name = "Events";
  std::string mask = "on";
  void write(writer& w) const;
};
struct core_status {
  static constexpr std::string_view name = "CoreStatus";
  void write(writer&) const {}
};
struct core_settings {
  static constexpr std::string_view name = "CoreSettings";
  void write(writer&) const {}
};
/// Event list: one `Status` event per channel (or the one named).
struct status {
  static constexpr std::string_view name = "Status";
  std::string channel = {};
  std::string variables = {};  ///< comma-separated variables to include
  void write(writer& w) const;
};
/// Event list of `CoreShowChannel` events.
struct core_show_channels {
  static constexpr std::string_view name = "CoreShowChannels";
  void write(writer&) const {}
};
struct pjsip_show_endpoints {
  static constexpr std::string_view name = "PJSIPShowEndpoints";
  void write(writer&) const {}
};
struct bridge_list {
  static constexpr std::string_view name = "BridgeList";
  std::string bridge_type = {};
  void write(writer& w) const;
};
struct hangup {
  static constexpr std::string_view name = "Hangup";
  std::string channel;  ///< a name, or a regular expression between slashes
  std::optional<int> cause = {};
  void write(writer& w) const;
};
struct redirect {
  static constexpr std::string_view name = "Redirect";
  std::string channel, context, exten;
  std::string priority = "1";
  std::string extra_channel = {}, extra_context = {}, extra_exten = {}, extra_priority = {};
  void write(writer& w) const;
};
/// Sets a channel variable, or a global one when `channel` is empty.
struct setvar {
  static constexpr std::string_view name = "Setvar";
  std::string channel = {};
  std::string variable, value;
  void write(writer& w) const;
};
/// The value of a variable or function (empty when unset, as Asterisk answers).
struct getvar {
  static constexpr std::string_view name = "Getvar";
  std::string channel = {};
  std::string variable;
  void write(writer& w) const;
  using reply_type = std::string;
  static result<std::string> decode(response&& r);
};
/// A CLI command; its output lines, in either framing (Asterisk ≥ 14's
/// `Output:` headers, older `Response: Follows` bodies). An unknown command is
/// `errc::failed` with the CLI's words.
struct command {
  static constexpr std::string_view name = "Command";
  std::string line;  ///< "core show channels"
  void write(writer& w) const;
  using reply_type = std::vector<std::string>;
  static result<std::vector<std::string>> decode(response&& r);
};
struct queue_status {
  static constexpr std::string_view name = "QueueStatus";
  std::string queue = {}, member = {};
  void write(writer& w) const;
};
struct queue_summary {
  static constexpr std::string_view name = "QueueSummary";
  std::string queue = {};
  void write(writer& w) const;
};
struct queue_add {
  static constexpr std::string_view name = "QueueAdd";
  std::string queue, interface;
  std::string member_name = {}, state_interface = {};
  std::optional<int> penalty = {};
  bool paused = false;
  void write(writer& w) const;
};
struct queue_remove {
  static constexpr std::string_view name = "QueueRemove";
  std::string queue, interface;
  void write(writer& w) const;
};
struct queue_pause {
  static constexpr std::string_view name = "QueuePause";
  std::string interface;
  bool paused = true;
  std::string queue = {}, reason = {};
  void write(writer& w) const;
};
struct mix_monitor {
  static constexpr std::string_view name = "MixMonitor";
  std::string channel, file;
  std::string options = {}, command = {};
  void write(writer& w) const;
};
struct stop_mix_monitor {
  static constexpr std::string_view name = "StopMixMonitor";
  std::string channel;
  std::string mixmonitor_id = {};
  void write(writer& w) const;
};
/// The value stored under family/key; `errc::not_found` when there is none.
struct db_get {
  static constexpr std::string_view name = "DBGet";
  std::string family, key;
  void write(writer& w) const;
  using reply_type = std::string;
  static result<std::string> decode(response&& r);
};
struct db_put {
  static constexpr std::string_view name = "DBPut";
  std::string family, key, value;
  void write(writer& w) const;
};
struct db_del {
  static constexpr std::string_view name = "DBDel";
  std::string family, key;
  void write(writer& w) const;
};
struct reload {
  static constexpr std::string_view name = "Reload";
  std::string module = {};
  void write(writer& w) const;
};
/// Raises `Event: UserEvent` with `UserEvent: <event>` and the headers given.
struct user_event {
  static constexpr std::string_view name = "UserEvent";
  std::string event;
  ami::headers headers = {};
  void write(writer& w) const;
};
/// One AGI command for a channel in `AGI(agi:async)`: Asterisk queues it and
/// answers in the channel's `AsyncAGIExec` event with the same `CommandID`.
/// ami::async_agi sends these for an agi::session.
struct agi_command {
  static constexpr std::string_view name = "AGI";
  std::string channel, command, command_id;
  void write(writer& w) const;
};
struct atxfer {
  static constexpr std::string_view name = "Atxfer";
  std::string channel, exten;
  std::string context = {};
  void write(writer& w) const;
};
struct blind_transfer {
  static constexpr std::string_view name = "BlindTransfer";
  std::string channel, exten;
  std::string context = {};
  void write(writer& w) const;
};
struct play_dtmf {
  static constexpr std::string_view name = "PlayDTMF";
  std::string channel;
  char digit = '0';
  std::optional<std::chrono::milliseconds> duration = {};
  bool receive = false;
  void write(writer& w) const;
};
struct park {
  static constexpr std::string_view name = "Park";
  std::string channel;
  std::string timeout_channel = {}, announce_channel = {}, parkinglot = {};
  std::optional<std::chrono::milliseconds> timeout = {};
  void write(writer& w) const;
};

/// How an originated call ended up: OriginateResponse's fields.
struct originate_result {
  bool answered = false;  ///< `Response: Success`
  /// 0 failed, 1 hung up, 3 ringing but no answer, 4 answered, 5 busy, 8 congestion.
  int reason = 0;
  std::string channel;
  std::string uniqueid;  ///< "<unknown>" when no channel was created
};

/// Originate. With `async` (the default) it completes on the OriginateResponse
/// event that carries its ActionID (the connection's events must include the
/// `call` class). A refused action (`Response: Error`) is an error carrying
/// Asterisk's Message. Either `application` (+`data`) or `context`/`exten`/`priority`.
struct originate {
  static constexpr std::string_view name = "Originate";
  std::string channel;
  std::string context = {}, exten = {}, priority = {};
  std::string application = {}, data = {};
  std::chrono::milliseconds timeout{30'000};  ///< how long to ring
  std::string caller_id = {};                 ///< `"Name" <number>`
  ami::headers variables = {};                ///< {name, value} pairs
  std::string account = {}, codecs = {}, channel_id = {}, other_channel_id = {};
  bool early_media = false;
  bool async = true;
  void write(writer& w) const;
  std::string_view completion_event() const noexcept { return async ? "OriginateResponse" : ""; }
  using reply_type = originate_result;
  static result<originate_result> decode(response&& r);
};

namespace detail {
template <class A>
result<reply_t<A>> decode(response&& r) {
  if constexpr (requires { A::decode(std::move(r)); }) return A::decode(std::move(r));
  else return expect_ok(std::move(r));
}
template <class A>
std::string_view completion_event(const A& a) {
  if constexpr (requires { a.completion_event(); }) return a.completion_event();
  else return {};
}
}  // namespace detail

}  // namespace costrix::ami

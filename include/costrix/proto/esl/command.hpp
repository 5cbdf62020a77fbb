// proto::esl commands: what a client sends FreeSWITCH's Event Socket, as data,
// and writing them as mod_event_socket reads them.
#pragma once

#include <costrix/proto/esl/message.hpp>
#include <costrix/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::proto::esl {

/// Writes one command to `out`: the command line, `Key: Value` headers, then
/// either the empty line that ends every command or a body announced by
/// `Content-Type` and `Content-Length`. Every command below is written by it;
/// it also sends what is not modelled (raw text in).
///
/// Refused with `errc::invalid_argument` (and `out` left as it was):
///   - an empty command line, or an arg() after a header;
///   - a CR, LF or NUL in the command line or a header value: it would end
///     the line early and let the rest be read as a command or header of its
///     own (injection);
///   - a header key that is not a token (empty, or holding a space, ':' or
///     control character), or a `Content-Length` header (body() writes it);
///   - a NUL in a body (FreeSWITCH reads the body as a C string and would cut it).
class command_writer {
 public:
  /// `line` is the command ("api", "sendmsg", or a whole line "api status").
  command_writer(std::string& out, std::string_view line);

  /// Appends ` <word>` to the command line; before any header.
  command_writer& arg(std::string_view word);

  command_writer& header(std::string_view key, std::string_view value);

  /// Ends the headers with `Content-Type: <content_type>` (left out when
  /// empty) and `Content-Length`, then writes `bytes`. Nothing follows it.
  command_writer& body(std::string_view content_type, std::string_view bytes);

  /// Writes the closing empty line (unless a body ended the command); the first error, if any.
  result<void> finish();

 private:
  void refuse(std::string text);
  std::string& out_;
  std::size_t start_;
  bool line_open_ = true;  // the command line is not ended yet
  bool has_body_ = false;
  std::string error_;  // the first refusal; empty while all is well
};

// The commands. Their strings are views: a command is meant to be encoded
// where it is made (`encode(esl::api{"status"}, out)`).

/// `auth <password>`: the inbound login.
struct auth {
  std::string_view password;
};
/// `userauth <user>@<domain>:<password>`: a directory user's ESL login.
struct userauth {
  std::string_view user, domain, password;
};
/// `api <command>`: runs an API command; the reply is an `api/response`.
struct api {
  std::string_view command;  ///< "status", "uuid_kill <uuid> NORMAL_CLEARING"
};
/// `bgapi <command>`: runs it in the background; the result comes as a
/// BACKGROUND_JOB event with the `Job-UUID` of the reply (or this one, when set).
struct bgapi {
  std::string_view command;
  std::string_view job_uuid = {};
};

enum class event_format { plain, json, xml };

/// `event plain|json|xml <names...>`: subscribe (`ALL`, `CUSTOM sofia::register`, ...).
struct events {
  event_format format = event_format::plain;
  std::vector<std::string_view> names;
};
/// `nixevent <names...>`: unsubscribe from some.
struct nixevent {
  std::vector<std::string_view> names;
};
/// `noevents`: unsubscribe from all.
struct noevents {};
/// `filter <header> <value>`: only events with this header value.
struct filter {
  std::string_view header, value;
};
/// `filter delete <header> [<value>]` (`filter delete all` with header "all").
struct filter_delete {
  std::string_view header;
  std::string_view value = {};
};
/// `myevents [<uuid>]`: the events of one call (outbound: the controlled one).
struct myevents {
  std::string_view uuid = {};
};
/// `divert_events on|off`: the session's own events (inputs, DTMF) to the socket.
struct divert_events {
  bool on = true;
};
/// `linger [<seconds>]`: keep the socket open after the call hangs up.
struct linger {
  std::optional<std::chrono::seconds> time = {};
};
struct nolinger {};
/// `sendevent <name>`: fires an event with these headers and body
/// (`Content-Type: <content_type>` and `Content-Length` announce a body).
struct sendevent {
  std::string_view name;
  std::vector<header> headers = {};
  std::string_view body = {};
  std::string_view content_type = "text/plain";
};

/// `sendmsg [<uuid>]` with `call-command: execute`: runs a dialplan
/// application on a channel (no uuid: the outbound socket's own).
/// An argument longer than `max_header_arg` bytes, or holding a line break,
/// is sent as a `text/plain` body, as ESL libraries do, and FreeSWITCH reads it
/// from there.
struct execute {
  static constexpr std::size_t max_header_arg = 2048;
  std::string_view uuid = {};
  std::string_view app;
  std::string_view arg = {};
  bool event_lock = false;           ///< `event-lock: true`: run it before the next command
  bool async = false;                ///< `async: true`: do not wait for it (a synchronous socket)
  unsigned loops = 1;                ///< `loops: N` when not 1
  std::string_view event_uuid = {};  ///< `Event-UUID`: the Application-UUID of its CHANNEL_EXECUTE events
};
/// `sendmsg [<uuid>]` with `call-command: hangup` and `hangup-cause`.
struct hangup {
  std::string_view uuid = {};
  std::string_view cause = "NORMAL_CLEARING";
};
/// `sendmsg [<uuid>]` with `call-command: unicast`: the call's media to a socket.
struct unicast {
  std::string_view uuid = {};
  std::string_view local_ip = "127.0.0.1";
  std::uint16_t local_port = 8025;
  std::string_view remote_ip = "127.0.0.1";
  std::uint16_t remote_port = 8026;
  std::string_view transport = "udp";
  std::string_view flags = {};  ///< "native": no transcoding
};
/// `sendmsg [<uuid>]` with `call-command: nomedia` and `nomedia-uuid`.
struct nomedia {
  std::string_view uuid = {};
  std::string_view nomedia_uuid;
};
/// `resume`: the outbound socket's dialplan continues after it closes.
struct resume {};
/// `exit`: the server says `+OK bye` and closes.
struct exit {};
/// `connect`: the first command on an outbound socket; the reply carries the channel's data.
struct connect {};

/// Appends the command to `out` (see command_writer for what is refused).
result<void> encode(const auth& c, std::string& out);
result<void> encode(const userauth& c, std::string& out);
result<void> encode(const api& c, std::string& out);
result<void> encode(const bgapi& c, std::string& out);
result<void> encode(const events& c, std::string& out);
result<void> encode(const nixevent& c, std::string& out);
result<void> encode(const noevents& c, std::string& out);
result<void> encode(const filter& c, std::string& out);
result<void> encode(const filter_delete& c, std::string& out);
result<void> encode(const myevents& c, std::string& out);
result<void> encode(const divert_events& c, std::string& out);
result<void> encode(const linger& c, std::string& out);
result<void> encode(const nolinger& c, std::string& out);
result<void> encode(const sendevent& c, std::string& out);
result<void> encode(const execute& c, std::string& out);
result<void> encode(const hangup& c, std::string& out);
result<void> encode(const unicast& c, std::string& out);
result<void> encode(const nomedia& c, std::string& out);
result<void> encode(const resume& c, std::string& out);
result<void> encode(const exit& c, std::string& out);
result<void> encode(const connect& c, std::string& out);

}  // namespace costrix::proto::esl

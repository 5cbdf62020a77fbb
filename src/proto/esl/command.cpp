#include <costrix/proto/ami/message.hpp>  // iequals
#include <costrix/proto/esl/command.hpp>

#include "../printable.hpp"

#include <charconv>

namespace costrix::proto::esl {

namespace {

// CR or LF would end the line early; FreeSWITCH reads lines as C strings, so NUL cuts it.
bool is_value(std::string_view s) noexcept {
  return s.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos;
}

// One word of a command line (a uuid, an event name, a header name): what
// FreeSWITCH splits on spaces, and a header key.
bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

bool is_key(std::string_view s) noexcept { return is_token(s) && s.find(':') == std::string_view::npos; }

std::string_view format_name(event_format f) noexcept {
  switch (f) {
    case event_format::json:
      return "json";
    case event_format::xml:
      return "xml";
    case event_format::plain:
      break;
  }
  return "plain";
}

result<void> refused(std::string text) { return fail(errc::invalid_argument, "ESL command: " + std::move(text)); }

template <class Size>
std::string_view decimal(Size n, char (&buf)[24]) noexcept {
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  return {buf, static_cast<std::size_t>(r.ptr - buf)};
}

// "word" must be one token: a uuid, an event name.
result<void> check_token(std::string_view what, std::string_view word) {
  if (is_token(word)) return ok();
  return refused(std::string{what} + " " + quoted(word) +
                 " is not one word (empty, or holding a space or control character)");
}

result<void> check_names(std::string_view command, const std::vector<std::string_view>& names) {
  if (names.empty()) return refused(std::string{command} + " without an event name");
  for (auto n : names)
    if (auto r = check_token("the event name", n); !r) return r;
  return ok();
}

// sendmsg [uuid] with call-command: <command>.
command_writer sendmsg(std::string& out, std::string_view uuid, std::string_view command) {
  command_writer w(out, "sendmsg");
  if (!uuid.empty()) w.arg(uuid);
  w.header("call-command", command);
  return w;
}

}  // namespace

command_writer::command_writer(std::string& out, std::string_view line) : out_(out), start_(out.size()) {
  if (line.empty())
    refuse("an empty command line");
  else if (!is_value(line))
    refuse("the command line holds a CR, LF or NUL byte, which would end it early: " + quoted(line));
  else
    out_ += line;
}

void command_writer::refuse(std::string text) {
  if (error_.empty()) error_ = std::move(text);
}

command_writer& command_writer::arg(std::string_view word) {
  if (!error_.empty()) return *this;
  if (!line_open_)
    refuse("an argument after the headers");
  else if (!is_value(word))
    refuse("an argument holds a CR, LF or NUL byte, which would end the command line early: " + quoted(word));
  else {
    out_ += ' ';
    out_ += word;
  }
  return *this;
}

command_writer& command_writer::header(std::string_view key, std::string_view value) {
  if (!error_.empty()) return *this;
  if (has_body_) {
    refuse("a header after the body");
  } else if (!is_key(key)) {
    refuse("the header key " + quoted(key) + " is not a token (empty, or holding a space, ':' or control character)");
  } else if (ami::iequals(key, "Content-Length")) {
    refuse("a Content-Length header: body() writes it");
  } else if (!is_value(value)) {
    // The value is not quoted: it may be a secret.
    refuse("the value of " + std::string{key} + " holds a CR, LF or NUL byte, which would end the header early");
  } else {
    if (line_open_) out_ += '\n';
    line_open_ = false;
    out_ += key;
    out_ += ": ";
    out_ += value;
    out_ += '\n';
  }
  return *this;
}

command_writer& command_writer::body(std::string_view content_type, std::string_view bytes) {
  if (!content_type.empty()) header("Content-Type", content_type);
  if (!error_.empty()) return *this;
  if (has_body_) {
    refuse("a second body");
  } else if (bytes.find('\0') != std::string_view::npos) {
    refuse("a NUL byte in the body: FreeSWITCH would cut the body there");
  } else {
    if (line_open_) out_ += '\n';
    line_open_ = false;
    char buf[24];
    out_ += "Content-Length: ";
    out_ += decimal(bytes.size(), buf);
    out_ += "\n\n";
    out_ += bytes;
    has_body_ = true;
  }
  return *this;
}

result<void> command_writer::finish() {
  if (!error_.empty()) {
    out_.resize(start_);
    return refused(std::move(error_));
  }
  if (line_open_) out_ += '\n';
  line_open_ = false;
  if (!has_body_) out_ += '\n';
  return ok();
}

result<void> encode(const auth& c, std::string& out) {
  if (c.password.empty()) return refused("auth without a password");
  return command_writer(out, "auth").arg(c.password).finish();
}

result<void> encode(const userauth& c, std::string& out) {
  // FreeSWITCH splits "user@domain:password" at the first '@' and the first ':' after it.
  if (!is_token(c.user) || c.user.find_first_of("@:") != std::string_view::npos)
    return refused("the userauth user " + quoted(c.user) + " is empty or holds a space, '@' or ':'");
  if (!is_token(c.domain) || c.domain.find(':') != std::string_view::npos)
    return refused("the userauth domain " + quoted(c.domain) + " is empty or holds a space or ':'");
  if (c.password.empty()) return refused("userauth without a password");
  if (!is_value(c.password)) return refused("the password holds a CR, LF or NUL byte");
  out += "userauth ";
  out += c.user;
  out += '@';
  out += c.domain;
  out += ':';
  out += c.password;
  out += "\n\n";
  return ok();
}

result<void> encode(const api& c, std::string& out) {
  if (c.command.empty()) return refused("api without a command");
  return command_writer(out, "api").arg(c.command).finish();
}

result<void> encode(const bgapi& c, std::string& out) {
  if (c.command.empty()) return refused("bgapi without a command");
  command_writer w(out, "bgapi");
  w.arg(c.command);
  if (!c.job_uuid.empty()) w.header("Job-UUID", c.job_uuid);
  return w.finish();
}

result<void> encode(const events& c, std::string& out) {
  if (auto r = check_names("event", c.names); !r) return r;
  command_writer w(out, "event");
  w.arg(format_name(c.format));
  for (auto n : c.names) w.arg(n);
  return w.finish();
}

result<void> encode(const nixevent& c, std::string& out) {
  if (auto r = check_names("nixevent", c.names); !r) return r;
  command_writer w(out, "nixevent");
  for (auto n : c.names) w.arg(n);
  return w.finish();
}

result<void> encode(const noevents&, std::string& out) { return command_writer(out, "noevents").finish(); }

result<void> encode(const filter& c, std::string& out) {
  if (auto r = check_token("the filter header", c.header); !r) return r;
  if (c.value.empty()) return refused("filter without a value");
  return command_writer(out, "filter").arg(c.header).arg(c.value).finish();
}

result<void> encode(const filter_delete& c, std::string& out) {
  if (auto r = check_token("the filter header", c.header); !r) return r;
  command_writer w(out, "filter delete");
  w.arg(c.header);
  if (!c.value.empty()) w.arg(c.value);
  return w.finish();
}

result<void> encode(const myevents& c, std::string& out) {
  if (!c.uuid.empty())
    if (auto r = check_token("the uuid", c.uuid); !r) return r;
  command_writer w(out, "myevents");
  if (!c.uuid.empty()) w.arg(c.uuid);
  return w.finish();
}

result<void> encode(const divert_events& c, std::string& out) {
  return command_writer(out, "divert_events").arg(c.on ? "on" : "off").finish();
}

result<void> encode(const linger& c, std::string& out) {
  if (c.time && c.time->count() <= 0) return refused("linger for " + std::to_string(c.time->count()) + " seconds");
  command_writer w(out, "linger");
  char buf[24];
  if (c.time) w.arg(decimal(c.time->count(), buf));
  return w.finish();
}

result<void> encode(const nolinger&, std::string& out) { return command_writer(out, "nolinger").finish(); }

result<void> encode(const sendevent& c, std::string& out) {
  if (auto r = check_token("the event name", c.name); !r) return r;
  command_writer w(out, "sendevent");
  w.arg(c.name);
  for (const header& h : c.headers) w.header(h.key, h.value);
  if (!c.body.empty()) w.body(c.content_type, c.body);
  return w.finish();
}

result<void> encode(const execute& c, std::string& out) {
  if (!c.uuid.empty())
    if (auto r = check_token("the uuid", c.uuid); !r) return r;
  if (auto r = check_token("the application name", c.app); !r) return r;
  command_writer w = sendmsg(out, c.uuid, "execute");
  w.header("execute-app-name", c.app);
  const bool arg_in_body = c.arg.size() > execute::max_header_arg || !is_value(c.arg);
  if (!c.arg.empty() && !arg_in_body) w.header("execute-app-arg", c.arg);
  if (c.event_lock) w.header("event-lock", "true");
  if (c.async) w.header("async", "true");
  if (c.loops != 1) {
    char buf[24];
    w.header("loops", decimal(c.loops, buf));
  }
  if (!c.event_uuid.empty()) w.header("Event-UUID", c.event_uuid);
  if (arg_in_body) w.body("text/plain", c.arg);
  return w.finish();
}

result<void> encode(const hangup& c, std::string& out) {
  if (!c.uuid.empty())
    if (auto r = check_token("the uuid", c.uuid); !r) return r;
  if (auto r = check_token("the hangup cause", c.cause); !r) return r;
  return sendmsg(out, c.uuid, "hangup").header("hangup-cause", c.cause).finish();
}

result<void> encode(const unicast& c, std::string& out) {
  if (!c.uuid.empty())
    if (auto r = check_token("the uuid", c.uuid); !r) return r;
  char local[24], remote[24];
  command_writer w = sendmsg(out, c.uuid, "unicast");
  w.header("local-ip", c.local_ip).header("local-port", decimal(c.local_port, local));
  w.header("remote-ip", c.remote_ip).header("remote-port", decimal(c.remote_port, remote));
  w.header("transport", c.transport);
  if (!c.flags.empty()) w.header("flags", c.flags);
  return w.finish();
}

result<void> encode(const nomedia& c, std::string& out) {
  if (!c.uuid.empty())
    if (auto r = check_token("the uuid", c.uuid); !r) return r;
  if (auto r = check_token("the nomedia-uuid", c.nomedia_uuid); !r) return r;
  return sendmsg(out, c.uuid, "nomedia").header("nomedia-uuid", c.nomedia_uuid).finish();
}

result<void> encode(const resume&, std::string& out) { return command_writer(out, "resume").finish(); }
result<void> encode(const exit&, std::string& out) { return command_writer(out, "exit").finish(); }
result<void> encode(const connect&, std::string& out) { return command_writer(out, "connect").finish(); }

}  // namespace costrix::proto::esl

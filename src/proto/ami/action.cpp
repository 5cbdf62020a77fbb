#include <costrix/proto/ami/action.hpp>
#include <costrix/proto/ami/message.hpp>

#include "../printable.hpp"

namespace costrix::proto::ami {

namespace {

// A name or key Asterisk reads back as written: the parser's key rule.
bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == ':') return false;
  }
  return true;
}

// CR or LF would end the line early; Asterisk reads lines as C strings, so NUL cuts it.
bool is_value(std::string_view s) noexcept {
  return s.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos;
}

}  // namespace

action_writer::action_writer(std::string& out, std::string_view name) : out_(out), start_(out.size()) {
  if (!is_token(name)) {
    refuse("the action name " + quoted(name) + " is not a token (empty, or holding a space, ':' or control character)");
    return;
  }
  out_ += "Action: ";
  out_ += name;
  out_ += "\r\n";
}

void action_writer::refuse(std::string text) {
  if (error_.empty()) error_ = std::move(text);
}

action_writer& action_writer::header(std::string_view key, std::string_view value) {
  if (!error_.empty()) return *this;
  if (!is_token(key)) {
    refuse("the header key " + quoted(key) + " is not a token (empty, or holding a space, ':' or control character)");
  } else if (iequals(key, "Action") || iequals(key, "ActionID")) {
    refuse("an \"" + std::string{key} + "\" header: the action's name and ActionID are written by encode()");
  } else if (!is_value(value)) {
    // The value is not quoted: it may be a secret.
    refuse("the value of " + std::string{key} + " holds a CR, LF or NUL byte, which would end the header early");
  } else {
    out_ += key;
    out_ += ": ";
    out_ += value;
    out_ += "\r\n";
  }
  return *this;
}

result<void> action_writer::finish(std::string_view action_id) {
  if (error_.empty()) {
    if (action_id.empty())
      refuse("an empty ActionID: every action carries one");
    else if (!is_value(action_id))
      refuse("the ActionID holds a CR, LF or NUL byte: " + quoted(action_id));
  }
  if (!error_.empty()) {
    out_.resize(start_);
    return fail(errc::invalid_argument, "AMI action: " + std::move(error_));
  }
  out_ += "ActionID: ";
  out_ += action_id;
  out_ += "\r\n\r\n";
  return ok();
}

result<void> encode(const action& a, std::string_view action_id, std::string& out) {
  action_writer w(out, a.name);
  for (const auto& [key, value] : a.headers) w.header(key, value);
  return w.finish(action_id);
}

}  // namespace costrix::proto::ami

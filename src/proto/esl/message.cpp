#include <costrix/proto/ami/message.hpp>  // iequals: both protocols compare keys with strcasecmp
#include <costrix/proto/esl/message.hpp>

namespace costrix::proto::esl {

using ami::iequals;

std::optional<std::string_view> message::get(std::string_view key) const noexcept {
  for (const header& h : headers_)
    if (iequals(h.key, key)) return h.value;
  return std::nullopt;
}

std::string_view message::reply_text() const noexcept {
  switch (type_) {
    case esl::content_type::command_reply:
      return get("Reply-Text").value_or(std::string_view{});
    case esl::content_type::api_response:
      return body_;
    default:
      return {};
  }
}

bool message::ok() const noexcept {
  std::string_view text = reply_text();
  switch (type_) {
    case esl::content_type::command_reply:
      return text.starts_with("+OK") || (text.size() >= 5 && iequals(text.substr(0, 5), "%2BOK"));
    case esl::content_type::api_response:
      return !text.starts_with("-ERR") && !text.starts_with("-USAGE");
    default:
      return false;
  }
}

}  // namespace costrix::proto::esl

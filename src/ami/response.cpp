#include <costrix/ami/response.hpp>

#include <algorithm>
#include <cctype>

namespace costrix::ami {
namespace {
bool icontains(std::string_view text, std::string_view part) {
  return std::search(text.begin(), text.end(), part.begin(), part.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         }) != text.end();
}
}  // namespace

response_status status_of(std::string_view v) noexcept {
  using proto::ami::iequals;
  if (iequals(v, "Success")) return response_status::success;
  if (iequals(v, "Error")) return response_status::error;
  if (iequals(v, "Follows")) return response_status::follows;
  if (iequals(v, "Goodbye")) return response_status::goodbye;
  return response_status::other;
}

error error_of(const response& r) {
  std::string_view text = r.text();
  std::string message(text.empty() ? std::string_view("Response: ") : text);
  if (text.empty()) message += r.fields.name();
  if (icontains(text, "No such") || icontains(text, "not found") || icontains(text, "does not exist"))
    return error{errc::not_found, std::move(message)};
  if (icontains(text, "Permission denied") || icontains(text, "Authentication failed"))
    return error{errc::auth_failed, std::move(message)};
  return error{errc::failed, std::move(message)};
}

result<response> expect_ok(response&& r) {
  if (r.ok()) return std::move(r);
  return fail(error_of(r));
}

}  // namespace costrix::ami

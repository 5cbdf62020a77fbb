#include <costrix/error.hpp>

namespace costrix {
namespace {
class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "costrix"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::hangup: return "hangup";
      case errc::dead_channel: return "dead channel";
      case errc::invalid_command: return "invalid command";
      case errc::usage: return "usage";
      case errc::failed: return "failed";
      case errc::not_found: return "not found";
      case errc::timeout: return "timeout";
      case errc::cancelled: return "cancelled";
      case errc::disconnected: return "disconnected";
      case errc::auth_failed: return "authentication failed";
      case errc::protocol: return "protocol violation";
      case errc::limit_exceeded: return "limit exceeded";
      case errc::refused: return "refused";
      case errc::invalid_argument: return "invalid argument";
    }
    return "unknown costrix error";
  }
};
}  // namespace

const std::error_category& category() noexcept {
  static const category_impl instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

std::string error::what() const {
  std::string s = code.message();
  if (!message.empty()) {
    s += ": ";
    s += message;
  }
  return s;
}

}  // namespace costrix

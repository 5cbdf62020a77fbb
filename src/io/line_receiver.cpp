#include <costrix/io/line_receiver.hpp>

#include "../library_metrics.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cstring>
#include <string>

namespace costrix::io {
namespace {

constexpr std::size_t read_space = 16 * 1024;

// The thread's receive buffer: large enough for the longest kept line plus a read.
std::span<char> scratch(std::size_t at_least) {
  thread_local std::unique_ptr<char[]> buffer;
  thread_local std::size_t capacity = 0;
  if (capacity < at_least) {
    capacity = std::max<std::size_t>(at_least, 64 * 1024);
    buffer = std::make_unique<char[]>(capacity);
  }
  return {buffer.get(), capacity};
}

}  // namespace

result<std::span<char>> line_receiver::fill(stream& s) {
  std::span<char> buffer = scratch(std::size_t{max_line_} + 2 + read_space);
  std::size_t size = held_size_;
  if (size > 0) std::memcpy(buffer.data(), held_.get(), size);
  held_.reset();
  held_size_ = 0;
  last_read_empty_ = false;
  if (size > 0 && std::memchr(buffer.data(), '\n', size) != nullptr) return buffer.first(size);

  boost::system::error_code ec;
  std::size_t n = s.read_some(buffer.subspan(size), ec);
  if (ec == boost::asio::error::would_block) {
    last_read_empty_ = true;
  } else if (ec == boost::asio::error::eof) {
    eof_ = true;
    return fail(errc::disconnected, "connection closed by peer");
  } else if (ec) {
    return fail(errc::disconnected, ec.message());
  }
  metrics::lib::agi().bytes_in.inc(n);  // the AGI session is this reader's one user
  return buffer.first(size + n);
}

result<std::optional<std::string_view>> line_receiver::next_line(std::span<char> bytes, std::size_t& used) const {
  std::string_view rest{bytes.data() + used, bytes.size() - used};
  auto nl = rest.find('\n');
  auto line = cut_line(rest, nl, max_line_);
  if (line && *line) used += nl + 1;
  return line;
}

void line_receiver::keep(std::span<const char> rest) {
  if (rest.empty()) return;
  held_ = std::make_unique_for_overwrite<char[]>(rest.size());
  std::memcpy(held_.get(), rest.data(), rest.size());
  held_size_ = static_cast<std::uint32_t>(rest.size());
}

}  // namespace costrix::io

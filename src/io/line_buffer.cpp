#include <costrix/io/line_buffer.hpp>

#include <algorithm>
#include <cstring>

namespace costrix::io {

line_buffer::line_buffer(std::size_t max_line, std::size_t initial)
    : capacity_(std::max<std::size_t>(std::min(initial, max_line + 2), 16)),
      initial_(capacity_),
      max_line_(max_line) {
  data_ = std::make_unique<char[]>(capacity_);
}

result<std::optional<std::string_view>> cut_line(std::string_view pending, std::size_t newline,
                                                 std::size_t max_line) {
  if (newline == std::string_view::npos) {
    // A pending "\r" may still be followed by "\n": allow max_line + "\r".
    if (pending.size() > max_line + 1)
      return fail(errc::limit_exceeded, "line longer than " + std::to_string(max_line) + " bytes");
    return std::optional<std::string_view>{};
  }
  std::string_view line = pending.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max_line)
    return fail(errc::limit_exceeded, "line longer than " + std::to_string(max_line) + " bytes");
  return std::optional<std::string_view>{line};
}

result<std::optional<std::string_view>> line_buffer::next_line() {
  const char* base = data_.get();
  const char* nl = static_cast<const char*>(std::memchr(base + scan_, '\n', end_ - scan_));
  std::string_view pending{base + begin_, end_ - begin_};
  auto line = cut_line(pending, nl ? static_cast<std::size_t>(nl - (base + begin_)) : std::string_view::npos, max_line_);
  if (line && *line) {
    begin_ += static_cast<std::size_t>(nl - (base + begin_)) + 1;
    scan_ = begin_;
  } else if (line) {
    scan_ = end_;
  }
  return line;
}

std::span<char> line_buffer::prepare() {
  if (begin_ == end_) {
    begin_ = end_ = scan_ = 0;
  } else if (end_ == capacity_ && begin_ > 0) {
    std::size_t n = end_ - begin_;
    std::memmove(data_.get(), data_.get() + begin_, n);
    scan_ -= begin_;
    end_ = n;
    begin_ = 0;
  }
  if (end_ == capacity_) {
    // Only a line in progress fills the whole buffer: grow for it, up to the limit.
    std::size_t limit = max_line_ + 2;
    if (capacity_ < limit) {
      std::size_t grown = std::min(capacity_ * 2, limit);
      auto bigger = std::make_unique<char[]>(grown);
      std::memcpy(bigger.get(), data_.get(), end_);
      data_ = std::move(bigger);
      capacity_ = grown;
    }
  }
  return {data_.get() + end_, capacity_ - end_};
}

void line_buffer::shrink() noexcept {
  if (begin_ != end_ || capacity_ <= initial_) return;
  data_ = std::make_unique<char[]>(initial_);
  capacity_ = initial_;
  begin_ = end_ = scan_ = 0;
}

}  // namespace costrix::io

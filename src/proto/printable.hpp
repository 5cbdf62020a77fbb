// Internal: how codecs quote a peer's bytes in an error message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace costrix::proto {

/// The first `max` bytes of `line`, control characters shown as '?', "..." when cut.
inline std::string printable(std::string_view line, std::size_t max = 80) {
  std::string s{line.substr(0, max)};
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (line.size() > max) s += "...";
  return s;
}

/// printable(text) in double quotes. (Built by appending: GCC 12 warns about
/// `"\"" + std::string` at -O3, a false -Wrestrict.)
inline std::string quoted(std::string_view text) {
  std::string s(1, '"');
  s += printable(text);
  s += '"';
  return s;
}

}  // namespace costrix::proto

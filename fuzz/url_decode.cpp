// libFuzzer: URL decoding (AsyncAGI's Env and Result, ESL's event values) and
// the FastAGI script's query splitting.
#include <costrix/proto/agi/environment.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agi = costrix::proto::agi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  // Both decoders agree, and decoding never lengthens.
  const std::string decoded = agi::url_decode(in);
  std::vector<char> out(in.size());
  const std::size_t n = agi::url_decode(in, out);
  if (decoded.size() > in.size() || n != decoded.size() || std::string_view(out.data(), n) != decoded)
    __builtin_trap();

  // The split's views all lie in `out`, within the bytes it says it wrote.
  std::string_view path;
  std::vector<agi::query_param> query;
  const std::size_t written = agi::split_script(in, out, path, query);
  if (written > out.size()) __builtin_trap();
  auto inside = [&](std::string_view v) {
    return v.empty() || (v.data() >= out.data() && v.data() + v.size() <= out.data() + written);
  };
  if (!inside(path)) __builtin_trap();
  for (const auto& q : query)
    if (!inside(q.key) || !inside(q.value)) __builtin_trap();
  return 0;
}

// libFuzzer: the AGI environment parser, fed line by line as the reader would.
#include <costrix/proto/agi/environment.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)costrix::proto::agi::parse_environment(in);
  costrix::proto::agi::environment_parser p;
  while (!in.empty()) {
    auto nl = in.find('\n');
    auto line = in.substr(0, nl);
    auto r = p.feed(line);
    if (!r || *r || nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return 0;
}

// libFuzzer: the AGI reply parser and every command's reading of a reply.
#include <costrix/proto/agi/commands.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace agi = costrix::proto::agi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  agi::reply_parser p;
  while (!in.empty()) {
    auto nl = in.find('\n');
    auto r = p.feed(in.substr(0, nl));
    if (!r) break;
    if (*r) {
      const auto& reply = p.get();
      (void)agi::decode<agi::stream_file>(reply);
      (void)agi::decode<agi::get_data>(reply);
      (void)agi::decode<agi::get_variable>(reply);
      (void)agi::decode<agi::record_file>(reply);
      (void)agi::decode<agi::speech_recognize>(reply);
      (void)agi::decode<agi::channel_status>(reply);
      (void)agi::decode<agi::wait_for_digit>(reply);
      (void)agi::decode<agi::exec>(reply);
      (void)agi::decode<agi::database_deltree>(reply);
      (void)agi::decode<agi::raw>(reply);
      p.reset();
    }
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return 0;
}

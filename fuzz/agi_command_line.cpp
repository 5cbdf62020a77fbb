// libFuzzer: Asterisk's argument splitting, URL decoding, and writing arguments back.
#include <costrix/proto/agi/command_line.hpp>
#include <costrix/proto/agi/environment.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agi = costrix::proto::agi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)agi::url_decode(in);
  std::string decoded(in.size(), '\0');  // decoding never lengthens
  std::string_view path;
  std::vector<agi::query_param> query;
  if (agi::split_script(in, decoded, path, query) > in.size()) __builtin_trap();
  auto args = agi::split_command_line(in);
  // Whatever we write, Asterisk's parser must read back as the same arguments.
  std::string out;
  agi::command_writer w(out);
  for (const auto& a : args) w.arg(a);
  if (w.finish()) {
    out.pop_back();  // the '\n'
    if (agi::split_command_line(out) != args && args.size() < 127) __builtin_trap();
  }
  return 0;
}

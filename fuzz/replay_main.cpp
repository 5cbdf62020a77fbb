// Replays inputs through a libFuzzer target's LLVMFuzzerTestOneInput without
// libFuzzer: `fuzz_replay_<target> DIR_OR_FILE...`. A crash, a sanitizer
// report or a trap fails the run; a directory that does not exist is skipped.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
std::size_t replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) {
      inputs += replay(p);
      continue;
    }
    if (!std::filesystem::is_directory(p, ec)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(p))
      if (entry.is_regular_file() && entry.path().filename() != "README") inputs += replay(entry.path());
  }
  std::printf("%zu inputs replayed\n", inputs);
  return inputs > 0 ? 0 : 1;
}

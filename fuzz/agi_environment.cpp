// libFuzzer: the AGI environment parser, fed line by line as the reader would.
#include <costrix/proto/agi/environment.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto e = costrix::proto::agi::parse_environment(in)) {
    // A copy has its own block: it reads the same after the original is gone.
    auto original = std::make_unique<costrix::proto::agi::environment>(std::move(*e));
    const std::string request{original->request()};
    const std::string script{original->script()};
    const std::vector<std::string> args(original->args().begin(), original->args().end());
    auto query_of = [](const costrix::proto::agi::environment& env) {
      std::vector<std::string> q;
      for (const auto& p : env.query()) q.insert(q.end(), {std::string(p.key), std::string(p.value)});
      return q;
    };
    const std::vector<std::string> query = query_of(*original);
    costrix::proto::agi::environment copy(*original);
    original.reset();
    const std::vector<std::string> copied_query = query_of(copy);
    if (copy.request() != request || copy.script() != script || copied_query != query ||
        !std::equal(args.begin(), args.end(), copy.args().begin(), copy.args().end()))
      __builtin_trap();
  }
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

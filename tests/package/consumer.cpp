// Builds against an installed costrix: parses a reply line and starts a
// runtime (which links the compiled Asio and the library's dependencies).
#include <costrix/io/runtime.hpp>
#include <costrix/proto/agi/reply.hpp>
#include <costrix/version.hpp>

#include <cstdio>

int main() {
  costrix::runtime rt{{.threads = 1}};
  auto r = costrix::proto::agi::parse_reply_line("200 result=1 (ok)");
  bool ok = r && r->data == "ok";
  std::printf("costrix %s: %s\n", costrix::version_string, ok ? "ok" : "parse failed");
  return ok ? 0 : 1;
}

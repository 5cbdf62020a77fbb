// Builds against an installed costrix: parses a reply line.
#include <costrix/proto/agi/reply.hpp>

int main() {
  auto r = costrix::proto::agi::parse_reply_line("200 result=1 (ok)");
  return r && r->data == "ok" ? 0 : 1;
}

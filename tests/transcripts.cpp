#include "transcripts.hpp"

// Boost.JSON compiled into the test binary, in this one file.
#include <boost/json/src.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef COSTRIX_TRANSCRIPTS_DIR
#error "COSTRIX_TRANSCRIPTS_DIR must name the transcripts directory"
#endif

namespace costrix::test {

agi_transcript load_agi_transcript(std::string_view file_name) {
  std::string path = std::string{COSTRIX_TRANSCRIPTS_DIR} + "/" + std::string{file_name};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open transcript " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto doc = boost::json::parse(text.str()).as_object();
  agi_transcript t;
  t.env = std::string{doc.at("env").as_string()};
  for (const auto& e : doc.at("exchanges").as_array()) {
    const auto& o = e.as_object();
    t.exchanges.push_back({std::string{o.at("command").as_string()}, std::string{o.at("reply").as_string()}});
  }
  return t;
}

std::vector<std::string> split_lines(std::string_view bytes) {
  std::vector<std::string> lines;
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    std::string_view line = bytes.substr(0, nl);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.emplace_back(line);
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
  }
  return lines;
}

}  // namespace costrix::test

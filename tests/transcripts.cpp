#include "transcripts.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef COSTRIX_TRANSCRIPTS_DIR
#error "COSTRIX_TRANSCRIPTS_DIR must name the transcripts directory"
#endif

namespace costrix::test {

namespace {
boost::json::value read_json(std::string_view file_name) {
  std::string path = std::string{COSTRIX_TRANSCRIPTS_DIR} + "/" + std::string{file_name};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open transcript " + path);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str());
}
}  // namespace

agi_transcript load_agi_transcript(std::string_view file_name) {
  auto doc = read_json(file_name).as_object();
  agi_transcript t;
  t.env = std::string{doc.at("env").as_string()};
  for (const auto& e : doc.at("exchanges").as_array()) {
    const auto& o = e.as_object();
    t.exchanges.push_back({std::string{o.at("command").as_string()}, std::string{o.at("reply").as_string()}});
  }
  return t;
}

std::vector<transcript_step> load_steps(std::string_view file_name) {
  auto doc = read_json(file_name);
  if (!doc.is_array()) throw std::runtime_error(std::string{file_name} + " is not a list of steps");
  std::vector<transcript_step> steps;
  for (const auto& v : doc.as_array()) {
    const auto& o = v.as_object();
    transcript_step s;
    if (const auto* name = o.if_contains("step")) s.step = std::string{name->as_string()};
    s.sent = std::string{o.at("sent").as_string()};
    s.received = std::string{o.at("received").as_string()};
    steps.push_back(std::move(s));
  }
  return steps;
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

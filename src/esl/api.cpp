#include <costrix/esl/api.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>

namespace costrix::esl {
namespace json = boost::json;

namespace {

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

result<std::string> check_reply(std::string body) {
  if (body.starts_with("-ERR")) {
    std::string words = trimmed(std::move(body));
    errc code = errc::failed;
    if (contains(words, "Command not found")) code = errc::invalid_command;
    else if (contains(words, "No such channel") || contains(words, "not found") || contains(words, "does not exist"))
      code = errc::not_found;
    return fail(code, std::move(words));
  }
  if (body.starts_with("-USAGE")) return fail(errc::usage, trimmed(std::move(body)));
  return body;
}

result<void> check_ok(std::string body) {
  auto r = check_reply(std::move(body));
  if (!r) return fail(std::move(r).error());
  if (r->starts_with("+OK") || r->starts_with("+Success") || r->starts_with("true")) return ok();
  return fail(errc::failed, trimmed(std::move(*r)));
}

namespace api {

result<std::string> version::parse(std::string body) {
  auto r = check_reply(std::move(body));
  if (!r) return r;
  return trimmed(std::move(*r));
}

result<std::chrono::seconds> uptime::parse(std::string body) {
  auto r = check_reply(std::move(body));
  if (!r) return fail(std::move(r).error());
  std::string text = trimmed(std::move(*r));
  long long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()) return fail(errc::protocol, "uptime: " + text);
  return std::chrono::seconds(n);
}

std::string originate::command() const {
  std::string out = "originate ";
  if (!variables.empty() || timeout) {
    out += '{';
    bool first = true;
    auto add = [&](std::string_view name, std::string_view value) {
      if (!first) out += ',';
      first = false;
      out.append(name).append("=");
      // Commas separate variables and spaces separate arguments: such a value is quoted.
      bool quote = value.find_first_of(" ,") != std::string_view::npos;
      if (quote) out += '\'';
      out.append(value);
      if (quote) out += '\'';
    };
    for (const auto& [name, value] : variables) add(name, value);
    if (timeout) add("originate_timeout", std::to_string(timeout->count()));
    out += '}';
  }
  out.append(endpoint).append(" ").append(destination);
  return out;
}

result<std::string> originate::parse(std::string body) {
  auto r = check_reply(std::move(body));
  if (!r) return r;
  std::string text = trimmed(std::move(*r));
  if (!text.starts_with("+OK ")) return fail(errc::failed, std::move(text));
  return text.substr(4);
}

std::string uuid_transfer::command() const {
  std::string out = "uuid_transfer " + uuid;
  if (!leg.empty()) out += " " + leg;
  out += " " + destination;
  if (!dialplan.empty()) out += " " + dialplan;
  if (!context.empty()) out += " " + context;
  return out;
}

result<std::optional<std::string>> uuid_getvar::parse(std::string body) {
  auto r = check_reply(std::move(body));
  if (!r) return fail(std::move(r).error());
  if (*r == "_undef_" || *r == "_undef_\n") return std::optional<std::string>{};
  return std::optional<std::string>{std::move(*r)};
}

std::string uuid_record::command() const {
  std::string out = "uuid_record " + uuid + (start ? " start " : " stop ") + path;
  if (start && limit) out += " " + std::to_string(limit->count());
  return out;
}

std::string uuid_hold::command() const {
  switch (action) {
    case mode::off: return "uuid_hold off " + uuid;
    case mode::toggle: return "uuid_hold toggle " + uuid;
    case mode::on: break;
  }
  return "uuid_hold " + uuid;
}

result<bool> uuid_exists::parse(std::string body) {
  auto r = check_reply(std::move(body));
  if (!r) return fail(std::move(r).error());
  std::string text = trimmed(std::move(*r));
  if (text == "true") return true;
  if (text == "false") return false;
  return fail(errc::protocol, "uuid_exists: " + text);
}

result<std::vector<channel_row>> show_channels::parse(std::string body) {
  auto r = check_reply(std::move(body));
  if (!r) return fail(std::move(r).error());
  boost::system::error_code ec;
  json::value v = json::parse(*r, ec);
  if (ec || !v.is_object()) return fail(errc::protocol, "show ... as json: not a JSON object");
  std::vector<channel_row> rows;
  const auto* list = v.as_object().if_contains("rows");
  if (!list) return rows;
  if (!list->is_array()) return fail(errc::protocol, "show ... as json: rows is not a list");
  for (const auto& item : list->as_array()) {
    if (!item.is_object()) return fail(errc::protocol, "show ... as json: a row is not an object");
    channel_row row;
    for (const auto& [key, value] : item.as_object()) {
      std::string text;
      if (value.is_string()) text = std::string(value.as_string());
      else if (!value.is_null()) text = json::serialize(value);
      row.columns.emplace(std::string(key), std::move(text));
    }
    auto col = [&](std::string_view k) {
      auto it = row.columns.find(k);
      return it == row.columns.end() ? std::string{} : it->second;
    };
    row.uuid = col("uuid");
    row.direction = col("direction");
    row.name = col("name");
    row.state = col("state");
    row.callstate = col("callstate");
    row.cid_name = col("cid_name");
    row.cid_num = col("cid_num");
    row.dest = col("dest");
    row.application = col("application");
    row.application_data = col("application_data");
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string hupall::command() const {
  std::string out = "hupall";
  if (!cause.empty()) out += " " + cause;
  if (!variable.empty()) out += " " + variable + " " + value;
  return out;
}

}  // namespace api
}  // namespace costrix::esl

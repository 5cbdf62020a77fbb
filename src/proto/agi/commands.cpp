#include <costrix/proto/agi/commands.hpp>

#include <charconv>
#include <limits>

namespace costrix::proto::agi {

namespace {

// "result=-1 (writefile)": the reply in the words Asterisk used, for messages.
std::string described(const reply& r) {
  std::string s = "Asterisk replied result=";
  s += r.result;
  if (r.data) {
    s += " (";
    s += *r.data;
    s += ')';
  }
  if (!r.extra.empty()) {
    s += ' ';
    s += r.extra;
  }
  return s;
}

error unexpected(const reply& r) { return error{errc::protocol, "AGI reply not understood: " + described(r)}; }

result<std::int64_t> number_of(const reply& r) {
  if (auto n = r.number()) return *n;
  return fail(errc::protocol, "AGI reply: result=" + std::string{r.result} + " is not a number");
}

// Playback and say commands answer -1 both for an error and for a hangup.
error minus_one(const reply& r) {
  std::string s = "Asterisk reported " + std::string{r.result};
  s += r.data ? " (" + std::string{*r.data} + ")" : std::string{" (error or hangup)"};
  return error{errc::failed, std::move(s)};
}

result<std::optional<char>> ascii(const reply& r, std::int64_t n) {
  if (n == 0) return std::optional<char>{};
  if (n > 0 && n < 256) return std::optional<char>{static_cast<char>(n)};
  if (n < 0) return fail(minus_one(r));
  return fail(unexpected(r));
}

std::int64_t parse_int(std::string_view s, bool& ok) noexcept {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  ok = !s.empty() && ec == std::errc{} && end == s.data() + s.size();
  return v;
}

// Takes "<key>" off the front of `s`, then the text up to `until` (or the end
// when `until` is empty); false when `s` does not look like that.
bool take_field(std::string_view& s, std::string_view key, std::string_view until, std::string_view& value) {
  if (!s.starts_with(key)) return false;
  std::string_view rest = s.substr(key.size());
  auto end = until.empty() ? rest.size() : rest.find(until);
  if (end == std::string_view::npos) return false;
  value = rest.substr(0, end);
  s = rest.substr(end);
  return true;
}

// "results=K score0=S text0=\"T\" grammar0=G score1=..." as handle_speechrecognize writes it;
// text is not escaped by Asterisk, so it ends at `" grammarN=`.
result<std::vector<speech_result>> speech_results(const reply& r) {
  std::string_view s = r.extra, field;
  bool ok = false;
  if (!take_field(s, "results=", " ", field) && !take_field(s, "results=", "", field)) return fail(unexpected(r));
  auto count = parse_int(field, ok);
  if (!ok || count < 0) return fail(unexpected(r));
  std::vector<speech_result> out;
  for (std::int64_t i = 0; i < count; ++i) {
    auto n = std::to_string(i), next = std::to_string(i + 1);
    speech_result one;
    if (!s.starts_with(' ')) return fail(unexpected(r));
    s.remove_prefix(1);
    if (!take_field(s, "score" + n + "=", " ", field)) return fail(unexpected(r));
    one.score = static_cast<int>(parse_int(field, ok));
    if (!ok) return fail(unexpected(r));
    if (!take_field(s, " text" + n + "=\"", "\" grammar" + n + "=", field)) return fail(unexpected(r));
    one.text = field;
    s.remove_prefix(1);  // the closing quote
    std::string until = i + 1 < count ? " score" + next + "=" : "";
    if (!take_field(s, " grammar" + n + "=", until, field)) return fail(unexpected(r));
    one.grammar = field;
    out.push_back(std::move(one));
  }
  return out;
}

}  // namespace

// ---- shared readings ------------------------------------------------------

result<void> expect(const reply& r, std::int64_t success) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  if (n != success) return fail(errc::failed, described(r));
  return ok();
}

result<playback> to_playback(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  BOOST_OUTCOME_TRY(auto digit, ascii(r, n));
  return playback{digit, r.endpos.value_or(0)};
}

result<std::optional<char>> to_digit(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  return ascii(r, n);
}

result<std::optional<std::string>> to_value(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  if (n == 1) return std::optional<std::string>{std::string{r.data.value_or(std::string_view{})}};
  if (n == 0) return std::optional<std::string>{};
  if (n == -1) return fail(errc::failed, described(r));  // DATABASE GET when Asterisk is out of memory
  return fail(unexpected(r));
}

// ---- commands with their own reading or writing ---------------------------

result<channel_state> channel_status::decode(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  if (n == -1) return fail(errc::not_found, "CHANNEL STATUS: no such channel");
  if (n < 0 || n > std::numeric_limits<int>::max()) return fail(unexpected(r));
  return static_cast<channel_state>(n);
}

void control_stream_file::encode(command_writer& w) const {
  w.arg(file).quoted(escape_digits);
  // Asterisk reads these by position: a later one needs all earlier ones written.
  int last = offset ? 5 : !pause.empty() ? 4 : !rewind.empty() ? 3 : !forward.empty() ? 2 : skip ? 1 : 0;
  if (last >= 1) w.number(skip ? skip->count() : 3000);
  if (last >= 2) w.quoted(forward);
  if (last >= 3) w.quoted(rewind);
  if (last >= 4) w.quoted(pause);
  if (last >= 5) w.number(offset->count());
}

result<bool> database_deltree::decode(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  if (n == 0) return true;   // num_deleted > 0
  if (n == 1) return false;  // nothing deleted, or the database failed
  return fail(unexpected(r));
}

void exec::encode(command_writer& w) const {
  w.arg(application);
  if (options.empty()) return;
  bool plain = true;
  for (char c : options)
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
  if (plain)
    w.word(options);
  else
    w.quoted(options);
}

result<int> exec::decode(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  if (n == -2) return fail(errc::not_found, "EXEC: no such application");
  if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) return fail(unexpected(r));
  return static_cast<int>(n);
}

void get_data::encode(command_writer& w) const {
  w.arg(file);
  if (timeout || max_digits) w.number(timeout ? timeout->count() : 0);
  if (max_digits) w.number(*max_digits);
}

result<digits> get_data::decode(const reply& r) {
  if (r.result == "-1") return fail(minus_one(r));
  return digits{std::string{r.result}, r.data == "timeout"};
}

result<void> hangup::decode(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  if (n == 1) return ok();
  if (n == -1) return fail(errc::not_found, "HANGUP: no such channel");
  return fail(unexpected(r));
}

result<std::string> receive_text::decode(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  if (n == 1) return std::string{r.data.value_or(std::string_view{})};
  if (n == -1) return fail(errc::failed, "RECEIVE TEXT: no text received (" + described(r) + ")");
  return fail(unexpected(r));
}

void record_file::encode(command_writer& w) const {
  w.arg(file).arg(format).quoted(escape_digits).number(timeout.count()).opt(offset);
  if (beep) w.word("BEEP");
  if (silence) {
    char buf[32] = "s=";
    auto [end, ec] = std::to_chars(buf + 2, buf + sizeof buf, silence->count());
    (void)ec;
    w.word(std::string_view(buf, static_cast<std::size_t>(end - buf)));
  }
}

result<recording> record_file::decode(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  auto endpos = r.endpos.value_or(0);
  if (r.data == "timeout") return recording{recording::ended_by::timeout, {}, endpos};
  if (r.data == "hangup") return recording{recording::ended_by::hangup, {}, endpos};
  if (r.data == "dtmf") {
    if (n <= 0 || n >= 256) return fail(unexpected(r));
    return recording{recording::ended_by::dtmf, static_cast<char>(n), endpos};
  }
  // "(writefile)", "(randomerror)", "(waitfor)", or a bare result: nothing usable was recorded.
  return fail(errc::failed, "RECORD FILE: " + described(r));
}

void say_datetime::encode(command_writer& w) const {
  w.number(time).quoted(escape_digits);
  if (!format.empty() || !timezone.empty()) w.arg(format.empty() ? std::string_view{"ABdY 'digits/at' IMp"} : format);
  w.opt_arg(timezone);
}

result<speech> speech_recognize::decode(const reply& r) {
  BOOST_OUTCOME_TRY(auto n, number_of(r));
  if (n == 0) return fail(errc::failed, "SPEECH RECOGNIZE: no speech object, or the engine failed (" + described(r) + ")");
  if (n != 1 || !r.data) return fail(unexpected(r));
  speech s;
  s.endpos = r.endpos.value_or(0);
  if (*r.data == "speech") {
    s.reason = speech::ended_by::speech;
    auto results = speech_results(r);
    if (!results) return fail(std::move(results).error());
    s.results = std::move(results).value();
  } else if (*r.data == "digit" || *r.data == "dtmf") {
    s.reason = speech::ended_by::dtmf;
    if (!r.extra.starts_with("digit=") || r.extra.size() != 7) return fail(unexpected(r));
    s.digit = r.extra[6];
  } else if (*r.data == "timeout") {
    s.reason = speech::ended_by::timeout;
  } else if (*r.data == "hangup") {
    s.reason = speech::ended_by::hangup;
  } else {
    return fail(unexpected(r));
  }
  return s;
}

void tdd_mode::encode(command_writer& w) const {
  switch (mode) {
    case tdd_setting::off: w.word("off"); break;
    case tdd_setting::on: w.word("on"); break;
    case tdd_setting::tdd: w.word("tdd"); break;
    case tdd_setting::mate: w.word("mate"); break;
  }
}

void raw::encode(command_writer& w) const {
  if (line.empty()) w.reject();
  w.word(line);
}

result<raw_reply> raw::decode(const reply& r) {
  raw_reply out;
  out.code = r.code;
  out.result = r.result;
  if (r.data) out.data = std::string{*r.data};
  out.endpos = r.endpos;
  out.extra = r.extra;
  return out;
}

}  // namespace costrix::proto::agi

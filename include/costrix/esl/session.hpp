// esl::session: one call FreeSWITCH handed to an outbound socket, with the
// verbs of mod_lua's `session` object as awaitables.
#pragma once

#include <costrix/esl/cause.hpp>
#include <costrix/io/stream.hpp>
#include <costrix/proto/esl/event.hpp>
#include <costrix/proto/esl/message_parser.hpp>
#include <costrix/result.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace costrix::esl {

using proto::esl::event;
using proto::esl::owned_event;


struct session_options {
  bool myevents = true;  ///< `myevents`: the call's events (execute completion, DTMF, hangup) come to the socket
  bool linger = true;    ///< `linger`: the socket stays open after the hangup, for the last events
  /// Each execute carries an `Event-UUID` the session makes, and completes on
  /// the CHANNEL_EXECUTE_COMPLETE with that `Application-UUID`. Without it the
  /// session learns the Application-UUID from the CHANNEL_EXECUTE event.
  bool tag_executes = true;
  bool event_lock = true;  ///< `event-lock: true` on every execute: applications run in the order sent
  std::size_t max_queued_inputs = 64;  ///< DTMF and input events kept for next_input(); the oldest go first
  std::vector<std::string> input_events;  ///< event names (besides DTMF) that next_input() returns
  std::chrono::milliseconds connect_timeout{10'000};  ///< for the channel data; 0: no limit
  /// For each command's own reply (`command/reply`, `api/response`): a silent
  /// or trickling FreeSWITCH gives `errc::timeout`; 0: no limit. An execute's
  /// CHANNEL_EXECUTE_COMPLETE has no limit: an application runs as long as the call needs.
  std::chrono::milliseconds command_timeout{30'000};
  proto::esl::limits limits{};
};

/// How one `execute` is sent (see proto::esl::execute).
struct execute_options {
  std::string_view event_uuid = {};  ///< the Application-UUID to use; empty: the session's choice
  unsigned loops = 1;
  std::string_view break_on = {};  ///< DTMF digits that stop the application (`uuid_break`) when pressed
  std::optional<bool> event_lock = {};  ///< `event-lock: true`; unset: session_options::event_lock
};

/// stream_file() and friends: how a prompt ended.
struct playback {
  std::optional<char> digit;  ///< the key that stopped it (break_on), if any
  std::string response;       ///< Application-Response ("FILE PLAYED", "FILE NOT FOUND")
  std::uint64_t samples = 0;  ///< `playback_samples`: how far it got
};

/// Digits a caller entered.
struct digits {
  std::string value;
  std::optional<char> terminator;  ///< the terminator pressed (`read_terminator_used`)
  std::string status;              ///< `read_result`: "success", "timeout", "failure"
};

/// recordFile's outcome.
struct recording {
  bool silence = false;  ///< ended because the caller was silent (`silence_hits_exhausted`)
  std::string completion_cause;  ///< `record_completion_cause`: "success-silence", "success-maxtime", ...
  std::chrono::milliseconds length{0};  ///< `record_ms`
  std::optional<char> terminator;       ///< `playback_terminator_used`
};

/// One item of the input stream (mod_lua's input callback): a DTMF key or an event.
struct input {
  std::optional<char> digit;  ///< a DTMF key; empty for an event
  std::chrono::milliseconds duration{0};
  owned_event event;  ///< the DTMF event itself, or the input event
};

/// play_and_get_digits: every argument of the application, in its order.
struct digits_options {
  int min = 1;
  int max = 1;
  int tries = 1;
  std::chrono::milliseconds timeout{5000};
  std::string_view terminators = "#";
  std::string_view prompt;            ///< file played before input
  std::string_view invalid_prompt = "silence_stream://250";  ///< played after a wrong entry
  std::string_view var_name = "costrix_digits";  ///< the channel variable the digits go to
  std::string_view regex = "\\d+";
  std::chrono::milliseconds digit_timeout{0};  ///< between digits; 0: the application's default (timeout)
  std::string_view transfer_on_failure = {};   ///< "ext XML context" when every try fails
};

struct record_options {
  std::string_view file;
  std::chrono::seconds max_length{0};  ///< 0: no limit
  int silence_threshold = 0;           ///< energy level counted as silence; 0: no silence detection
  std::chrono::seconds silence_seconds{0};  ///< silence this long ends the recording
};

struct say_options {
  std::string_view text;
  std::string_view language = "en";     ///< module (say:`en`)
  std::string_view type = "number";     ///< NUMBER, ITEMS, PERSONS, MESSAGES, CURRENCY, TIME_MEASUREMENT, ...
  std::string_view method = "pronounced";  ///< pronounced, iterated, counted
  std::string_view gender = {};         ///< masculine, feminine, neuter
};

namespace detail {
struct waiter;
struct exec_waiter;
}  // namespace detail

/// One outbound call. Verbs are coroutines: await each (the session sends one
/// command at a time per coroutine; other coroutines of the call may await
/// next_input() or hung_up() meanwhile). Every verb returns `result<T>`:
///   - `errc::hangup` once the channel has hung up (CHANNEL_HANGUP): the verb in
///     flight ends with it, and later executes are not sent; message: the cause;
///   - `errc::failed` with FreeSWITCH's words (`-ERR ...`) when a command is refused;
///   - `errc::disconnected` when the socket closes; `errc::cancelled` when the
///     awaiting coroutine is cancelled; `errc::timeout` for verbs with a timeout.
/// Verbs that return what an application did (digits, playback) read it from
/// its CHANNEL_EXECUTE_COMPLETE event: they need `myevents` (the default).
class session {
 public:
  explicit session(io::stream& stream, session_options options = {});
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// `connect`, then the channel data, then `myevents` and `linger` as the
  /// options say. The server calls it before the handler runs.
  awaitable<result<void>> start();
  /// Closes the socket and waits until the session's own coroutines are gone.
  awaitable<void> shutdown();

  // ---- what FreeSWITCH said about the call ----
  /// The channel data of the `connect` reply (Unique-ID, Caller-*, variable_*).
  const event& channel_data() const noexcept { return data_; }
  /// A variable of the channel data (`variable_<name>`), as it was at connect.
  std::optional<std::string_view> channel_variable(std::string_view name) const;
  std::string_view uuid() const noexcept { return uuid_; }  ///< getUUID / get_uuid
  std::string_view destination_number() const noexcept;
  std::string_view caller_id_number() const noexcept;

  // ---- the channel as its events describe it (no round trip) ----
  bool ready() const noexcept { return !hung_up_ && !closed_; }
  bool answered() const noexcept { return answered_; }
  bool media_ready() const noexcept { return media_ready_; }
  bool bridged() const noexcept { return bridged_; }
  /// Channel-State of the last event ("CS_EXECUTE"); getState.
  std::string_view state() const noexcept { return state_; }
  /// The Hangup-Cause ("NORMAL_CLEARING"); empty while the call is up.
  std::string_view hangup_cause() const noexcept { return hangup_cause_; }
  /// The channel state when the hangup came ("CS_EXECUTE"); empty while the call is up.
  std::string_view hangup_state() const noexcept { return hangup_state_; }

  // ---- the generic paths ----
  /// Runs a dialplan application (`sendmsg` execute) and completes when it
  /// has run: the Application-Response ("_none_" when it gives none).
  awaitable<result<std::string>> execute(std::string_view app, std::string_view arg = {},
                                         execute_options options = {});
  /// The same, as its CHANNEL_EXECUTE_COMPLETE event (an empty event without myevents).
  awaitable<result<owned_event>> execute_event(std::string_view app, std::string_view arg = {},
                                               execute_options options = {});
  /// "app arg ..." split at the first space: executeString.
  awaitable<result<std::string>> execute_string(std::string_view app_and_arg);
  /// `api <command>` on the socket: the body of the reply.
  awaitable<result<std::string>> api(std::string_view command);
  /// Any command (text written as given, with its final empty line added): its Reply-Text.
  awaitable<result<std::string>> command(std::string_view text);

  // ---- mod_lua's verbs ----
  awaitable<result<void>> answer();
  awaitable<result<void>> pre_answer();
  awaitable<result<void>> hangup(cause c = cause::normal_clearing);
  awaitable<result<void>> hangup(std::string_view cause_name);
  /// `uuid_getvar`: the value, or no value when the variable is not set.
  awaitable<result<std::optional<std::string>>> get_variable(std::string_view name);
  awaitable<result<void>> set_variable(std::string_view name, std::string_view value);
  /// playback of `file`, from `sample_offset` (`file@@offset`); keys in `break_on` stop it.
  awaitable<result<playback>> stream_file(std::string_view file, std::uint64_t sample_offset = 0,
                                          std::string_view break_on = {});
  awaitable<result<digits>> play_and_get_digits(digits_options options);
  /// The `read` application: min and max digits, a prompt, a timeout, terminators.
  awaitable<result<digits>> read(int min, int max, std::string_view prompt, std::chrono::milliseconds timeout,
                                 std::string_view terminators = "#");
  /// Up to `max` digits, without a prompt (keys already pressed count).
  awaitable<result<digits>> get_digits(int max, std::string_view terminators, std::chrono::milliseconds timeout,
                                       std::chrono::milliseconds digit_timeout = {});
  /// Keys from the input stream until `max` arrived or `timeout` passed (what came so far).
  awaitable<result<std::string>> collect_digits(std::size_t max, std::chrono::milliseconds timeout);
  /// Drops queued keys, here and in the channel (`flush_dtmf`).
  awaitable<result<void>> flush_digits();
  /// Drops queued input events (not keys).
  void flush_events();
  awaitable<result<recording>> record_file(record_options options);
  awaitable<result<void>> say(say_options options);
  /// The `phrase` application: a phrase macro with its data, in `language` when given.
  awaitable<result<void>> say_phrase(std::string_view name, std::string_view data = {},
                                     std::string_view language = {});
  /// The `speak` application with the engine and voice of set_tts_params().
  awaitable<result<void>> speak(std::string_view text);
  void set_tts_params(std::string_view engine, std::string_view voice);
  awaitable<result<void>> sleep(std::chrono::milliseconds time);
  awaitable<result<void>> transfer(std::string_view extension, std::string_view dialplan = "XML",
                                   std::string_view context = "default");
  /// `sendevent` with this call's Unique-ID: the event goes to the session.
  awaitable<result<void>> send_event(std::string_view name, std::vector<proto::esl::header> headers = {},
                                     std::string_view body = {});
  /// false: the dialplan continues after the handler (`resume`); true (the default): the call ends with it.
  awaitable<result<void>> set_auto_hangup(bool on);
  /// Completes once the channel is answered (CHANNEL_ANSWER), or errc::timeout.
  awaitable<result<void>> wait_for_answer(std::chrono::milliseconds timeout);
  /// Completes once media flows: answered, or early media (CHANNEL_PROGRESS_MEDIA); or errc::timeout.
  awaitable<result<void>> wait_for_media(std::chrono::milliseconds timeout);
  /// Completes once the channel is bridged to another leg (CHANNEL_BRIDGE), or errc::timeout.
  awaitable<result<void>> wait_for_bridge(std::chrono::milliseconds timeout);
  /// The `log` application: "INFO", "NOTICE", "WARNING", "ERR", "DEBUG".
  awaitable<result<void>> console_log(std::string_view level, std::string_view text);
  /// `uuid_break`: stops the prompt playing (all queued ones too with `all`).
  awaitable<result<void>> break_playback(bool all = false);

  // ---- input and hangup (mod_lua's input callback and hangup hook) ----
  /// The next DTMF key or input event; errc::timeout after `timeout` (0: no limit),
  /// errc::hangup once the call is gone and nothing is queued.
  awaitable<result<input>> next_input(std::chrono::milliseconds timeout = {});
  /// Completes when the call hangs up (or the socket closes): the hangup cause.
  awaitable<result<std::string>> hung_up();

 private:
  friend struct detail::waiter;
  using waiter_ptr = std::shared_ptr<detail::waiter>;
  using exec_ptr = std::shared_ptr<detail::exec_waiter>;

  awaitable<result<std::string>> send(std::string_view bytes);  // a command; its reply text
  awaitable<result<void>> wait(detail::waiter& w, std::chrono::milliseconds timeout = {});
  void write(std::string_view bytes);
  awaitable<void> read_loop();
  awaitable<void> write_loop();
  void dispatch(const proto::esl::message& m);
  void on_event(const event& e);
  void on_hangup(std::string_view cause);
  void end_all(const error& e);
  void task_ended();
  std::string new_uuid();
  // The one path every execute takes: the CHANNEL_EXECUTE_COMPLETE event
  // (empty without myevents) and the key that broke it, if any.
  struct completion {
    owned_event done;
    std::optional<char> broke_by;
  };
  awaitable<result<completion>> run(std::string_view app, std::string_view arg, execute_options options);
  awaitable<result<void>> run_void(std::string_view app, std::string_view arg);
  // The wait_for_* verbs: until `flag` turns true (or the call ends, or `timeout`).
  awaitable<result<void>> wait_until(const bool& flag, std::chrono::milliseconds timeout, std::string_view what);

  io::stream& stream_;
  session_options options_;
  proto::esl::message_parser parser_;
  proto::esl::event_decoder decoder_;
  std::string in_;   // received, not yet parsed
  std::string out_;  // not yet taken by the socket
  owned_event data_;
  std::string uuid_;
  std::deque<waiter_ptr> replies_;  // one per command sent, in order
  std::list<exec_ptr> executes_;    // executes not yet complete
  std::vector<waiter_ptr> watchers_;  // hung_up(), next_input(), wait_for_answer()
  std::deque<input> inputs_;
  std::string state_, hangup_cause_, hangup_state_;
  std::string tts_engine_ = "flite", tts_voice_ = "kal";
  std::shared_ptr<detail::waiter> idle_;  // shutdown() waits here for tasks_ to reach 0
  unsigned tasks_ = 0;
  std::uint64_t sequence_ = 0;
  bool answered_ = false, media_ready_ = false, bridged_ = false;
  bool hung_up_ = false, closed_ = false, writing_ = false;
  std::optional<error> ended_;  // why the socket is gone
};

}  // namespace costrix::esl

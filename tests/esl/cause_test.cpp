// esl::cause: FreeSWITCH's hangup causes by name and number.
#include <costrix/esl/cause.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

namespace esl = costrix::esl;
using costrix::errc;

TEST_CASE("esl cause: every cause reads back from its name and its number", "[esl][cause]") {
  std::set<std::string_view> names;
  for (esl::cause c : esl::all_causes()) {
    auto name = esl::to_string(c);
    CHECK(name != "UNKNOWN");
    names.insert(name);
    CHECK(esl::parse_cause(name) == c);
    CHECK(esl::parse_cause(std::to_string(static_cast<unsigned>(c))) == c);
  }
  CHECK(names.size() == esl::all_causes().size());  // no name twice
  CHECK(esl::all_causes().size() == 81);             // switch_call_cause_t, NONE to STALE_DATE
}

TEST_CASE("esl cause: FreeSWITCH's names and numbers for the usual causes", "[esl][cause]") {
  CHECK(esl::to_string(esl::cause::user_busy) == "USER_BUSY");
  CHECK(esl::to_string(esl::cause::originator_cancel) == "ORIGINATOR_CANCEL");
  CHECK(static_cast<unsigned>(esl::cause::originator_cancel) == 487);
  CHECK(static_cast<unsigned>(esl::cause::no_answer) == 19);
  CHECK(esl::parse_cause("user_busy") == esl::cause::user_busy);  // FreeSWITCH reads names in any case
  CHECK(esl::parse_cause("17") == esl::cause::user_busy);
  CHECK(esl::q850(esl::cause::user_busy) == 17u);
  CHECK(esl::q850(esl::cause::interworking) == 127u);
  CHECK(esl::q850(esl::cause::originator_cancel) == std::nullopt);  // FreeSWITCH's own
  CHECK(esl::q850(esl::cause::none) == std::nullopt);
}

TEST_CASE("esl cause: an unknown name or number is cause::unknown and still prints", "[esl][cause]") {
  CHECK(esl::parse_cause("SOMETHING_NEWER") == esl::cause::unknown);
  CHECK(esl::parse_cause("") == esl::cause::unknown);
  CHECK(esl::parse_cause("4") == esl::cause::unknown);  // no cause 4
  CHECK(esl::parse_cause("17x") == esl::cause::unknown);
  CHECK(esl::parse_cause("99999999999999999999") == esl::cause::unknown);
  CHECK(esl::to_string(esl::cause::unknown) == "UNKNOWN");
  CHECK(esl::q850(esl::cause::unknown) == std::nullopt);
  CHECK(esl::to_string(static_cast<esl::cause>(4)) == "UNKNOWN");
}

TEST_CASE("esl cause: cause_of reads the cause an error names", "[esl][cause]") {
  CHECK(esl::cause_of(costrix::error{errc::failed, "-ERR USER_BUSY"}) == esl::cause::user_busy);
  CHECK(esl::cause_of(costrix::error{errc::failed, "-ERR NO_ANSWER\n"}) == esl::cause::no_answer);
  CHECK(esl::cause_of(costrix::error{errc::hangup, "NORMAL_CLEARING"}) == esl::cause::normal_clearing);
  CHECK(esl::cause_of(costrix::error{errc::failed, "-ERR SOMETHING_NEWER"}) == esl::cause::unknown);
  CHECK(esl::cause_of(costrix::error{errc::failed, ""}) == esl::cause::unknown);
  CHECK(esl::cause_of(costrix::error{errc::timeout, "USER_BUSY"}) == esl::cause::unknown);  // not a refusal
  CHECK(esl::cause_of(costrix::error{errc::disconnected}) == esl::cause::unknown);
}

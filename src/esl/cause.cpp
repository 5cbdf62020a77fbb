#include <costrix/esl/cause.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace costrix::esl {

namespace {

struct named {
  cause value;
  std::string_view name;
};

constexpr named chart[] = {
    {cause::none, "NONE"},
    {cause::unallocated_number, "UNALLOCATED_NUMBER"},
    {cause::no_route_transit_net, "NO_ROUTE_TRANSIT_NET"},
    {cause::no_route_destination, "NO_ROUTE_DESTINATION"},
    {cause::channel_unacceptable, "CHANNEL_UNACCEPTABLE"},
    {cause::call_awarded_delivered, "CALL_AWARDED_DELIVERED"},
    {cause::normal_clearing, "NORMAL_CLEARING"},
    {cause::user_busy, "USER_BUSY"},
    {cause::no_user_response, "NO_USER_RESPONSE"},
    {cause::no_answer, "NO_ANSWER"},
    {cause::subscriber_absent, "SUBSCRIBER_ABSENT"},
    {cause::call_rejected, "CALL_REJECTED"},
    {cause::number_changed, "NUMBER_CHANGED"},
    {cause::redirection_to_new_destination, "REDIRECTION_TO_NEW_DESTINATION"},
    {cause::exchange_routing_error, "EXCHANGE_ROUTING_ERROR"},
    {cause::destination_out_of_order, "DESTINATION_OUT_OF_ORDER"},
    {cause::invalid_number_format, "INVALID_NUMBER_FORMAT"},
    {cause::facility_rejected, "FACILITY_REJECTED"},
    {cause::response_to_status_enquiry, "RESPONSE_TO_STATUS_ENQUIRY"},
    {cause::normal_unspecified, "NORMAL_UNSPECIFIED"},
    {cause::normal_circuit_congestion, "NORMAL_CIRCUIT_CONGESTION"},
    {cause::network_out_of_order, "NETWORK_OUT_OF_ORDER"},
    {cause::normal_temporary_failure, "NORMAL_TEMPORARY_FAILURE"},
    {cause::switch_congestion, "SWITCH_CONGESTION"},
    {cause::access_info_discarded, "ACCESS_INFO_DISCARDED"},
    {cause::requested_chan_unavail, "REQUESTED_CHAN_UNAVAIL"},
    {cause::pre_empted, "PRE_EMPTED"},
    {cause::facility_not_subscribed, "FACILITY_NOT_SUBSCRIBED"},
    {cause::outgoing_call_barred, "OUTGOING_CALL_BARRED"},
    {cause::incoming_call_barred, "INCOMING_CALL_BARRED"},
    {cause::bearercapability_notauth, "BEARERCAPABILITY_NOTAUTH"},
    {cause::bearercapability_notavail, "BEARERCAPABILITY_NOTAVAIL"},
    {cause::service_unavailable, "SERVICE_UNAVAILABLE"},
    {cause::bearercapability_notimpl, "BEARERCAPABILITY_NOTIMPL"},
    {cause::chan_not_implemented, "CHAN_NOT_IMPLEMENTED"},
    {cause::facility_not_implemented, "FACILITY_NOT_IMPLEMENTED"},
    {cause::service_not_implemented, "SERVICE_NOT_IMPLEMENTED"},
    {cause::invalid_call_reference, "INVALID_CALL_REFERENCE"},
    {cause::incompatible_destination, "INCOMPATIBLE_DESTINATION"},
    {cause::invalid_msg_unspecified, "INVALID_MSG_UNSPECIFIED"},
    {cause::mandatory_ie_missing, "MANDATORY_IE_MISSING"},
    {cause::message_type_nonexist, "MESSAGE_TYPE_NONEXIST"},
    {cause::wrong_message, "WRONG_MESSAGE"},
    {cause::ie_nonexist, "IE_NONEXIST"},
    {cause::invalid_ie_contents, "INVALID_IE_CONTENTS"},
    {cause::wrong_call_state, "WRONG_CALL_STATE"},
    {cause::recovery_on_timer_expire, "RECOVERY_ON_TIMER_EXPIRE"},
    {cause::mandatory_ie_length_error, "MANDATORY_IE_LENGTH_ERROR"},
    {cause::protocol_error, "PROTOCOL_ERROR"},
    {cause::interworking, "INTERWORKING"},
    {cause::success, "SUCCESS"},
    {cause::originator_cancel, "ORIGINATOR_CANCEL"},
    {cause::crash, "CRASH"},
    {cause::system_shutdown, "SYSTEM_SHUTDOWN"},
    {cause::lose_race, "LOSE_RACE"},
    {cause::manager_request, "MANAGER_REQUEST"},
    {cause::blind_transfer, "BLIND_TRANSFER"},
    {cause::attended_transfer, "ATTENDED_TRANSFER"},
    {cause::allotted_timeout, "ALLOTTED_TIMEOUT"},
    {cause::user_challenge, "USER_CHALLENGE"},
    {cause::media_timeout, "MEDIA_TIMEOUT"},
    {cause::picked_off, "PICKED_OFF"},
    {cause::user_not_registered, "USER_NOT_REGISTERED"},
    {cause::progress_timeout, "PROGRESS_TIMEOUT"},
    {cause::invalid_gateway, "INVALID_GATEWAY"},
    {cause::gateway_down, "GATEWAY_DOWN"},
    {cause::invalid_url, "INVALID_URL"},
    {cause::invalid_profile, "INVALID_PROFILE"},
    {cause::no_pickup, "NO_PICKUP"},
    {cause::srtp_read_error, "SRTP_READ_ERROR"},
    {cause::bowout, "BOWOUT"},
    {cause::busy_everywhere, "BUSY_EVERYWHERE"},
    {cause::decline, "DECLINE"},
    {cause::does_not_exist_anywhere, "DOES_NOT_EXIST_ANYWHERE"},
    {cause::not_acceptable, "NOT_ACCEPTABLE"},
    {cause::unwanted, "UNWANTED"},
    {cause::no_identity, "NO_IDENTITY"},
    {cause::bad_identity_info, "BAD_IDENTITY_INFO"},
    {cause::unsupported_certificate, "UNSUPPORTED_CERTIFICATE"},
    {cause::invalid_identity, "INVALID_IDENTITY"},
    {cause::stale_date, "STALE_DATE"},
};

constexpr auto causes = [] {
  std::array<cause, std::size(chart)> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = chart[i].value;
  return out;
}();

bool same_name(std::string_view a, std::string_view b) noexcept {
  return std::ranges::equal(a, b, [](char x, char y) {
    auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
    return up(x) == up(y);
  });
}

}  // namespace

std::string_view to_string(cause c) noexcept {
  for (const auto& n : chart)
    if (n.value == c) return n.name;
  return "UNKNOWN";
}

cause parse_cause(std::string_view text) noexcept {
  if (text.empty()) return cause::unknown;
  if (text.front() >= '0' && text.front() <= '9') {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size()) return cause::unknown;
    for (const auto& c : chart)
      if (static_cast<unsigned>(c.value) == n) return c.value;
    return cause::unknown;
  }
  for (const auto& c : chart)
    if (same_name(c.name, text)) return c.value;
  return cause::unknown;
}

std::optional<unsigned> q850(cause c) noexcept {
  auto n = static_cast<unsigned>(c);
  if (c == cause::unknown || n == 0 || n > 127) return std::nullopt;
  return n;
}

std::span<const cause> all_causes() noexcept { return causes; }

cause cause_of(const error& e) noexcept {
  if (e != errc::failed && e != errc::hangup) return cause::unknown;
  std::string_view m = e.message;
  if (m.starts_with("-ERR")) m.remove_prefix(4);
  while (!m.empty() && m.front() == ' ') m.remove_prefix(1);
  while (!m.empty() && (m.back() == '\n' || m.back() == '\r' || m.back() == ' ')) m.remove_suffix(1);
  // Only the first word: "-ERR USER_BUSY" but also "NO_ANSWER [reason]".
  m = m.substr(0, m.find(' '));
  return parse_cause(m);
}

}  // namespace costrix::esl

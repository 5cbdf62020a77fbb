// esl::cause: FreeSWITCH's hangup causes (switch_call_cause_t), by name and number.
#pragma once

#include <costrix/error.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace costrix::esl {

/// Every hangup cause FreeSWITCH knows (switch_types.h, CAUSE_CHART in
/// switch_channel.c), with FreeSWITCH's number as the value: 1 to 127 are the
/// Q.850 cause codes, 142 and above FreeSWITCH's own. `to_string()` gives the
/// name FreeSWITCH writes ("USER_BUSY"); `parse_cause()` reads it back.
/// `unknown` stands for a name or number not in the list (a newer
/// FreeSWITCH's): it compares, prints ("UNKNOWN") and can be given like any other.
enum class cause : std::uint16_t {
  none = 0,
  unallocated_number = 1,
  no_route_transit_net = 2,
  no_route_destination = 3,
  channel_unacceptable = 6,
  call_awarded_delivered = 7,
  normal_clearing = 16,
  user_busy = 17,
  no_user_response = 18,
  no_answer = 19,
  subscriber_absent = 20,
  call_rejected = 21,
  number_changed = 22,
  redirection_to_new_destination = 23,
  exchange_routing_error = 25,
  destination_out_of_order = 27,
  invalid_number_format = 28,
  facility_rejected = 29,
  response_to_status_enquiry = 30,
  normal_unspecified = 31,
  normal_circuit_congestion = 34,
  network_out_of_order = 38,
  normal_temporary_failure = 41,
  switch_congestion = 42,
  access_info_discarded = 43,
  requested_chan_unavail = 44,
  pre_empted = 45,
  facility_not_subscribed = 50,
  outgoing_call_barred = 52,
  incoming_call_barred = 54,
  bearercapability_notauth = 57,
  bearercapability_notavail = 58,
  service_unavailable = 63,
  bearercapability_notimpl = 65,
  chan_not_implemented = 66,
  facility_not_implemented = 69,
  service_not_implemented = 79,
  invalid_call_reference = 81,
  incompatible_destination = 88,
  invalid_msg_unspecified = 95,
  mandatory_ie_missing = 96,
  message_type_nonexist = 97,
  wrong_message = 98,
  ie_nonexist = 99,
  invalid_ie_contents = 100,
  wrong_call_state = 101,
  recovery_on_timer_expire = 102,
  mandatory_ie_length_error = 103,
  protocol_error = 111,
  interworking = 127,
  success = 142,
  originator_cancel = 487,
  crash = 500,
  system_shutdown = 501,
  lose_race = 502,
  manager_request = 503,
  blind_transfer = 600,
  attended_transfer = 601,
  allotted_timeout = 602,
  user_challenge = 603,
  media_timeout = 604,
  picked_off = 605,
  user_not_registered = 606,
  progress_timeout = 607,
  invalid_gateway = 608,
  gateway_down = 609,
  invalid_url = 610,
  invalid_profile = 611,
  no_pickup = 612,
  srtp_read_error = 613,
  bowout = 614,
  busy_everywhere = 615,
  decline = 616,
  does_not_exist_anywhere = 617,
  not_acceptable = 618,
  unwanted = 619,
  no_identity = 620,
  bad_identity_info = 621,
  unsupported_certificate = 622,
  invalid_identity = 623,
  stale_date = 624,
  unknown = 0xFFFF,  ///< a cause this list does not have
};

/// "USER_BUSY"; "UNKNOWN" for cause::unknown.
std::string_view to_string(cause c) noexcept;
/// FreeSWITCH's name in any case ("USER_BUSY", "user_busy"), or its number
/// ("17"), as FreeSWITCH's own str2cause reads them; anything else: cause::unknown.
cause parse_cause(std::string_view text) noexcept;
/// The Q.850 code (1-127) of the causes that have one; none for FreeSWITCH's own.
std::optional<unsigned> q850(cause c) noexcept;
/// Every cause of the list (not `unknown`), in FreeSWITCH's order.
std::span<const cause> all_causes() noexcept;

/// The hangup cause an error names: FreeSWITCH answers a failed `originate`
/// with `-ERR USER_BUSY`, and a session's verbs fail with `errc::hangup` and
/// the cause as their message. cause::unknown for any other error
/// (a timeout, a lost connection, a refusal that names no cause).
cause cause_of(const error& e) noexcept;

}  // namespace costrix::esl

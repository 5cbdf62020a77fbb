#include <costrix/ami/events.hpp>

#include <charconv>

namespace costrix::ami::event {
namespace {
std::string str(const proto::ami::message& m, std::string_view key) { return std::string(m.get(key).value_or("")); }
int num(const proto::ami::message& m, std::string_view key) {
  auto v = m.get(key);
  int n = -1;
  if (!v || std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc{}) return -1;
  return n;
}
bool yes(const proto::ami::message& m, std::string_view key) {
  auto v = m.get(key).value_or("");
  return v == "1" || proto::ami::iequals(v, "true") || proto::ami::iequals(v, "yes");
}
}  // namespace

newchannel newchannel::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .linkedid = str(m, "Linkedid"),
          .context = str(m, "Context"), .exten = str(m, "Exten"), .caller_id_num = str(m, "CallerIDNum"),
          .caller_id_name = str(m, "CallerIDName"), .state = num(m, "ChannelState")};
}
newstate newstate::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .state_desc = str(m, "ChannelStateDesc"),
          .state = num(m, "ChannelState")};
}
hangup hangup::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .linkedid = str(m, "Linkedid"),
          .cause_txt = str(m, "Cause-txt"), .cause = num(m, "Cause")};
}
dial_begin dial_begin::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .dest_channel = str(m, "DestChannel"),
          .dest_uniqueid = str(m, "DestUniqueid"), .dial_string = str(m, "DialString")};
}
dial_end dial_end::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .dest_channel = str(m, "DestChannel"),
          .dest_uniqueid = str(m, "DestUniqueid"), .dial_status = str(m, "DialStatus")};
}
var_set var_set::from(const proto::ami::message& m) {
  return {.channel = str(m, "Channel"), .uniqueid = str(m, "Uniqueid"), .variable = str(m, "Variable"),
          .value = str(m, "Value")};
}
originate_response originate_response::from(const proto::ami::message& m) {
  return {.action_id = std::string(m.action_id()), .response = str(m, "Response"), .channel = str(m, "Channel"),
          .uniqueid = str(m, "Uniqueid"), .reason = num(m, "Reason")};
}
queue_member_status queue_member_status::from(const proto::ami::message& m) {
  return {.queue = str(m, "Queue"), .member_name = str(m, "MemberName"), .interface = str(m, "Interface"),
          .status = num(m, "Status"), .paused = yes(m, "Paused")};
}
user_event user_event::from(const proto::ami::message& m) { return {.event_name = str(m, "UserEvent")}; }

}  // namespace costrix::ami::event

// ami::event: a few call events as small structs, decoded from a message.
#pragma once

#include <costrix/proto/ami/message.hpp>

#include <concepts>
#include <string>
#include <string_view>

namespace costrix::ami::event {

/// What client::on<E>() and typed streams take: the event's `name` and
/// `static E from(const proto::ami::message&)`. Missing headers are empty
/// strings (and -1 for numbers).
template <class E>
concept typed_event = requires(const proto::ami::message& m) {
  std::string_view(E::name);
  { E::from(m) } -> std::same_as<E>;
};

struct newchannel {
  static constexpr std::string_view name = "Newchannel";
  std::string channel, uniqueid, linkedid, context, exten, caller_id_num, caller_id_name;
  int state = -1;  ///< ChannelState: 0 down, 4 ring, 5 ringing, 6 up ...
  static newchannel from(const proto::ami::message& m);
};
struct newstate {
  static constexpr std::string_view name = "Newstate";
  std::string channel, uniqueid, state_desc;
  int state = -1;
  static newstate from(const proto::ami::message& m);
};
struct hangup {
  static constexpr std::string_view name = "Hangup";
  std::string channel, uniqueid, linkedid, cause_txt;
  int cause = -1;  ///< Q.850 cause: 16 normal clearing, 17 busy ...
  static hangup from(const proto::ami::message& m);
};
struct dial_begin {
  static constexpr std::string_view name = "DialBegin";
  std::string channel, uniqueid, dest_channel, dest_uniqueid, dial_string;
  static dial_begin from(const proto::ami::message& m);
};
struct dial_end {
  static constexpr std::string_view name = "DialEnd";
  std::string channel, uniqueid, dest_channel, dest_uniqueid, dial_status;  ///< ANSWER, BUSY, NOANSWER...
  static dial_end from(const proto::ami::message& m);
};
struct var_set {
  static constexpr std::string_view name = "VarSet";
  std::string channel, uniqueid, variable, value;  ///< channel "none" for a global variable
  static var_set from(const proto::ami::message& m);
};
struct originate_response {
  static constexpr std::string_view name = "OriginateResponse";
  std::string action_id, response, channel, uniqueid;
  int reason = -1;
  static originate_response from(const proto::ami::message& m);
};
struct queue_member_status {
  static constexpr std::string_view name = "QueueMemberStatus";
  std::string queue, member_name, interface;
  int status = -1;  ///< device state: 1 not in use, 2 in use, 5 unavailable ...
  bool paused = false;
  static queue_member_status from(const proto::ami::message& m);
};
struct user_event {
  static constexpr std::string_view name = "UserEvent";
  std::string event_name;  ///< the `UserEvent:` header: the name the sender gave
  static user_event from(const proto::ami::message& m);
};

}  // namespace costrix::ami::event

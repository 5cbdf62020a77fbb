// proto::ami::login_key: the `Key` of an MD5 (challenge) login.
#pragma once

#include <string>
#include <string_view>

namespace costrix::proto::ami {

/// md5(challenge + secret) in lowercase hex: what `Action: Login` with
/// `AuthType: MD5` carries as `Key` after `Action: Challenge` gave `challenge`.
std::string login_key(std::string_view challenge, std::string_view secret);

/// MD5 (RFC 1321) of `input`, in lowercase hex.
std::string md5_hex(std::string_view input);

}  // namespace costrix::proto::ami

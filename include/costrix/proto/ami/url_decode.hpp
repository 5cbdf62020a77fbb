// proto::ami::url_decode: the URL-encoded values of AsyncAGI events.
#pragma once

#include <string>
#include <string_view>

namespace costrix::proto::ami {

/// Decodes an AMI value that Asterisk URL-encodes: AsyncAGIStart's `Env` (the
/// AGI environment block) and AsyncAGIExec's `Result` (the AGI reply line).
/// `%XX` becomes its byte (`%00` a NUL kept in the string); malformed escapes
/// are kept as they are; `+` becomes a space.
///
/// This is `proto::agi::url_decode`: Asterisk encodes these values with
/// `ast_uri_encode`, which writes every byte that is not alphanumeric or one of
/// `-_.!~*'()` as `%XX` (a '+' as `%2B`), so a bare '+' never stands for itself
/// and both codecs can share one decoder.
std::string url_decode(std::string_view s);

}  // namespace costrix::proto::ami

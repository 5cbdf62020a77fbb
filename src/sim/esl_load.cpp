#include "esl_load.hpp"

#include <fmt/format.h>

namespace costrix::sim::detail {

awaitable<result<std::size_t>> esl_load_call(boost::asio::ip::tcp::endpoint server, const load_options& options,
                                             std::uint64_t n) {
  esl_call call = options.esl;
  call.uuid = fmt::format("{:08x}-0000-4000-8000-{:012x}", static_cast<std::uint32_t>(n >> 32),
                          n & 0xFFFF'FFFF'FFFFull);
  call.caller_id_number = std::to_string(5550000 + n % 10000);
  auto r = co_await call_esl_outbound(server, std::move(call), options.stall_timeout);
  if (!r) co_return fail(std::move(r).error());
  // `connect` is the first command of every call: a server that sent nothing else did no work.
  if (r->commands.size() <= 1) co_return fail(errc::protocol, "closed without sending a command");
  co_return r->commands.size();
}

}  // namespace costrix::sim::detail

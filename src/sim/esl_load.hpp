// The ESL side of sim::run_load (load.cpp keeps the counting).
#pragma once

#include <costrix/sim/load.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>

namespace costrix::sim::detail {

/// Call number `n` of a load run as FreeSWITCH's `socket` application makes
/// it: the number of commands the server sent, or why the call failed.
awaitable<result<std::size_t>> esl_load_call(boost::asio::ip::tcp::endpoint server, const load_options& options,
                                             std::uint64_t n);

}  // namespace costrix::sim::detail

// costrix-load --soak: a constant-rate run for a long time, with a line every
// few seconds giving the calls and the memory and descriptors of the
// generator and of a watched server process.
#pragma once

#include <costrix/sim/load.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <sys/types.h>

namespace costrix_load {

struct soak_options {
  std::chrono::seconds interval{10};  ///< a line this often
  pid_t watch_pid = 0;                ///< 0: no watched process
};

/// Resident memory (VmRSS, KiB) and open descriptors of a process, from /proc;
/// nullopt once the process is gone.
struct process_usage {
  std::uint64_t rss_kib = 0;
  std::uint64_t fds = 0;
};
std::optional<process_usage> read_process_usage(pid_t pid);

/// Runs the load (which should have a rate and a duration), printing a line
/// every `soak.interval` to `out` until it ends; returns its report.
costrix::sim::load_report run_soak(const costrix::sim::load_options& load, const soak_options& soak, std::FILE* out);

}  // namespace costrix_load

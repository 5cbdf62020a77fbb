#include <costrix/io/graceful.hpp>
#include <costrix/log.hpp>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace costrix {
namespace {

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::string> argv;
  for (std::size_t at = 0; at < all.size();) {
    auto end = all.find('\0', at);
    if (end == std::string::npos) end = all.size();
    argv.push_back(all.substr(at, end - at));
    at = end + 1;
  }
  return argv;
}

// argv[0] as execve needs it: a path, looked up in PATH when it has no '/'.
std::string program_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t at = 0; at <= dirs.size();) {
    auto end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = (end == at ? std::string(".") : dirs.substr(at, end - at)) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    at = end + 1;
  }
  return name;
}

// Writes `value` in decimal at `out` (async-signal-safe: used between fork and exec).
void write_decimal(char* out, long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

}  // namespace

result<int> spawn_with_listeners(const std::vector<std::string>& argv, std::span<const int> fds) {
  if (argv.empty() || argv[0].empty()) return fail(errc::invalid_argument, "hand-over: no program to start");
  // Everything the child needs is prepared before fork: between fork and exec
  // only async-signal-safe calls are allowed (the runtime has other threads).
  std::string path = program_path(argv[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string_view entry = *e;
    if (!entry.starts_with("LISTEN_FDS=") && !entry.starts_with("LISTEN_PID=") &&
        !entry.starts_with("LISTEN_FDNAMES="))
      env_strings.emplace_back(entry);
  }
  env_strings.push_back("LISTEN_FDS=" + std::to_string(fds.size()));
  env_strings.push_back("LISTEN_PID=" + std::string(24, '0'));  // the child writes its pid here
  std::vector<char*> env;
  for (auto& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  char* pid_digits = env_strings.back().data() + std::strlen("LISTEN_PID=");
  std::vector<int> source(fds.begin(), fds.end());
  int target_end = 3 + static_cast<int>(source.size());

  int status_pipe[2];  // closed by a successful exec; carries errno otherwise
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) return fail(errc::failed, std::string("hand-over: pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(status_pipe[0]);
    ::close(status_pipe[1]);
    return fail(errc::failed, std::string("hand-over: fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    // Copies above the target range first, so that moving one to 3+i never
    // overwrites another still to be moved; dup2's copy has no FD_CLOEXEC.
    for (auto& fd : source) fd = ::fcntl(fd, F_DUPFD_CLOEXEC, target_end);
    for (std::size_t i = 0; i < source.size(); ++i) ::dup2(source[i], 3 + static_cast<int>(i));
    if (status_pipe[1] < target_end) {  // moved away from the descriptors just placed
      int moved = ::fcntl(status_pipe[1], F_DUPFD_CLOEXEC, target_end);
      status_pipe[1] = moved;
    }
    write_decimal(pid_digits, static_cast<long>(::getpid()));
    ::execve(path.c_str(), args.data(), env.data());
    int e = errno;
    [[maybe_unused]] auto n = ::write(status_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(status_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    return fail(errc::failed, "hand-over: cannot run " + path + ": " + std::strerror(child_errno));
  }
  return static_cast<int>(pid);
}

graceful::graceful(runtime& rt, graceful_options options)
    : rt_(rt), options_(std::move(options)), signals_(rt.context(0), SIGTERM, SIGINT, SIGUSR2) {}

graceful& graceful::add(std::vector<int> listening_fds, stop_function stop) {
  fds_.insert(fds_.end(), listening_fds.begin(), listening_fds.end());
  stops_.push_back(std::move(stop));
  return *this;
}

void graceful::start() { wait(); }

void graceful::wait() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    on_signal(signal);
    wait();
  });
}

void graceful::on_signal(int signal) {
  if (draining_) {
    if (signal == SIGUSR2) return;
    log(log_level::warning, "second stop signal: exiting without waiting for the calls in flight");
    std::_Exit(1);
  }
  if (signal == SIGUSR2) {
    auto argv = options_.successor.empty() ? own_command_line() : options_.successor;
    auto pid = spawn_with_listeners(argv, fds_);
    if (!pid) {
      log(log_level::error, pid.error().what() + "; still serving");
      return;
    }
    log(log_level::warning, fmt::format("handed the listening sockets over to pid {}; draining", *pid));
  } else {
    log(log_level::warning, fmt::format("{}: draining the calls in flight ({} ms at most)",
                                        signal == SIGTERM ? "SIGTERM" : "SIGINT", options_.drain.count()));
  }
  drain();
}

void graceful::drain() {
  draining_ = true;
  running_ = stops_.size();
  if (running_ == 0) {
    rt_.stop();
    return;
  }
  auto& first = rt_.context(0);
  for (auto& stop : stops_) {
    // on_stopped runs on any runtime thread: count on the first one.
    stop(options_.drain, [this, &first] {
      boost::asio::post(first, [this] {
        if (--running_ == 0) rt_.stop();
      });
    });
  }
}

}  // namespace costrix

#include <costrix/io/runtime.hpp>

#include <pthread.h>
#include <sched.h>

namespace costrix {

runtime::runtime(runtime_options options) : options_(options) {
  unsigned n = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  cores_.reserve(n);
  for (unsigned i = 0; i < n; ++i) cores_.push_back(std::make_unique<core>());
}

runtime::~runtime() {
  stop();
  join();
}

void runtime::start() {
  if (!threads_.empty()) return;
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < size(); ++i) {
    threads_.emplace_back([this, i, hw] {
      if (options_.pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(i % hw, &set);
        pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
      }
      cores_[i]->context.run();
    });
  }
}

void runtime::run() {
  start();
  join();
}

void runtime::stop() noexcept {
  for (auto& c : cores_) {
    c->work.reset();
    c->context.stop();
  }
}

void runtime::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace costrix

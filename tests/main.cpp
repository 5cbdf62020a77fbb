#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "alloc_counter.hpp"

#include <csignal>
#include <cstdlib>
#include <new>

// Every heap allocation of the test process is counted per thread, so a test can
// show that a hot path allocates nothing.
namespace costrix::test {
thread_local std::size_t allocation_count = 0;
std::size_t allocations() noexcept { return allocation_count; }

// A peer that closes while we write must be an error value, not SIGPIPE.
static const bool sigpipe_ignored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();
}

#if COSTRIX_COUNT_ALLOCATIONS
void* operator new(std::size_t n) {
  ++costrix::test::allocation_count;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  ++costrix::test::allocation_count;
  std::size_t align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif

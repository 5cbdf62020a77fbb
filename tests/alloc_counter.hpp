// Counts heap allocations made by the calling thread (tests/main.cpp replaces operator new).
#pragma once

#include <cstddef>

namespace costrix::test {
extern thread_local std::size_t allocation_count;
}

// Test helper: a result's value as an optional, so CHECK can compare it.
#pragma once

#include <costrix/result.hpp>

#include <optional>

namespace costrix::test {

/// The value of a result, or nullopt for an error.
template <class T>
std::optional<T> val(const costrix::result<T>& r) {
  return r ? std::optional<T>{*r} : std::nullopt;
}

}  // namespace costrix::test

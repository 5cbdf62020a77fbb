// costrix::result<T>: the value of every call, or the error that stopped it.
#pragma once

#include <costrix/error.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/outcome/basic_result.hpp>
#include <boost/outcome/policy/base.hpp>
#include <boost/outcome/success_failure.hpp>
#include <boost/outcome/try.hpp>

#include <stdexcept>
#include <type_traits>

namespace costrix {

/// Thrown only when a program calls `.value()` on a result that holds an error.
class bad_result_access : public std::runtime_error {
 public:
  explicit bad_result_access(const costrix::error& e) : std::runtime_error(e.what()), error_(e) {}
  const costrix::error& error() const noexcept { return error_; }

 private:
  costrix::error error_;
};

namespace detail {
struct throw_policy : boost::outcome_v2::policy::base {
  template <class Impl>
  static constexpr void wide_value_check(Impl&& self) {
    if (!base::_has_value(self)) throw bad_result_access(base::_error(self));
  }
  template <class Impl>
  static constexpr void wide_error_check(Impl&& self) {
    if (!base::_has_error(self)) throw std::logic_error("costrix::result holds a value, not an error");
  }
};
}  // namespace detail

/// A Boost.Outcome result: `if (r)`, `r.value()`, `r.error()`, and, for a
/// value, `*r` and `r->member` (which throw `bad_result_access` on an error).
template <class T>
class result : public boost::outcome_v2::basic_result<T, error, detail::throw_policy> {
  using base = boost::outcome_v2::basic_result<T, error, detail::throw_policy>;

 public:
  using base::base;
  /// Holds `errc::failed` ("no result"). It exists because Asio's `co_spawn`
  /// default-constructs the value it reports beside an exception.
  result() : base(boost::outcome_v2::failure(costrix::error{errc::failed, "no result"})) {}

  decltype(auto) operator*() & requires(!std::is_void_v<T>) { return this->value(); }
  decltype(auto) operator*() const& requires(!std::is_void_v<T>) { return this->value(); }
  decltype(auto) operator*() && requires(!std::is_void_v<T>) { return std::move(*this).value(); }
  auto operator->() requires(!std::is_void_v<T>) { return &this->value(); }
  auto operator->() const requires(!std::is_void_v<T>) { return &this->value(); }
};

template <class T>
using awaitable = boost::asio::awaitable<T>;

/// `return costrix::fail(errc::usage, text);`
inline auto fail(errc c, std::string message = {}) {
  return boost::outcome_v2::failure(error{c, std::move(message)});
}
inline auto fail(error e) { return boost::outcome_v2::failure(std::move(e)); }
inline auto ok() { return boost::outcome_v2::success(); }

}  // namespace costrix

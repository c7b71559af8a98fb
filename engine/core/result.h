#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "engine/core/assert.h"
#include "engine/core/status.h"

namespace cpis::core {

// Either a value or an error. Ours because g++ 12 offers std::expected only under -std=c++2b.
// value() on an error (or error() on a value) is a bug in the caller and aborts through
// CPIS_ASSERT: check ok() first.
template <typename T, typename E = Status>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, E>, "Result needs distinct value and error types");

 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    CPIS_ASSERT(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    CPIS_ASSERT(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    CPIS_ASSERT(ok());
    return std::get<0>(std::move(v_));
  }
  const E& error() const& {
    CPIS_ASSERT(!ok());
    return std::get<1>(v_);
  }
  E&& error() && {
    CPIS_ASSERT(!ok());
    return std::get<1>(std::move(v_));
  }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  template <typename U>
  T valueOr(U&& fallback) const& {
    return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> v_;
};

}  // namespace cpis::core

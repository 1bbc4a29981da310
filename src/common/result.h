#pragma once
// ValueOr<T, E>: a value or a subsystem's error value (std::expected is
// C++23). Each subsystem names its own `Result<T>` after its error type:
//   template <typename T> using Result = ValueOr<T, Error>;

#include <utility>
#include <variant>

#include "common/assert.h"

namespace dmq {

template <typename T, typename E>
class ValueOr {
 public:
  ValueOr(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  ValueOr(E error) : data_(std::move(error)) {}  // NOLINT
  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& {
    DMQ_ASSERT(ok());
    return std::get<0>(data_);
  }
  T& value() & {
    DMQ_ASSERT(ok());
    return std::get<0>(data_);
  }
  // By value, so `for (auto& x : f().value())` does not dangle.
  T value() && {
    DMQ_ASSERT(ok());
    return std::get<0>(std::move(data_));
  }
  const E& error() const {
    DMQ_ASSERT(!ok());
    return std::get<1>(data_);
  }

 private:
  std::variant<T, E> data_;
};

}  // namespace dmq

#pragma once
// StrongId: the project's one template for identifiers and counters that are
// integers on the wire but must not be mixed up in code (a term is never an
// index, a broker id never a leader epoch). Header-only, so the pure cores
// (raft, cluster) can use it without linking anything.
//
//   using Term = StrongId<struct TermTag, uint64_t>;
//   Term t{3};  t.value == 3;  t.next() == Term{4};

#include <compare>
#include <ostream>

namespace dmq {

template <typename Tag, typename Rep>
struct StrongId {
  using rep = Rep;
  Rep value{};
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  constexpr auto operator<=>(const StrongId&) const = default;
  constexpr StrongId next() const { return StrongId(value + 1); }
  // Saturates at zero for unsigned counters (index 0 means "none").
  constexpr StrongId prev() const {
    if constexpr (Rep(0) - Rep(1) > Rep(0)) {
      return StrongId(value == 0 ? 0 : value - 1);
    } else {
      return StrongId(value - 1);
    }
  }
};

template <typename Tag, typename Rep>
std::ostream& operator<<(std::ostream& out, StrongId<Tag, Rep> id) {
  return out << id.value;
}

}  // namespace dmq

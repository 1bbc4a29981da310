// libFuzzer target: the client quota parsers. POST /v1/quotas bodies come
// from any REST client; whatever the input, parsing ends in a valid
// alteration or a reason, and a valid one re-encodes (as a broker sends it
// for AlterClientQuotas) to JSON that parses back to the same alteration
// (values within a relative 1e-12: RapidJSON's default number parse may
// differ from the written double in the last bit).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "quota/quota_json.h"

using namespace dmq::quota;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(bytes), size);
  auto parsed = parse_alteration(body);
  auto* a = std::get_if<Alteration>(&parsed);
  if (!a) {
    if (std::get<std::string>(parsed).empty()) __builtin_trap();  // a refusal names its reason
    return 0;
  }
  if (validate_alteration(*a)) __builtin_trap();
  auto again = parse_alteration(alteration_to_json(*a));
  auto* b = std::get_if<Alteration>(&again);
  if (!b || b->entity != a->entity || b->ops.size() != a->ops.size() ||
      b->validate_only != a->validate_only)
    __builtin_trap();
  for (size_t i = 0; i < a->ops.size(); ++i) {
    const auto& x = a->ops[i];
    const auto& y = b->ops[i];
    if (x.key != y.key || x.value.has_value() != y.value.has_value()) __builtin_trap();
    if (x.value && std::fabs(*x.value - *y.value) > 1e-12 * std::fabs(*x.value)) __builtin_trap();
  }
  for (Kind kind : {Kind::kProduce, Kind::kFetch, Kind::kRequest}) {
    QuotaTable table;
    for (const auto& op : a->ops)
      if (op.value) table[a->entity][op.key] = *op.value;
    (void)resolve(table, kind, "u", "c", 1.0);
  }
  return 0;
}

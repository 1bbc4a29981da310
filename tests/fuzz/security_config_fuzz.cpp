// libFuzzer target: the ACL parsers (REST JSON fields, binary records, which
// must re-encode to the same bytes), super.users, listener options, the
// cluster-auth header, and ssl.principal.mapping.rules with the certificate
// subjects they map (a subject comes from a client certificate).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "security/acl.h"
#include "security/authorizer.h"
#include "security/cluster_auth.h"
#include "security/listeners.h"
#include "security/principal_mapping.h"

using namespace dmq::security;

namespace {

void acl_json(std::string_view data) {
  auto fields = acl_fields_from_json(data);
  if (!fields) return;
  (void)acl_filter_from_fields(fields.value());
  auto binding = acl_binding_from_fields(fields.value());
  if (!binding) return;
  auto again =
      acl_binding_from_fields(acl_fields_from_json(acl_binding_to_json(binding.value())).value());
  if (!again || !(again.value() == binding.value())) __builtin_trap();
}

void acl_record(std::string_view data) {
  auto binding = decode_acl_binding(data);
  if (binding && encode_acl_binding(binding.value()) != data) __builtin_trap();
}

void listeners(std::string_view data) {
  size_t cut = data.find('|');
  auto map = parse_protocol_map(cut == std::string_view::npos ? "" : data.substr(cut + 1));
  if (!map) return;
  auto ls = parse_listeners(data.substr(0, cut), map.value());
  if (ls) (void)parse_advertised_listeners(data.substr(0, cut), ls.value(), map.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  switch (bytes[0] % 7) {
    case 0:
      acl_json(data);
      break;
    case 1:
      acl_record(data);
      break;
    case 2:
      (void)parse_super_users(data);
      break;
    case 3:
      listeners(data);
      break;
    case 4: {
      static ClusterRequestVerifier verifier(std::string(32, 's'));
      (void)verifier.verify({"POST", "/internal/x", "body"}, data, 1'700'000'000'000);
      break;
    }
    case 5: {
      // The controller's DELETE /v1/acls answer, read by a broker.
      auto list = acl_bindings_from_json(data, "deleted");
      if (list && acl_bindings_from_json(acl_bindings_to_json("deleted", list.value()), "deleted")
                          .value() != list.value())
        __builtin_trap();
      break;
    }
    case 6: {
      // Rules before the first '|', a subject after it; and Kafka's CN rule
      // over the whole input as a subject.
      static const SslPrincipalMapper cn_rule =
          SslPrincipalMapper::parse("RULE:^CN=(.*?),.*$/$1/L,DEFAULT").value();
      (void)cn_rule.name_of(data);
      size_t cut = data.find('|');
      if (cut == std::string_view::npos) break;
      auto mapper = SslPrincipalMapper::parse(data.substr(0, cut));
      if (mapper) (void)mapper.value().name_of(data.substr(cut + 1));
      break;
    }
  }
  return 0;
}

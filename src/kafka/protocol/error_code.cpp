#include "kafka/protocol/error_code.h"

namespace dmq::kafka {

std::string_view error_name(ErrorCode code) {
  switch (code) {
#define DMQ_KAFKA_ERROR_NAME(name, value) \
  case ErrorCode::name:                   \
    return #name;
    DMQ_KAFKA_ERROR_CODES(DMQ_KAFKA_ERROR_NAME)
#undef DMQ_KAFKA_ERROR_NAME
  }
  return "UNKNOWN";
}

}  // namespace dmq::kafka

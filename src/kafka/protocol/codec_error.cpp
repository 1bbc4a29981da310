#include "kafka/protocol/io.h"

namespace dmq::kafka {

std::string_view codec_error_name(CodecError error) {
  switch (error) {
    case CodecError::kTruncated:
      return "truncated";
    case CodecError::kBadLength:
      return "bad length";
    case CodecError::kUnexpectedNull:
      return "unexpected null";
    case CodecError::kBadVarint:
      return "bad varint";
    case CodecError::kTooManyElements:
      return "array larger than the frame";
    case CodecError::kUnsupportedVersion:
      return "unsupported version";
    case CodecError::kUnknownApiKey:
      return "unknown API key";
    case CodecError::kInvalidValue:
      return "invalid value";
    case CodecError::kOk:
      break;
  }
  return "ok";
}

}  // namespace dmq::kafka

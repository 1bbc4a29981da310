#include "security/random.h"

#include <openssl/rand.h>

#include "common/assert.h"

namespace dmq::security {

void OsRandomSource::fill(char* out, size_t size) {
  int rc = RAND_bytes(reinterpret_cast<unsigned char*>(out), static_cast<int>(size));
  DMQ_ASSERT(rc == 1);
}

}  // namespace dmq::security

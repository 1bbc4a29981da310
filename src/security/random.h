#pragma once
// Randomness is injected: the pure parts (SCRAM nonces and salts, cluster
// request nonces) take a RandomSource&, so tests can replay a fixed stream.
// Production code passes an OsRandomSource.

#include <cstddef>
#include <string>

namespace dmq::security {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out[0, size)` with random bytes. Must not fail.
  virtual void fill(char* out, size_t size) = 0;
  std::string bytes(size_t size) {
    std::string s(size, '\0');
    if (size > 0) fill(s.data(), size);
    return s;
  }
};

// OpenSSL's CSPRNG (RAND_bytes). Thread-safe. Aborts if the CSPRNG fails:
// nothing secure can continue without randomness.
class OsRandomSource : public RandomSource {
 public:
  void fill(char* out, size_t size) override;
};

}  // namespace dmq::security

#pragma once
// How a client command fails. A command aborts on the first failure it cannot
// retry and prints one line, so failures travel as exceptions from deep inside
// the Kafka client up to run_client(), which maps them to an exit code. Retries
// (NOT_LEADER, metadata refresh, coordinator moves) happen below that line and
// never surface as ClientError.

#include <stdexcept>
#include <string>

namespace dmq::client {

// Exit codes (DESIGN.md section 2): 1 runtime failure, 2 bad usage.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

class ClientError : public std::runtime_error {
 public:
  explicit ClientError(const std::string& message, int exit_code = kExitFailure)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// A broker could not be reached or dropped the connection mid-request. Callers
// that route by leader treat it like NOT_LEADER: the broker may be dead and its
// partitions about to move, so they refresh the metadata and retry.
class BrokerUnavailable : public ClientError {
 public:
  using ClientError::ClientError;
};

// Bad input from the command line or stdin that only shows after parsing
// (an unknown compression codec, a header without '=').
inline ClientError usage_error(const std::string& message) {
  return ClientError(message, kExitUsage);
}

}  // namespace dmq::client

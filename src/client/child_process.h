#pragma once
// Running a command per record (`dmq consume --share G --exec CMD`): the
// command runs under /bin/sh -c with the record's value on its stdin and
// the record's coordinates in its environment; its stdout is the consumer's;
// the tail of its stderr is kept as the failure reason.

#include <map>
#include <string>
#include <string_view>

namespace dmq::client {

struct CommandResult {
  int exit_code = 0;        // the command's exit status; 128 + N when killed by signal N
  std::string stderr_tail;  // at most the last 1 KiB of what it wrote to stderr
};

// Runs `command` with `input` on stdin and `env` added to this process's
// environment, and waits for it. Throws ClientError when it cannot start.
CommandResult run_command(const std::string& command, std::string_view input,
                          const std::map<std::string, std::string>& env);

}  // namespace dmq::client

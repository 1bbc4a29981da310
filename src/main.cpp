// dmq: one binary for every role. `dmq topic|produce|consume|group|cluster|
// bench ...` runs a client command; anything else parses the node options and
// runs a node.

#include <cstdio>
#include <iostream>

#include "client/commands.h"
#include "common/log.h"
#include "common/options.h"
#include "modes/node.h"

int main(int argc, char** argv) {
  if (dmq::client::is_client_command(argc, argv)) return dmq::client::run_client(argc, argv);
  dmq::Options options;
  auto outcome = dmq::parse_options(argc, argv, &options);
  if (outcome.action == dmq::ParseOutcome::Action::kExit) {
    if (outcome.exit_code == 0) {
      std::cout << outcome.output;
      // The node parser knows nothing of the client commands; its help does.
      if (outcome.output.find("Usage:") != std::string::npos) {
        std::cout << "\nClient commands: dmq topic|produce|consume|group|cluster|bench "
                     "(dmq <command> --help)\n";
      }
    } else {
      std::cerr << outcome.output << "\n";
    }
    return outcome.exit_code;
  }
  dmq::log::Level level{};
  dmq::log::Format format{};
  dmq::log::parse_level(options.log_level, &level);
  dmq::log::parse_format(options.log_format, &format);
  dmq::log::configure(level, format);
  return dmq::modes::run_node(options);
}

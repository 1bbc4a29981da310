// run_client(): parse, dispatch, and turn failures into one stderr line and
// an exit code.

#include <iostream>

#include "client/commands.h"

namespace dmq::client {

int run_client(int argc, const char* const* argv) {
  ParseResult parsed = parse_client_args(argc, argv);
  if (!parsed.invocation) {
    if (parsed.exit_code == 0) {
      std::cout << parsed.output;
    } else {
      std::cerr << parsed.output << "\n";
    }
    return parsed.exit_code;
  }
  const Invocation& inv = *parsed.invocation;
  try {
    if (inv.command == "topic") return run_topic(inv);
    if (inv.command == "produce") return run_produce(inv);
    if (inv.command == "consume") return run_consume(inv);
    if (inv.command == "group") return run_group(inv);
    if (inv.command == "cluster") return run_cluster(inv);
    return run_bench(inv);
  } catch (const ClientError& e) {
    std::cerr << "dmq " << inv.command << ": " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "dmq " << inv.command << ": " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace dmq::client

// raft_sim: runs the Raft cluster simulator over seeds.
//
//   raft_sim --seed 12345 --nodes 5 --verbose     replay one seed, with a trace
//   raft_sim --seeds 1-500 --nodes 3              run a range; stop at a failure
//   raft_sim --seeds 1-300 --broken commit-previous-term --expect-violation
//       passes only if the checker catches the deliberately broken variant

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim.h"

using dmq::raft::sim::Broken;
using dmq::raft::sim::run_simulation;
using dmq::raft::sim::SimOptions;
using dmq::raft::sim::SimResult;

namespace {

const char* broken_flag(Broken b) {
  switch (b) {
    case Broken::kCommitPreviousTerm:
      return " --broken commit-previous-term";
    case Broken::kSendBeforePersist:
      return " --broken send-before-persist";
    case Broken::kNone:
      return "";
  }
  return "";
}

int usage() {
  std::fprintf(
      stderr,
      "usage: raft_sim (--seed N | --seeds A-B) [--nodes 3|5] [--verbose] [--trace-messages]\n"
      "                [--broken commit-previous-term|send-before-persist]\n"
      "                [--expect-violation] [--safety-time T] [--heal-time T]\n"
      "                [--fault-scale X] [--batch-bytes N]\n"
      "                [--early-leader-crash P]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  SimOptions opt;
  uint64_t first = 1;
  uint64_t last = 1;
  bool expect_violation = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--seed") {
      first = last = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--seeds") {
      std::string v = value();
      size_t dash = v.find('-');
      if (dash == std::string::npos) return usage();
      first = std::strtoull(v.substr(0, dash).c_str(), nullptr, 10);
      last = std::strtoull(v.substr(dash + 1).c_str(), nullptr, 10);
    } else if (a == "--nodes") {
      opt.nodes = std::atoi(value().c_str());
    } else if (a == "--verbose") {
      opt.verbose = true;
    } else if (a == "--trace-messages") {
      opt.verbose = true;
      opt.trace_messages = true;
    } else if (a == "--expect-violation") {
      expect_violation = true;
    } else if (a == "--safety-time") {
      opt.safety_time = std::atoll(value().c_str());
    } else if (a == "--early-leader-crash") {
      opt.early_leader_crash = std::atof(value().c_str());
    } else if (a == "--batch-bytes") {
      opt.batch_bytes = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--fault-scale") {
      opt.fault_scale = std::atof(value().c_str());
    } else if (a == "--heal-time") {
      opt.heal_time = std::atoll(value().c_str());
    } else if (a == "--broken") {
      std::string v = value();
      if (v == "commit-previous-term") {
        opt.broken = Broken::kCommitPreviousTerm;
      } else if (v == "send-before-persist") {
        opt.broken = Broken::kSendBeforePersist;
      } else {
        return usage();
      }
    } else {
      return usage();
    }
  }
  if (opt.nodes < 1 || opt.nodes > 9 || first > last) return usage();

  auto started = std::chrono::steady_clock::now();
  uint64_t acked = 0, elections = 0, snapshots = 0, changes = 0, reads = 0;
  for (uint64_t seed = first; seed <= last; ++seed) {
    opt.seed = seed;
    SimResult r = run_simulation(opt);
    acked += r.acked_writes;
    elections += r.elections;
    snapshots += r.snapshots_installed;
    changes += r.config_changes;
    reads += r.reads_served;
    if (!r.ok) {
      std::printf("%s seed=%llu nodes=%d: %s\n", expect_violation ? "CAUGHT" : "FAILED",
                  static_cast<unsigned long long>(seed), opt.nodes, r.failure.c_str());
      std::printf("replay: raft_sim --seed %llu --nodes %d%s",
                  static_cast<unsigned long long>(seed), opt.nodes, broken_flag(opt.broken));
      if (opt.fault_scale != 1.0) std::printf(" --fault-scale %g", opt.fault_scale);
      if (opt.early_leader_crash != SimOptions{}.early_leader_crash) {
        std::printf(" --early-leader-crash %g", opt.early_leader_crash);
      }
      if (opt.batch_bytes != 0) std::printf(" --batch-bytes %zu", opt.batch_bytes);
      if (opt.safety_time != SimOptions{}.safety_time) {
        std::printf(" --safety-time %lld", static_cast<long long>(opt.safety_time));
      }
      if (opt.heal_time != SimOptions{}.heal_time) {
        std::printf(" --heal-time %lld", static_cast<long long>(opt.heal_time));
      }
      std::printf(" --verbose\n");
      return expect_violation ? 0 : 1;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "%llu seeds passed (nodes=%d) in %.1fs: %llu acknowledged writes, %llu leader terms, "
      "%llu snapshots installed, %llu voter changes applied, %llu reads served\n",
      static_cast<unsigned long long>(last - first + 1), opt.nodes, secs,
      static_cast<unsigned long long>(acked), static_cast<unsigned long long>(elections),
      static_cast<unsigned long long>(snapshots), static_cast<unsigned long long>(changes),
      static_cast<unsigned long long>(reads));
  if (expect_violation) {
    std::printf("FAILED: the broken variant was not caught in seeds %llu-%llu\n",
                static_cast<unsigned long long>(first), static_cast<unsigned long long>(last));
    return 1;
  }
  return 0;
}

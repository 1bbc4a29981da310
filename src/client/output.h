#pragma once
// Human output: aligned tables for a terminal, and a progress line on stderr
// that is shown only when stderr is a terminal (scripts and tests see none).

#include <cstdint>
#include <string>
#include <vector>

namespace dmq::client {

// Columns padded to their widest cell, two spaces apart, header first. Pure.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Rewrites one stderr line (carriage return) at most every 200 ms.
class Progress {
 public:
  Progress();  // enabled only if stderr is a terminal
  void update(const std::string& line);
  void finish();  // clears the line

 private:
  bool enabled_ = false;
  bool shown_ = false;
  int64_t last_ms_ = 0;
};

// Milliseconds on a monotonic clock, for rates and latencies.
int64_t monotonic_ms();
int64_t monotonic_us();
// Milliseconds since the epoch, for record timestamps.
int64_t wall_clock_ms();

}  // namespace dmq::client

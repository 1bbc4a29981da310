#pragma once
// Leveled, timestamped logging to stderr. Thread-safe: each line is written
// with a single write(2) so lines from different threads never interleave.
// Text: `2026-11-27T06:56:37.123Z INFO  raft: became leader term=3`
// JSON: `{"ts":"...","level":"info","component":"raft","msg":"became leader term=3"}`

#include <sstream>
#include <string>
#include <string_view>

namespace dmq::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

// Returns false for an unknown name.
bool parse_level(std::string_view name, Level* out);
bool parse_format(std::string_view name, Format* out);

void configure(Level min_level, Format format);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);

// Builds the message only when the level is enabled.
class Line {
 public:
  Line(Level level, std::string_view component) : level_(level), component_(component) {}
  ~Line() { write(level_, component_, stream_.str()); }
  template <typename T>
  Line& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  Level level_;
  std::string_view component_;
  std::ostringstream stream_;
};

}  // namespace dmq::log

#define DMQ_LOG(level, component)    \
  if (!::dmq::log::enabled(level)) { \
  } else                             \
    ::dmq::log::Line(level, component)
#define LOG_DEBUG(component) DMQ_LOG(::dmq::log::Level::kDebug, component)
#define LOG_INFO(component) DMQ_LOG(::dmq::log::Level::kInfo, component)
#define LOG_WARN(component) DMQ_LOG(::dmq::log::Level::kWarn, component)
#define LOG_ERROR(component) DMQ_LOG(::dmq::log::Level::kError, component)

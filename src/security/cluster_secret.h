#pragma once
// Loading the shared cluster secret (--cluster.secret.file). File I/O; call
// it once at startup (and on reload), from any thread.

#include <string>

#include "security/error.h"

namespace dmq::security {

inline constexpr size_t kClusterSecretMinBytes = 16;
inline constexpr size_t kClusterSecretMaxBytes = 4096;

// The file's contents without trailing whitespace (an editor's newline).
// kFileError, naming the path and the reason (never the contents), when the
// file cannot be opened, is not a regular file, is readable, writable or
// executable by group or others (it must be chmod 600 or 400), is larger
// than 4096 bytes, or holds fewer than 16 bytes of secret (empty included).
Result<std::string> load_cluster_secret(const std::string& path);

}  // namespace dmq::security

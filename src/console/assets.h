#pragma once
// The web console's static files, embedded in the binary at build time
// (cmake/embed_assets.cmake turns src/console/assets/* into a generated
// source): no CDN, no files on disk at run time.

#include <string_view>
#include <vector>

namespace dmq::console {

struct Asset {
  std::string_view name;   // "index.html", "app.js", ...
  std::string_view bytes;  // lives as long as the process
};

const std::vector<Asset>& assets();

}  // namespace dmq::console

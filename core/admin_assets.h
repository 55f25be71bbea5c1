// admin_assets: the dashboard page and its scripts and styles, bundled into
// the binary at build time from the files under core/admin_ui/ (by
// scripts/embed_assets.py, run by CMake and Bazel), so the gateway serves
// its own page with nothing fetched from elsewhere. Adding a file under
// core/admin_ui/ is all it takes to serve it (re-run cmake for CMake's glob).
#pragma once

#include <cstddef>
#include <string_view>

namespace mxs {

struct AdminAsset {
  std::string_view path;  // "/index.html", "/app.js"
  std::string_view content_type;
  std::string_view body;
};

// The generated table (admin_assets_data.cc), kAdminAssetCount entries.
extern const AdminAsset kAdminAssets[];
extern const size_t kAdminAssetCount;

// The asset served at `path` ("/" is "/index.html"); nullptr when none.
const AdminAsset* FindAdminAsset(std::string_view path);

}  // namespace mxs

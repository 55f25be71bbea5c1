// admin_assets: lookup in the generated asset table.
#include "core/admin_assets.h"

namespace mxs {

const AdminAsset* FindAdminAsset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (size_t i = 0; i < kAdminAssetCount; ++i) {
    if (kAdminAssets[i].path == path) return &kAdminAssets[i];
  }
  return nullptr;
}

}  // namespace mxs

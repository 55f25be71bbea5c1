/* abi_mismatch_plugin: claims plugin ABI 2.0, which the loader must refuse
 * naming both versions. */
#include "mxscreen/plugin/v1/mxscreen_plugin.h"

static void* create_config(const char* json, size_t len, char* error, size_t cap) {
  (void)json;
  (void)len;
  (void)error;
  (void)cap;
  return (void*)1;
}

static const mxs_plugin_v1 kDescription = {
    2,    0,    "abi_mismatch", "1",  0,    create_config, NULL, NULL,
    NULL, NULL, NULL,           NULL, NULL, NULL,          NULL};

MXS_PLUGIN_EXPORT const mxs_plugin_v1* MXS_PLUGIN_ENTRY(const mxs_host_v1* host) {
  (void)host;
  return &kDescription;
}

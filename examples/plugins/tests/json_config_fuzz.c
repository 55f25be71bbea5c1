/* json_config_fuzz: libFuzzer target of the examples' config reader. Any
 * input must parse or be refused with a message, never crash or leak; what
 * parses must be findable by its own keys. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/json_config.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char err[256];
  jc_object obj;
  static const char* const kKnown[] = {"limit", "checks", "reply", NULL};
  if (jc_parse((const char*)data, size, &obj, err, sizeof err) != 0) {
    if (err[0] == '\0') abort(); /* a refusal always says why */
    return 0;
  }
  for (size_t i = 0; i < obj.n_fields; ++i) {
    if (jc_find(&obj, obj.fields[i].key) != &obj.fields[i]) abort(); /* keys are unique */
  }
  (void)jc_check_keys(&obj, kKnown, err, sizeof err);
  jc_free(&obj);
  return 0;
}

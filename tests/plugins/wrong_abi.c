/* A plugin built for another ABI version (TEST_ABI_MAJOR.TEST_ABI_MINOR): the engine refuses
 * it before it reads anything but the version fields. */
#include <cpis/plugin.h>

static const cpis_plugin_descriptor descriptor = {TEST_ABI_MAJOR,
                                                  TEST_ABI_MINOR,
                                                  sizeof(cpis_plugin_descriptor),
                                                  CPIS_KIND_ADAPTER,
                                                  "wrongabi",
                                                  "1.0.0",
                                                  NULL,
                                                  0,
                                                  NULL,
                                                  NULL,
                                                  NULL,
                                                  NULL,
                                                  NULL};

const cpis_plugin_descriptor* cpis_plugin_entry(void) {
  return &descriptor;
}

/* A plugin whose configuration key table is wrong three ways: a bad name, a key declared
 * twice, and a default that is not of its type. The engine lists every problem at once. */
#include <cpis/plugin.h>

static cpis_instance* create(const cpis_host_api* host, const cpis_config* config, cpis_error* error) {
  (void)host;
  (void)config;
  (void)error;
  return NULL;
}
static void destroy(cpis_instance* instance) {
  (void)instance;
}
static cpis_status adapt(const cpis_instance* instance, const cpis_message* message,
                         cpis_attendance* attendance, cpis_error* error) {
  (void)instance;
  (void)message;
  (void)attendance;
  (void)error;
  return CPIS_OK;
}

static const cpis_config_key keys[] = {
    {"Bad-Name", CPIS_CONFIG_STRING, "", "not a valid name"},
    {"limit", CPIS_CONFIG_INT, "ten", "a default that is not an integer"},
    {"site", CPIS_CONFIG_STRING, NULL, "first"},
    {"site", CPIS_CONFIG_STRING, NULL, "second"},
};

static const cpis_plugin_descriptor descriptor = {CPIS_PLUGIN_ABI_MAJOR,
                                                  CPIS_PLUGIN_ABI_MINOR,
                                                  sizeof(cpis_plugin_descriptor),
                                                  CPIS_KIND_ADAPTER,
                                                  "badkeys",
                                                  "1.0.0",
                                                  keys,
                                                  4,
                                                  create,
                                                  destroy,
                                                  adapt,
                                                  NULL,
                                                  NULL};

const cpis_plugin_descriptor* cpis_plugin_entry(void) {
  return &descriptor;
}

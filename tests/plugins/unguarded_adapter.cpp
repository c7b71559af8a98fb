// An adapter written without the SDK's trampolines: its exceptions reach the C boundary. The
// engine must still turn them into a failure of that one message and carry on.
#include <stdexcept>

#include <cpis/plugin.h>

namespace {

struct Unguarded {
  const cpis_host_api* host;
};

cpis_instance* create(const cpis_host_api* host, const cpis_config*, cpis_error*) {
  return reinterpret_cast<cpis_instance*>(new Unguarded{host});
}
void destroy(cpis_instance* instance) {
  delete reinterpret_cast<Unguarded*>(instance);
}
cpis_status adapt(const cpis_instance*, const cpis_message*, cpis_attendance*, cpis_error*) {
  throw std::runtime_error("escaped through the C boundary");
}
cpis_status composeAlerts(const cpis_instance*, const cpis_outcome*, cpis_alert_writer*, cpis_error*) {
  throw 7;
}

const cpis_plugin_descriptor kDescriptor{CPIS_PLUGIN_ABI_MAJOR,
                                         CPIS_PLUGIN_ABI_MINOR,
                                         sizeof(cpis_plugin_descriptor),
                                         CPIS_KIND_ADAPTER,
                                         "unguarded",
                                         "0.0.1",
                                         nullptr,
                                         0,
                                         &create,
                                         &destroy,
                                         &adapt,
                                         &composeAlerts,
                                         nullptr};

}  // namespace

extern "C" CPIS_PLUGIN_EXPORT const cpis_plugin_descriptor* cpis_plugin_entry(void) {
  return &kDescriptor;
}

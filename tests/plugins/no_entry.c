/* A shared library that is not a plugin: it has no cpis_plugin_entry. */
__attribute__((visibility("default"))) int cpis_not_a_plugin(void) {
  return 1;
}

# cpis_add_plugin(<name> [KIND ADAPTER|SINK] SOURCES <file>...)
#
# Builds a cpis-engine plugin: a MODULE library libcpis-adapter-<name>.so (or
# libcpis-sink-<name>.so) in the target cpis-adapter-<name> (cpis-sink-<name>), compiled against
# the SDK (CpisPluginSdk::sdk), with every symbol hidden except cpis_plugin_entry. <name> is the
# name the plugin gives in its descriptor (CPIS_EXPORT_ADAPTER): the engine refuses a file whose
# name does not match it. Add your own dependencies with target_link_libraries(<target> PRIVATE
# ...): link them statically or make sure the engine's host has them, and they stay hidden.
include_guard(GLOBAL)

function(cpis_add_plugin name)
  cmake_parse_arguments(ARG "" "KIND" "SOURCES" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "cpis_add_plugin(${name}): unexpected arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR "cpis_add_plugin(${name}): a plugin name is lower-case letters, digits and '_'")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "cpis_add_plugin(${name}): no SOURCES")
  endif()
  if(NOT ARG_KIND)
    set(ARG_KIND ADAPTER)
  endif()
  string(TOUPPER "${ARG_KIND}" kind)
  if(kind STREQUAL "ADAPTER")
    set(target cpis-adapter-${name})
  elseif(kind STREQUAL "SINK")
    set(target cpis-sink-${name})
  else()
    message(FATAL_ERROR "cpis_add_plugin(${name}): KIND is ADAPTER or SINK, not ${ARG_KIND}")
  endif()

  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE CpisPluginSdk::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME ${target}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # Visibility hides our own code; the version script also hides what static libraries bring.
    set(map "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/cpis-plugin.map")
    target_link_options(${target} PRIVATE "LINKER:--version-script=${map}")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${map}")
  endif()
endfunction()

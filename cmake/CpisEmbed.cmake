# cpis_embed_file(<target> <file> HEADER <header> NAMESPACE <ns> FUNCTION <name>)
#
# Compiles <file> into <target>, byte for byte, as `std::string_view <ns>::<name>() noexcept`
# (declared in <header>, included by full path). The .cpp is generated at build time and again
# whenever <file> changes, so the copy in the binary cannot go stale. Used for schemas the
# engine validates against without installed files.
#
# The same file runs in script mode (cmake -P) to do the generating.

if(CMAKE_SCRIPT_MODE_FILE)
  file(READ "${INPUT}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REPEAT "0x[0-9a-f][0-9a-f]," 16 row)
  string(REGEX REPLACE "(${row})" "\\1\n    " bytes "${bytes}")
  file(WRITE "${OUTPUT}.tmp"
    "// Generated from ${SOURCE} by cmake/CpisEmbed.cmake at build time: do not edit.\n"
    "#include \"${HEADER}\"\n\n"
    "namespace ${NAMESPACE} {\n\n"
    "namespace {\n"
    "// The bytes and a terminating 0, so an empty file still makes a valid array.\n"
    "constexpr unsigned char kBytes[] = {\n    ${bytes}0x00};\n"
    "}  // namespace\n\n"
    "std::string_view ${FUNCTION}() noexcept {\n"
    "  return {reinterpret_cast<const char*>(kBytes), sizeof kBytes - 1};\n"
    "}\n\n"
    "}  // namespace ${NAMESPACE}\n")
  file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
  file(REMOVE "${OUTPUT}.tmp")
  return()
endif()

set(CPIS_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

function(cpis_embed_file target file)
  cmake_parse_arguments(ARG "" "HEADER;NAMESPACE;FUNCTION" "" ${ARGN})
  get_filename_component(input ${file} ABSOLUTE)
  file(RELATIVE_PATH source ${PROJECT_SOURCE_DIR} ${input})
  set(output ${CMAKE_CURRENT_BINARY_DIR}/${ARG_FUNCTION}.cpp)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${input} -DOUTPUT=${output} -DSOURCE=${source} -DHEADER=${ARG_HEADER}
            -DNAMESPACE=${ARG_NAMESPACE} -DFUNCTION=${ARG_FUNCTION} -P ${CPIS_EMBED_SCRIPT}
    DEPENDS ${input} ${CPIS_EMBED_SCRIPT}
    COMMENT "Embedding ${source} as ${ARG_NAMESPACE}::${ARG_FUNCTION}()"
    VERBATIM)
  target_sources(${target} PRIVATE ${output})
endfunction()

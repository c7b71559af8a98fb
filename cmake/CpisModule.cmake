# cpis_add_module(<name> SOURCES a.cpp b.cpp [DEPENDS cpis::x ...] [PRIVATE_DEPENDS ...])
#
# One folder = one target = one namespace: engine/hl7v2 builds the static library
# cpis_hl7v2, aliased cpis::hl7v2. Sources are listed explicitly so new files show in review.
# Headers are included by full path from the repository root ("engine/hl7v2/message.h").
function(cpis_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  add_library(cpis_${name} STATIC ${ARG_SOURCES})
  add_library(cpis::${name} ALIAS cpis_${name})
  target_include_directories(cpis_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(cpis_${name} PUBLIC ${ARG_DEPENDS} PRIVATE ${ARG_PRIVATE_DEPENDS})
endfunction()

# cpis_add_test(<module> SOURCES x_test.cpp ... [DEPENDS ...])
#
# One Boost.Test executable per module (test_<module>), registered with ctest and run
# from the repository root so tests can read tests/data/.
function(cpis_add_test module)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS" ${ARGN})
  set(target test_${module})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE cpis::${module} ${ARG_DEPENDS} Boost::unit_test_framework)
  target_compile_definitions(${target} PRIVATE BOOST_TEST_DYN_LINK
                                               CPIS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME ${target} COMMAND ${target} --log_level=message --report_level=short
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()

#define BOOST_TEST_MODULE test_cpis
#include <cstdlib>
#include <memory>

#include <boost/test/unit_test.hpp>

#include "engine/config/xerces_platform.h"
#include "tests/unit/cpis/cpis_test_support.h"

namespace {

// Xerces stays initialised for the whole run, and the schemas, once loaded, with it: they are
// destroyed first, then Xerces terminates.
struct XercesForTheRun {
  XercesForTheRun() { instance = this; }
  ~XercesForTheRun() {
    schemas.reset();
    instance = nullptr;
  }
  static inline XercesForTheRun* instance = nullptr;
  cpis::config::XercesPlatform platform;
  std::unique_ptr<::cpis::cpis::SpineSchemas> schemas;
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(XercesForTheRun);

namespace cpis::test {

std::filesystem::path spineSchemaFolder() {
  const char* setting = std::getenv("CPIS_SPINE_SCHEMAS");
  const std::filesystem::path folder = setting != nullptr && *setting != 0
                                           ? std::filesystem::path(setting)
                                           : std::filesystem::path(CPIS_SOURCE_DIR) / "../shared/reference/spine-schema";
  BOOST_REQUIRE_MESSAGE(std::filesystem::is_directory(folder / "CPIS" / "Schemas"),
                        "NHS Digital's CP-IS schemas are not at "
                            << folder << " (no CPIS/Schemas there): set CPIS_SPINE_SCHEMAS to the folder "
                            << "that holds CPIS/Schemas (by default ../shared/reference/spine-schema "
                            << "beside the source tree)");
  return folder.lexically_normal();
}

const ::cpis::cpis::SpineSchemas& spineSchemas() {
  auto* run = XercesForTheRun::instance;
  BOOST_REQUIRE(run != nullptr);
  if (!run->schemas) run->schemas = std::make_unique<::cpis::cpis::SpineSchemas>(spineSchemaFolder());
  return *run->schemas;
}

std::string interactionOf(std::string_view soap, std::string_view interaction) {
  const std::string open = "<" + std::string(interaction);
  const std::string close = "</" + std::string(interaction) + ">";
  const auto begin = soap.find(open);
  const auto end = soap.find(close);
  BOOST_REQUIRE_MESSAGE(begin != std::string_view::npos && end != std::string_view::npos,
                        "no " << interaction << " element in the message");
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
         std::string(soap.substr(begin, end + close.size() - begin)) + "\n";
}

}  // namespace cpis::test

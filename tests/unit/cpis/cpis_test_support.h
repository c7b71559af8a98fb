#pragma once

// Shared by the test_cpis suites: where NHS Digital's CP-IS schemas are, and one SpineSchemas
// loaded once for the whole run (main_test.cpp holds it, with Xerces initialised).

#include <filesystem>
#include <string>
#include <string_view>

#include "engine/cpis/spine_schemas.h"

namespace cpis::test {

// The schema folder: $CPIS_SPINE_SCHEMAS, else ../shared/reference/spine-schema beside the
// source tree. Fails the calling test, naming the setting, when the folder is not there.
std::filesystem::path spineSchemaFolder();

// Loaded on first use and kept until the run ends.
const ::cpis::cpis::SpineSchemas& spineSchemas();

// The interaction element of a SOAP message this engine built, as a document on its own: the
// builders declare every namespace the interaction uses on the interaction itself.
std::string interactionOf(std::string_view soap, std::string_view interaction);

}  // namespace cpis::test

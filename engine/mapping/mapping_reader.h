#pragma once

#include <string>
#include <vector>

#include "engine/config/config_error.h"
#include "engine/config/xml_element.h"
#include "engine/mapping/mapping_rules.h"

namespace cpis::mapping {

// Compiles a mapping file's tree, which the schema has accepted, into rules, and checks what the
// schema cannot: known field names and care-setting codes, path syntax, date formats, values
// a field's kind allows (trace statuses, sex codes, Y/N), the shape of conditions and location
// keys, and duplicate keys in every table. Each broken rule appends a problem located at its
// element in `fileName`; the rules are only usable when no problem was added.
MappingRules readMapping(const config::XmlElement& root, const std::string& fileName,
                         std::vector<config::ConfigProblem>& problems);

}  // namespace cpis::mapping

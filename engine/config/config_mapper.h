#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/config/config_error.h"
#include "engine/config/xml_element.h"

namespace cpis::config {

struct MappingContext {
  std::string fileName;                 // cited in problems
  std::filesystem::path baseDirectory;  // absolute; relative paths in the file resolve against it
};

// Reads a tree that the schema has accepted into an EngineConfig and checks what the schema
// cannot express: unique feed names, listeners that would clash, TLS and mapping files that
// exist and can be read (the passphrase file is read here), the acknowledgement mode against
// its return connection, client-certificate settings against caFile, and the order of
// timeouts and windows. Each broken rule appends a problem located at the element concerned;
// the caller decides what to do with a config that has problems.
EngineConfig mapConfig(const XmlElement& root, const MappingContext& context,
                       std::vector<ConfigProblem>& problems);

}  // namespace cpis::config

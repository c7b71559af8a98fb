#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "engine/config/config_error.h"
#include "engine/mapping/mapping.h"

namespace cpis::config {
class SchemaValidator;
class XercesPlatform;
}  // namespace cpis::config

namespace cpis::mapping {

// Reads mapping files: XML validated against mappings/mapping.xsd (compiled in), then compiled
// into a Mapping and checked for what the schema cannot say (mapping_reader.h).
//
// Errors: a load returns a complete Mapping or throws config::ConfigError listing every problem
// as file:line:column and what is wrong (all schema errors at once; when there are none, every
// semantic problem), so the engine refuses to start with a broken mapping.
//
// Lifetime and threads: `platform` must outlive the loader (not the Mappings it returns, which
// hold no Xerces objects). The schema is compiled once, in the constructor; loads are const and
// may run concurrently.
class MappingLoader {
 public:
  explicit MappingLoader(const config::XercesPlatform& platform);
  ~MappingLoader();
  MappingLoader(const MappingLoader&) = delete;
  MappingLoader& operator=(const MappingLoader&) = delete;

  Mapping loadFile(const std::filesystem::path& file) const;
  // For a mapping held in memory: `name` stands for the file in messages.
  Mapping loadString(std::string_view xml, const std::string& name) const;

 private:
  std::unique_ptr<const config::SchemaValidator> validator_;
};

}  // namespace cpis::mapping

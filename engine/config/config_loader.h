#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "engine/config/config.h"
#include "engine/config/config_error.h"

namespace cpis::config {

class SchemaValidator;
class XercesPlatform;

// Reads the engine's configuration: one XML file, validated against cpis-engine.xsd, then
// mapped to EngineConfig and checked for what the schema cannot express (config_mapper.h).
//
// Errors: every load either returns a complete EngineConfig or throws ConfigError listing each
// problem as file:line:column (schema errors all at once; if there are none, every semantic
// problem). Relative paths in the file resolve against the file's directory. Secrets are read
// from the files the configuration names and are never part of a message.
//
// Lifetime and threads: `platform` must outlive the loader. The schema is compiled once, in
// the constructor; loads are const and may run concurrently.
class ConfigLoader {
 public:
  // Validates against the schema compiled into the binary (embedded_schema.h).
  explicit ConfigLoader(const XercesPlatform& platform);
  // Validates against the schema in `schemaFile`, e.g. an installed copy; throws ConfigError
  // when it cannot be read or does not compile (no silent fall-back to the embedded copy).
  ConfigLoader(const XercesPlatform& platform, const std::filesystem::path& schemaFile);
  ~ConfigLoader();
  ConfigLoader(const ConfigLoader&) = delete;
  ConfigLoader& operator=(const ConfigLoader&) = delete;

  EngineConfig loadFile(const std::filesystem::path& file) const;
  // For a configuration held in memory: `name` stands for the file in messages and
  // `baseDirectory` resolves relative paths (the current directory when empty).
  EngineConfig loadString(std::string_view xml, const std::string& name,
                          const std::filesystem::path& baseDirectory = {}) const;

 private:
  std::unique_ptr<const SchemaValidator> validator_;
};

}  // namespace cpis::config

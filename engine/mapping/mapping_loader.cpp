#include "engine/mapping/mapping_loader.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/config/schema_validator.h"
#include "engine/mapping/embedded_schema.h"
#include "engine/mapping/mapping_reader.h"

namespace cpis::mapping {

namespace {

namespace fs = std::filesystem;
using config::ConfigError;
using config::ConfigProblem;

std::string readWholeFile(const fs::path& file) {
  std::error_code error;
  if (fs::is_directory(file, error)) throw ConfigError({{file.string(), 0, 0, "is a directory, not a file"}});
  errno = 0;
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    const std::string reason = errno != 0 ? std::generic_category().message(errno) : "cannot be opened";
    throw ConfigError({{file.string(), 0, 0, "cannot be read: " + reason}});
  }
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

}  // namespace

MappingLoader::MappingLoader(const config::XercesPlatform& /*platform: proof that Xerces is initialised*/)
    : validator_(std::make_unique<const config::SchemaValidator>(embeddedMappingSchema(),
                                                                 "mapping.xsd (built in)")) {}

MappingLoader::~MappingLoader() = default;

Mapping MappingLoader::loadFile(const fs::path& file) const {
  return loadString(readWholeFile(file), file.string());
}

Mapping MappingLoader::loadString(std::string_view xml, const std::string& name) const {
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw ConfigError({{name, 1, 1, "the file is empty: expected a mapping element"}});
  }
  std::vector<ConfigProblem> problems;
  const std::optional<config::XmlElement> root = validator_->parse(xml, name, problems);
  if (!root) throw ConfigError(std::move(problems));
  MappingRules rules = readMapping(*root, name, problems);
  if (!problems.empty()) {
    std::stable_sort(problems.begin(), problems.end(), [](const ConfigProblem& a, const ConfigProblem& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    throw ConfigError(std::move(problems));
  }
  return Mapping(std::move(rules));
}

}  // namespace cpis::mapping

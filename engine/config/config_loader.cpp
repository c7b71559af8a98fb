#include "engine/config/config_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/config/config_mapper.h"
#include "engine/config/embedded_schema.h"
#include "engine/config/schema_validator.h"

namespace cpis::config {

namespace {

namespace fs = std::filesystem;

// The whole file, or a ConfigError saying why not (there is no line to point at).
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

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Whether the document is UTF-8: no UTF-16/32 byte-order mark and no other encoding declared.
bool declaresUtf8(std::string_view text) {
  if (text.starts_with("\xFE\xFF") || text.starts_with("\xFF\xFE") ||
      text.starts_with(std::string_view("\0\0", 2))) {
    return false;
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  if (!text.starts_with("<?xml")) return true;
  const std::string_view declaration = text.substr(0, text.find("?>"));
  const auto at = declaration.find("encoding");
  if (at == std::string_view::npos) return true;
  const auto quote = declaration.find_first_of("\"'", at);
  if (quote == std::string_view::npos) return true;  // malformed: Xerces will say so
  const auto end = declaration.find(declaration[quote], quote + 1);
  std::string encoding(declaration.substr(quote + 1, end == std::string_view::npos ? 0 : end - quote - 1));
  for (char& c : encoding) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  return encoding == "utf-8" || encoding == "utf8";
}

// Length of the UTF-8 sequence at `i`, or 0 when it is not valid (overlong forms, surrogates
// and code points past U+10FFFF included).
std::size_t utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// Xerces decodes in blocks and reports an invalid byte at the block's position (often line 1),
// so a UTF-8 document is checked here first, to point at the byte itself.
std::optional<ConfigProblem> invalidUtf8(std::string_view text, const std::string& name) {
  std::uint64_t line = 1;
  std::uint64_t column = 1;
  for (std::size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0; i < text.size();) {
    const std::size_t length = utf8SequenceLength(text, i);
    if (length == 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      return ConfigProblem{name, line, column,
                           std::string("byte ") + hex +
                               " is not UTF-8: save the file as UTF-8, or name its "
                               "encoding in the XML declaration (encoding=\"ISO-8859-1\")"};
    }
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += length;
  }
  return std::nullopt;
}

// Problems in file order: schema and semantic checks find them in different orders.
void sortByPosition(std::vector<ConfigProblem>& problems) {
  std::stable_sort(problems.begin(), problems.end(), [](const ConfigProblem& a, const ConfigProblem& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
}

}  // namespace

ConfigLoader::ConfigLoader(const XercesPlatform& /*platform: proof that Xerces is initialised*/)
    : validator_(std::make_unique<const SchemaValidator>(embeddedSchema(), "cpis-engine.xsd (built in)")) {}

ConfigLoader::ConfigLoader(const XercesPlatform& /*platform*/, const fs::path& schemaFile)
    : validator_(std::make_unique<const SchemaValidator>(readWholeFile(schemaFile), schemaFile.string())) {}

ConfigLoader::~ConfigLoader() = default;

EngineConfig ConfigLoader::loadFile(const fs::path& file) const {
  const std::string text = readWholeFile(file);
  std::error_code error;
  fs::path directory = fs::absolute(file, error).parent_path();
  return loadString(text, file.string(), directory);
}

EngineConfig ConfigLoader::loadString(std::string_view xml, const std::string& name,
                                      const fs::path& baseDirectory) const {
  // Xerces would say "invalid document structure"; an empty file deserves plainer words.
  if (blank(xml)) throw ConfigError({{name, 1, 1, "the file is empty: expected a cpisEngine element"}});

  if (declaresUtf8(xml)) {
    if (auto problem = invalidUtf8(xml, name)) throw ConfigError({std::move(*problem)});
  }

  std::vector<ConfigProblem> problems;
  const std::optional<XmlElement> root = validator_->parse(xml, name, problems);
  // Semantic checks read values the schema guarantees, so they run on a valid tree only.
  if (!root) throw ConfigError(std::move(problems));

  std::error_code error;
  const fs::path base = fs::absolute(baseDirectory.empty() ? fs::current_path(error) : baseDirectory, error);
  EngineConfig config = mapConfig(*root, MappingContext{name, base}, problems);
  if (!problems.empty()) {
    sortByPosition(problems);
    throw ConfigError(std::move(problems));
  }
  return config;
}

}  // namespace cpis::config

#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/config_error.h"
#include "engine/config/xml_element.h"

namespace cpis::config {

// Parses XML documents and validates them against one W3C XML Schema with Xerces-C++ (SAX2).
//
// The schema is compiled once, into a grammar pool that is then locked; every parse uses only
// that cached grammar (no xsi:schemaLocation hints, no DTDs, no external entities), with
// validation always on, so a document in another namespace or with an undeclared root is an
// error rather than silently unvalidated (ARCHITECTURE.md, platform facts). Needs a live
// XercesPlatform for its whole lifetime. parse() is const and shares only the locked pool.
class SchemaValidator {
 public:
  // Throws ConfigError, located in `schemaName`, when the schema does not compile.
  SchemaValidator(std::string_view schemaText, const std::string& schemaName);
  ~SchemaValidator();
  SchemaValidator(const SchemaValidator&) = delete;
  SchemaValidator& operator=(const SchemaValidator&) = delete;

  // The document's tree when it is well-formed and valid. Otherwise nullopt, and every
  // problem Xerces reported (all validation errors; parsing stops at the first fatal
  // well-formedness error) is appended to `problems`, located in `documentName`.
  std::optional<XmlElement> parse(std::string_view documentText, const std::string& documentName,
                                  std::vector<ConfigProblem>& problems) const;

 private:
  struct Grammar;
  std::unique_ptr<Grammar> grammar_;
};

}  // namespace cpis::config

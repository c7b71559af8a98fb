#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cpis::cpis {

// NHS Digital's CP-IS HL7 v3 schemas, compiled once by Xerces-C++ and then used to validate
// every message the engine sends or believes (docs/cpis.md, "Validation").
//
// The schemas are not part of the project (no licence is stated for them): `folder` is the
// folder that holds CPIS/Schemas, CPIS/dt, ... as published (a deployment is given its copy
// during on-boarding; the tests use ../shared/reference/spine-schema).
//
// Loading: the grammars of QUPC_IN000006GB01, REPC_IN000007GB01, QUQI_IN010000UK14 and
// MCCI_IN010000UK13 go into one grammar pool (multiple imports handled, full schema checking
// off) which is then locked; every instance is validated against that cached grammar only,
// with validation always on, so an undeclared root is an error, never "nothing to check".
// Xerces-C++ 3.2 reports about twenty false errors while compiling these schemas ("type of
// attribute 'root' must be derived by restriction ..."): they are the known quirk, kept in
// loadWarnings() to be logged once; any other load error refuses the folder.
//
// Needs a live config::XercesPlatform for its whole lifetime. validate() is const and
// thread-safe: parsers are pooled, one in use per calling thread at a time, each with a
// grammar pool of its own (Xerces-C++ completes compiled grammars lazily, without a lock), at
// most one per core (2 to 8); a caller beyond that waits for a free one.
class SpineSchemas {
 public:
  // The interactions whose grammars are loaded, as the file names under CPIS/Schemas.
  static const std::vector<std::string_view>& interactions();

  // Throws std::runtime_error naming the folder and the missing file, or the real load error.
  explicit SpineSchemas(const std::filesystem::path& folder);
  ~SpineSchemas();
  SpineSchemas(const SpineSchemas&) = delete;
  SpineSchemas& operator=(const SpineSchemas&) = delete;

  const std::filesystem::path& folder() const noexcept;
  // The known-quirk messages of the load ("file:line: message"), to be logged once at start-up.
  const std::vector<std::string>& loadWarnings() const noexcept;

  // Validates one HL7 v3 interaction document (its root element is the interaction, as found
  // inside the SOAP Body, serialised on its own). Empty means valid; otherwise each problem as
  // "line L, column C: message". Xerces quotes offending values in its messages, and values
  // can be patient data: log redactQuoted() of them, never these as they are.
  std::vector<std::string> validate(std::string_view interactionXml) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A validation message with every quoted part ('...' or "...") replaced by '...', so it can go
// to logs and LookupFailure::detail: Xerces quotes values, and values can be patient data.
std::string redactQuoted(std::string_view message);

}  // namespace cpis::cpis

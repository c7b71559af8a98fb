#pragma once

// The feed readiness report's model: what a folder of captured messages says about a feed,
// counted, never quoting patient data. ReadinessAnalyser fills it one file at a time, running
// each message through the engine's own stages (parse, adapt with the feed's mapping file and
// adapter plugin, decide) without any CP-IS lookup; readiness_report.h writes it out.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cpis::hl7v2 {
class Message;
}
namespace cpis::mapping {
class Mapping;
}
namespace cpis::pipeline {
class Adapter;
class Decider;
}  // namespace cpis::pipeline

namespace cpis::conformance {

// A count, and up to kExamples places it was seen ("a04.hl7 #3": file name and the message's
// ordinal in the file; never a message control id, which some EPRs build from visit numbers).
struct Tally {
  static constexpr std::size_t kExamples = 3;
  std::size_t count = 0;
  std::vector<std::string> examples;
  void add(const std::string& where);
};

// Counts by a key (a code, a location key, a problem text), with examples.
using Tallies = std::map<std::string, Tally>;

// One mapped field: how often it was absent or unreadable in the messages that are attendances.
struct FieldStats {
  std::string name;  // as the mapping file spells it, "visitNumber"
  std::string paths; // where the mapping reads it, "PV1-19" (or "(constant)")
  bool required = false;
  Tally missing;
  Tally malformed;
};

struct ReadinessReport {
  // What was run.
  std::string folder;
  std::string adapter;      // the plugin name, or "none"
  std::string mapping;      // the mapping's name
  std::string environment;  // "TEST" or "LIVE"
  std::string generatedAt;  // UTC, ISO 8601

  std::size_t files = 0;
  std::size_t bytes = 0;
  std::size_t messages = 0;    // every message found, readable or not
  std::size_t parsed = 0;      // read by the HL7 v2 parser
  std::size_t adt = 0;         // parsed ADT messages (the ones the engine adapts)
  std::size_t attendanceEvents = 0;  // ADT messages whose event the mapping calls an attendance event
  std::size_t attendances = 0; // ADT messages the adapter made an attendance of

  Tallies byType;      // "ADT^A04" (parsed messages)
  Tallies outcomes;    // what the engine would do: "CHECK_DUE", "NOT_CHECKED", ...
  Tallies reasons;     // NOT_CHECKED reason code -> count ("LOCATION_UNMAPPED")
  Tallies reasonTexts; // "LOCATION_UNMAPPED: location X is not in ..." (codes and rules, no values)
  Tallies rejections;  // AE: the adapter's or the mapping's issue, by code and text

  Tallies nhsNumbers;     // "valid", "missing", "invalid: fails the modulus 11 check", ...
  Tallies traceStatus;    // "NSTS01".. or "(none)", after the adapter
  Tallies traceStatusUnread;  // PID-32 values the mapping alone could not read as a status

  std::vector<FieldStats> fields;  // in the mapping's field order
  Tallies settings;                // care setting of attendances ("ED", "OUT_OF_SCOPE", "(unmapped)")
  Tallies unmappedLocations;       // location keys the location table does not match
  Tallies outOfScopeLocations;     // location keys mapped to OUT_OF_SCOPE

  Tallies charsetDeclared;  // MSH-18 as declared: "UNICODE UTF-8", "(empty: ASCII)", ...
  Tallies charsetSeen;      // "ASCII only", "UTF-8 (multi-byte)", "8-bit, not UTF-8"
  Tallies charsetProblems;
  Tallies lineEndings;      // per file: "CR", "LF", "CRLF", "mixed (CR, LF)"
  Tallies framing;          // MLLP and file problems
  Tallies parseErrors;      // "102 Data type error at MSH(1)-18: text"
  Tallies parseWarnings;

  std::size_t problemCount() const;  // framing + charset + parse errors + rejections (message-level)
};

// Runs captured messages through the feed's stages. Not thread-safe; one per report.
class ReadinessAnalyser {
 public:
  // `adapter` and `decider` are the engine's; `mapping` (the one the adapter uses) also drives
  // the field probes. All must outlive the analyser.
  ReadinessAnalyser(const mapping::Mapping& mapping, const pipeline::Adapter& adapter,
                    pipeline::Decider& decider, ReadinessReport& report);
  ~ReadinessAnalyser();
  ReadinessAnalyser(const ReadinessAnalyser&) = delete;
  ReadinessAnalyser& operator=(const ReadinessAnalyser&) = delete;

  // One captured file: plain, MLLP-framed or a batch; `name` stands for it in the report.
  void addFile(std::string_view bytes, const std::string& name);

 private:
  struct Probes;
  void addPayload(std::string_view payload, const std::string& file, std::size_t& ordinal,
                  std::map<std::string, std::size_t>& endings);
  void addMessage(const hl7v2::Message& message, const std::string& where);

  const pipeline::Adapter& adapter_;
  pipeline::Decider& decider_;
  ReadinessReport& report_;
  std::unique_ptr<Probes> probes_;
};

// The values in a message that identify a patient (PID names, identifiers, dates, addresses,
// telephone numbers; PV1-19 and PV1-50; NK1, MRG, GT1), split into their components, for
// checking that nothing derived from a message carries one into the report.
std::vector<std::string> identifyingValues(const hl7v2::Message& message);
// The same read from a message's text, for messages the parser refuses (fields split on the
// MSH-1 and MSH-2 characters; segments end at CR or LF).
std::vector<std::string> identifyingValuesInText(std::string_view text);
// `text` if it holds none of `identifiers` (those of 4 characters or more), else a placeholder.
std::string withoutIdentifiers(std::string text, const std::vector<std::string>& identifiers);

}  // namespace cpis::conformance

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/issue.h"
#include "engine/core/result.h"
#include "engine/core/status.h"
#include "engine/hl7v2/charset.h"
#include "engine/hl7v2/delimiters.h"
#include "engine/hl7v2/path.h"

namespace cpis::hl7v2 {

// What a position in a message holds. HL7 gives an empty field no meaning ("not sent"); the
// explicit null `""` means "delete the value held".
enum class Presence { Absent, Null, Valued };

// One HL7 v2 message: the received bytes, indexed on parse (segments and field boundaries),
// decoded only when a value is asked for. Repetitions, components and sub-components are
// split on access. Immutable apart from set(); const member functions may run on many
// threads at once.
//
// Field numbering follows HL7: in MSH (and FHS/BHS) field 1 is the field separator itself and
// field 2 the encoding characters, both returned as they stand, never split or decoded.
class Message {
 public:
  // The message bytes from its MSH on; segment ends as received.
  std::string_view raw() const noexcept { return buffer_; }
  const Delimiters& delimiters() const noexcept { return delimiters_; }
  Charset charset() const noexcept { return charset_; }
  // Problems that do not stop the message being read (a missing MSH-12, say).
  const std::vector<core::Issue>& warnings() const noexcept { return warnings_; }

  // Segments, in order. `index` is 0-based and below segmentCount().
  std::size_t segmentCount() const noexcept { return segments_.size(); }
  std::string_view segmentId(std::size_t index) const;
  std::string_view segmentRaw(std::size_t index) const;
  // The highest field number the segment carries (trailing empty fields included).
  std::uint32_t fieldCount(std::size_t index) const;
  // A whole field as sent (repetitions and components undivided); "" beyond the last field.
  std::string_view fieldRaw(std::size_t index, std::uint32_t field) const;
  // How many segments have this id.
  std::size_t occurrences(std::string_view segmentId) const;
  // Index of the nth (1-based) segment with this id, or segmentCount() when there is none.
  std::size_t findSegment(std::string_view segmentId, std::uint32_t occurrence = 1) const;
  // For walking many segments or repetitions in one pass (findSegment and get() with numbered
  // repetitions scan from the start each time, which is quadratic over thousands of them): the
  // index of every segment with this id, in order; a field's repetitions as sent (an empty
  // field is one empty repetition; MSH-1 and MSH-2 are never split); and the decoded value
  // get() reads at `path`'s component and sub-component within one such repetition.
  std::vector<std::size_t> segmentsNamed(std::string_view segmentId) const;
  std::vector<std::string_view> repetitions(std::size_t index, std::uint32_t field) const;
  std::string valueIn(std::string_view repetition, std::size_t index, const Path& path) const;

  // Header values, decoded: MSH-10, MSH-9.1, MSH-9.2, MSH-9.3, MSH-12.1.
  std::string controlId() const;
  std::string messageCode() const;
  std::string triggerEvent() const;
  std::string messageStructure() const;
  std::string version() const;

  // The text at a path, undecoded, at the level the path names (a field path gives the whole
  // repetition, components included). "" when absent.
  std::string_view raw(const Path& path) const;
  Presence presence(const Path& path) const;
  // The decoded UTF-8 value at a path (a path that stops at a field or component reads its
  // first component / sub-component). "" when absent or null. A \X..\ sequence that cannot be
  // decoded is kept as sent; value() refuses it instead. An invalid path string gives "":
  // validate paths from configuration with parsePath() when they are loaded.
  std::string get(const Path& path) const;
  std::string get(std::string_view path) const;
  core::Result<std::string, core::Issue> value(const Path& path) const;
  // Every value a path with `(*)` repetitions names, in message order.
  std::vector<std::string> getAll(const Path& path) const;

  // Writes a UTF-8 value (escaped and converted to the message's character set) at a path,
  // creating the segment, field, repetition or component when absent. The path needs explicit
  // repetitions (no `*`); MSH-1 and MSH-2 cannot be set. Re-indexes the message.
  core::Status set(const Path& path, std::string_view utf8Value);
  core::Status set(std::string_view path, std::string_view utf8Value);

  // The message with every segment ended by '\r'. An unmodified message that arrived with
  // '\r' endings serialises to the bytes it arrived as.
  std::string serialize() const;

  // Strict check of every value: \X..\ sequences that do not decode in the message's
  // character set, located. parse() has already checked the structure and the raw bytes.
  std::vector<core::Issue> checkValues() const;

  // Where a byte offset of raw() falls: segment, its sequence, and field.
  core::Location locate(std::size_t byteOffset) const;

 private:
  friend core::Result<Message, core::Issue> parse(std::string&& bytes, Charset whenUnstated);

  struct SegmentEntry {
    std::uint32_t begin;         // offset of the segment id
    std::uint32_t end;           // one past the last byte before the terminator
    std::uint32_t firstField;    // index into fieldStarts_
    std::uint32_t storedFields;  // fields after the id; for MSH these start at MSH-2
    bool header;                 // MSH, FHS, BHS: field 1 is the separator itself
  };

  core::Result<bool, core::Issue> index(Charset whenUnstated);
  std::string_view storedField(const SegmentEntry& segment, std::uint32_t k) const;
  std::string_view rawAt(std::size_t segment, const Path& path, std::uint32_t fieldRepetition) const;
  void collect(const Path& path, std::vector<std::string>& out) const;

  std::string buffer_;
  Delimiters delimiters_;
  Charset charset_ = Charset::Ascii;
  std::vector<SegmentEntry> segments_;
  std::vector<std::uint32_t> fieldStarts_;
  std::vector<core::Issue> warnings_;
  bool normalised_ = false;  // every segment ends with exactly one '\r'
};

// Parses one message. Leading blank lines are skipped; segments may end with '\r', '\n' or
// "\r\n". Structural problems are an Issue (with its HL7 0357 code and location) that
// becomes an AR: no MSH first (100), unusable MSH-1/MSH-2 (102), a malformed or truncated
// segment id (100), a second MSH or a batch segment (100: use parseStream), an unsupported
// MSH-18 (103), bytes invalid in the declared character set (102), no MSH-9 or MSH-10 (101).
// Messages longer than 4 GiB are refused (they cannot be indexed with 32-bit offsets).
// `whenUnstated`: the set a message with an empty MSH-18 is read in. HL7's default, ASCII, is
// strict: an 8-bit byte is refused rather than guessed at (hazard H10). A feed whose EPR is known
// to send UTF-8 (or Latin-1) without saying so is configured with that set
// (<feed characterSetWhenUnstated>); such a message's charset() is then that set, and its
// replies say so in their MSH-18.
core::Result<Message, core::Issue> parse(std::string&& bytes, Charset whenUnstated = Charset::Ascii);
core::Result<Message, core::Issue> parse(std::string_view bytes, Charset whenUnstated = Charset::Ascii);
inline core::Result<Message, core::Issue> parse(const char* bytes, Charset whenUnstated = Charset::Ascii) {
  return parse(std::string_view(bytes), whenUnstated);
}

// MSH-18 as a reply to `message` (its ACK, a late result) writes it, raw: as the message sent
// it; or, when its MSH-18 is empty and it was read in another set than ASCII (parse's
// `whenUnstated`), that set's name, so that the reply, written in that set, says so (empty if
// the name would hold one of the message's delimiters).
std::string_view replyCharsetField(const Message& message);

}  // namespace cpis::hl7v2

#include "engine/hl7v2/batch.h"

#include <charconv>
#include <string>

namespace cpis::hl7v2 {
namespace {

struct Line {
  std::size_t begin;
  std::string_view text;  // without its terminator
};

// The next line from `pos`, with `pos` moved past its terminator ("\r", "\n" or "\r\n").
Line nextLine(std::string_view bytes, std::size_t& pos) {
  const std::size_t begin = pos;
  std::size_t end = bytes.find_first_of("\r\n", pos);
  if (end == std::string_view::npos) end = bytes.size();
  pos = end;
  if (pos < bytes.size() && bytes[pos] == '\r') ++pos;
  if (pos < bytes.size() && bytes[pos] == '\n') ++pos;
  return {begin, bytes.substr(begin, end - begin)};
}

bool startsWith(std::string_view text, std::string_view id, char fs) {
  return text.substr(0, 3) == id &&
         (text.size() == 3 || text[3] == fs || id == "MSH" || id == "FHS" || id == "BHS");
}

// Field `n` (1-based, n >= 1) of a trailer segment such as "BTS|3".
std::string_view trailerField(std::string_view text, char fs, int n) {
  std::size_t start = 4;
  for (int i = 1; i < n; ++i) {
    const std::size_t next = text.find(fs, start);
    if (next == std::string_view::npos) return {};
    start = next + 1;
  }
  if (start > text.size()) return {};
  const std::size_t end = text.find(fs, start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

core::Issue envelopeIssue(core::ErrorCode code, std::string_view segment, std::uint32_t field,
                          std::size_t offset, std::string text) {
  core::Issue issue;
  issue.code = code;
  issue.location.segmentId = std::string(segment);
  issue.location.segmentSequence = 1;
  issue.location.field = field;
  issue.location.byteOffset = offset;
  issue.text = std::move(text);
  return issue;
}

// A count in BTS-1 / FTS-1 compared with what was seen; `sequence` counts that trailer's id.
void checkCount(std::string_view text, char fs, std::size_t seen, std::size_t offset,
                std::string_view segment, std::uint32_t sequence, const char* what,
                std::vector<core::Issue>& issues) {
  const std::string_view field = trailerField(text, fs, 1);
  if (field.empty()) return;  // optional
  std::size_t declared = 0;
  const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), declared);
  if (ec != std::errc{} || ptr != field.data() + field.size()) {
    issues.push_back(envelopeIssue(core::ErrorCode::DataType, segment, 1, offset,
                                   std::string(what) + " count is not a number"));
  } else if (declared != seen) {
    issues.push_back(envelopeIssue(core::ErrorCode::SegmentSequence, segment, 1, offset,
                                   std::string(what) + " count is " + std::to_string(declared) + " but " +
                                       std::to_string(seen) + " were found"));
  } else {
    return;
  }
  issues.back().location.segmentSequence = sequence;
}

}  // namespace

Stream parseStream(std::string_view bytes, Charset whenUnstated) {
  Stream stream;
  char fs = '|';  // from the envelope header, or the message
  std::size_t inBatch = 0;
  std::size_t pos = 0;
  std::size_t messageBegin = std::string_view::npos;
  std::size_t messageEnd = 0;
  bool strayReported = false;
  std::uint32_t trailers = 0;      // BTS segments seen
  std::uint32_t fileTrailers = 0;  // FTS segments seen

  const auto flush = [&] {
    if (messageBegin == std::string_view::npos) return;
    stream.messages.push_back(
        {messageBegin, parse(bytes.substr(messageBegin, messageEnd - messageBegin), whenUnstated)});
    ++inBatch;
    messageBegin = std::string_view::npos;
  };

  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  while (pos < bytes.size()) {
    const Line line = nextLine(bytes, pos);
    const std::string_view t = line.text;
    if (t.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
    const std::string_view id = t.substr(0, 3);
    if (id == "MSH" || id == "FHS" || id == "BHS") {
      if (t.size() > 3) fs = t[3];
    }
    if (id == "MSH") {
      flush();
      messageBegin = line.begin;
      messageEnd = pos;
    } else if (startsWith(t, "FHS", fs)) {
      flush();
      stream.envelope.push_back({line.begin, std::string(t)});
      stream.fileEnvelope = true;
    } else if (startsWith(t, "BHS", fs)) {
      flush();
      stream.envelope.push_back({line.begin, std::string(t)});
      ++stream.batches;
      inBatch = 0;
    } else if (startsWith(t, "BTS", fs)) {
      flush();
      stream.envelope.push_back({line.begin, std::string(t)});
      checkCount(t, fs, inBatch, line.begin, "BTS", ++trailers, "batch message", stream.issues);
    } else if (startsWith(t, "FTS", fs)) {
      flush();
      stream.envelope.push_back({line.begin, std::string(t)});
      checkCount(t, fs, stream.batches, line.begin, "FTS", ++fileTrailers, "file batch", stream.issues);
    } else if (messageBegin != std::string_view::npos) {
      messageEnd = pos;
    } else if (!strayReported) {
      stream.issues.push_back(envelopeIssue(core::ErrorCode::SegmentSequence, "", 0, line.begin,
                                            "segments found outside any message (before an MSH)"));
      strayReported = true;
    }
  }
  flush();
  return stream;
}

}  // namespace cpis::hl7v2

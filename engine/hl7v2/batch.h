#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/issue.h"
#include "engine/core/result.h"
#include "engine/hl7v2/message.h"

namespace cpis::hl7v2 {

// One message read from a stream, with where it began in the input.
struct StreamMessage {
  std::size_t offset;                          // byte offset of its first segment in the input
  core::Result<Message, core::Issue> message;  // issue offsets are relative to `offset`
};

// A batch envelope segment (FHS, BHS, BTS, FTS) as it stood in the input.
struct EnvelopeSegment {
  std::size_t offset;
  std::string text;  // without its terminator
};

// What a file or stream held: any number of messages, optionally in a batch envelope
// (FHS, BHS ... BTS, FTS). Each message is parsed on its own, so one broken message does not
// hide the others.
struct Stream {
  std::vector<StreamMessage> messages;
  std::vector<EnvelopeSegment> envelope;  // in input order; with `messages`, the whole stream
  std::size_t batches = 0;          // BHS segments seen
  bool fileEnvelope = false;        // an FHS was seen
  std::vector<core::Issue> issues;  // envelope problems: counts that disagree, stray segments
};

// Splits at every MSH and envelope segment; segments end with '\r', '\n' or "\r\n". BTS-1
// (messages in the batch) and FTS-1 (batches in the file) are checked when present.
Stream parseStream(std::string_view bytes, Charset whenUnstated = Charset::Ascii);  // parse()'s

}  // namespace cpis::hl7v2

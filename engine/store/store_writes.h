#pragma once

#include <cstddef>
#include <string_view>
#include <variant>

#include "engine/core/status.h"
#include "engine/store/message_store.h"

namespace cpis::store {

// The writes a store's writer thread applies, whatever the database: the group commit queue
// carries them to SqliteWriter or PostgresWriter. The views point into the arguments of a
// caller that waits for the reply (or, asynchronously, keeps them until its callback), so they
// stay valid while the write is applied.
struct PersistWrite {
  InboundMessage message;
  TimePoint receivedAt;
};
struct AckWrite {
  MessageId id{};
  std::string_view ack;
  TimePoint at;
};
struct OutcomeWrite {
  MessageId id{};
  MessageState state{};
  std::string_view outcome;
  TimePoint at;
};
struct PurgeWrite {
  TimePoint receivedBefore;
  std::size_t limit{};
  TimePoint at;
};
struct WriteRequest {
  std::variant<PersistWrite, AckWrite, OutcomeWrite, PurgeWrite> write;
};

struct WriteReply {
  core::Status status;
  PersistOutcome persisted;  // PersistWrite
  std::size_t purged{};      // PurgeWrite: messages purged
};

// What every store refuses before queueing a persist (InvalidArgument): no feed, control id or
// bytes, more than `maxMessageBytes`, a completion without its ACK.
core::Status checkInboundMessage(const InboundMessage& message, std::size_t maxMessageBytes);

}  // namespace cpis::store

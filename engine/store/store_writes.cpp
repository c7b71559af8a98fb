#include "engine/store/store_writes.h"

#include <string>

namespace cpis::store {

core::Status checkInboundMessage(const InboundMessage& message, std::size_t maxMessageBytes) {
  if (message.feed.empty() || message.controlId.empty() || message.raw.empty()) {
    return core::Status::invalidArgument("message store: feed, control id and raw bytes are required");
  }
  if (message.raw.size() > maxMessageBytes) {
    return core::Status::invalidArgument("message store: a message of " + std::to_string(message.raw.size()) +
                                         " bytes is over the limit of " + std::to_string(maxMessageBytes));
  }
  if (message.completion && message.completion->ack.empty()) {
    return core::Status::invalidArgument("message store: a completion needs an ACK");
  }
  return core::Status::ok();
}

}  // namespace cpis::store

#pragma once

// What the outbox suites (outbox_test.cpp, outbox_pre_claim_test.cpp) write: the sink, the
// ACK of a finished message and a notification as a check's plan-found would have it.

#include <string>
#include <string_view>

#include "engine/store/outbox.h"

namespace cpis::test {

inline constexpr std::string_view kOutboxSink = "safeguarding";
inline const std::string kOutboxAck = "MSH|^~\\&|RCV\rMSA|AA|M1\r";

// A notification for `sink` with its key; the rest as a check's plan-found would have it.
inline store::NewNotification notification(std::string_view key, std::string_view orderKey = {},
                                           std::string_view sink = kOutboxSink,
                                           std::string_view kind = "plan-found") {
  store::NewNotification n;
  n.sink = sink;
  n.kind = kind;
  n.idempotencyKey = key;
  n.orderKey = orderKey;
  n.payload = R"({"kind":"plan-found","plan_count":"1"})";
  return n;
}

}  // namespace cpis::test

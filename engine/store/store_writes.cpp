#include "engine/store/store_writes.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include <Poco/Logger.h>

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
  if (message.completion) return checkNotifications(message.completion->notifications);
  return core::Status::ok();
}

core::Status checkNotifications(std::span<const NewNotification> notifications) {
  for (std::size_t i = 0; i < notifications.size(); ++i) {
    const NewNotification& notification = notifications[i];
    if (notification.sink.empty() || notification.kind.empty() || notification.idempotencyKey.empty()) {
      return core::Status::invalidArgument("message store: notification " + std::to_string(i + 1) + " of " +
                                           std::to_string(notifications.size()) +
                                           " needs a sink, a kind and an idempotency key");
    }
  }
  return core::Status::ok();
}

OutboxEntry claimedEntry(const NewNotification& notification, NotificationId id, std::optional<MessageId> message,
                         TimePoint createdAt, std::optional<TimePoint> deadline) {
  OutboxEntry entry;
  entry.id = id;
  entry.messageId = message;
  entry.sink = notification.sink;
  entry.kind = notification.kind;
  entry.idempotencyKey = notification.idempotencyKey;
  entry.orderKey = notification.orderKey;
  entry.payload = notification.payload;
  entry.createdAt = createdAt;
  entry.nextAttemptAt = createdAt;
  entry.deadline = deadline;
  return entry;
}

void ClaimHandOver::set(ClaimReceiver* receiver) {
  const std::lock_guard lock(mutex_);
  receiver_ = receiver;
  if (receiver_ != nullptr && !orphans_.empty()) orphans_ = receiver_->adopt(std::exchange(orphans_, {}));
}

bool ClaimHandOver::claims(const NewNotification& notification) {
  if (notification.notBefore || !notification.orderKey.empty()) return false;
  const std::lock_guard lock(mutex_);
  return receiver_ != nullptr && receiver_->wantsClaimed(notification.sink);
}

void ClaimHandOver::handOver(std::vector<OutboxEntry> entries) {
  if (entries.empty()) return;
  // Held while the receiver adopts them: set(nullptr) returns only once no hand-over is under way.
  const std::lock_guard lock(mutex_);
  // Written claimed for a receiver that withdrew, or began to stop, before they were durable:
  // the next one registered takes them, still claimed for this instance.
  if (receiver_ != nullptr) entries = receiver_->adopt(std::move(entries));
  for (auto& entry : entries) orphans_.push_back(std::move(entry));
}

void ClaimHandOver::handOver(WriteReply& reply) {
  if (!reply.preClaimed.empty()) handOver(std::move(reply.preClaimed));
}

std::optional<NotificationState> parseNotificationState(std::string_view text) {
  for (const auto state :
       {NotificationState::Pending, NotificationState::Delivered, NotificationState::Dead}) {
    if (toString(state) == text) return state;
  }
  return std::nullopt;
}

void stageMemoryRows(GroupCommitQueue<WriteRequest, WriteReply>& queue, std::vector<MemoryRow> rows,
                     std::chrono::milliseconds linger) {
  if (rows.empty()) return;
  static std::atomic<bool> failing{false};
  try {
    // The request's views point into the rows, which the callback keeps until the write is answered.
    auto kept = std::make_shared<const std::vector<MemoryRow>>(std::move(rows));
    const bool queued = queue.submitLazy(
        WriteRequest{MemoryWrite{*kept, std::nullopt}},
        [kept](WriteReply reply) {
          if (!reply.status.isOk()) {
            if (!failing.exchange(true)) {
              Poco::Logger::get("cpis.store")
                  .error("attendance memory: %z rows not written (%s): their attendances are checked again after a "
                         "restart",
                         kept->size(), reply.status.message());
            }
          } else if (failing.exchange(false)) {
            Poco::Logger::get("cpis.store").notice("attendance memory: rows written again");
          }
        },
        linger);
    if (!queued && !failing.exchange(true)) {
      Poco::Logger::get("cpis.store").warning("attendance memory: rows not written: the store is closed");
    }
  } catch (const std::exception& e) {  // no memory to queue them
    if (!failing.exchange(true)) {
      Poco::Logger::get("cpis.store").error("attendance memory: rows not written: %s", std::string(e.what()));
    }
  }
}

namespace {
// `message` without the text of MSH-7 (the field separators kept). HL7 v2: the message starts
// with "MSH", then the field separator; MSH-7 follows the sixth separator.
std::pair<std::string_view, std::string_view> aroundMsh7(std::string_view message) {
  if (message.size() < 4 || message.substr(0, 3) != "MSH") return {message, {}};
  const char separator = message[3];
  std::size_t at = 3;
  for (int seen = 1; seen < 6; ++seen) {
    at = message.find_first_of(std::string{separator, '\r', '\n'}, at + 1);
    if (at == std::string_view::npos || message[at] != separator) return {message, {}};
  }
  const std::size_t end = message.find_first_of(std::string{separator, '\r', '\n'}, at + 1);
  if (end == std::string_view::npos) return {message.substr(0, at + 1), {}};
  return {message.substr(0, at + 1), message.substr(end)};
}

// The message as the parser reads it: no UTF-8 byte-order mark, no blank lines before MSH,
// segments ended by CR whether sent with CR, LF or CR LF, and no empty segments at the end.
std::string asParsed(std::string_view message) {
  if (message.substr(0, 3) == "\xEF\xBB\xBF") message.remove_prefix(3);
  while (!message.empty() && (message.front() == '\r' || message.front() == '\n')) message.remove_prefix(1);
  std::string out;
  out.reserve(message.size());
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (c == '\r' && i + 1 < message.size() && message[i + 1] == '\n') continue;  // CR LF: one CR
    out.push_back(c == '\n' ? '\r' : c);
  }
  while (!out.empty() && out.back() == '\r') out.pop_back();
  return out;
}

// `message` (as asParsed gives it) without what HL7 v2 reads as nothing: empty fields at the end
// of a segment, and empty components and subcomponents at the end of a field (MSH-2, the
// encoding characters, kept). An interface engine between the EPR and us may add or drop them
// on a resend ("PV1|...|" for "PV1|..."): the same message all the same.
std::string withoutTrailingEmpties(const std::string& message) {
  if (message.size() < 5 || message.compare(0, 3, "MSH") != 0) return message;
  const char field = message[3];
  // MSH-2 holds 1 to 5 encoding characters: component, repetition, escape, subcomponent (and
  // v2.7's truncation). Only those it has are separators; a byte after it is data.
  const std::size_t encodingEnd =
      std::min(message.find_first_of(std::string{field, '\r'}, 4), message.size());
  const std::string_view encoding(message.data() + 4, encodingEnd - 4);
  if (encoding.empty()) return message;
  const char component = encoding[0];
  const char subcomponent = encoding.size() >= 4 ? encoding[3] : component;
  std::string out;
  out.reserve(message.size());
  std::size_t begin = 0;
  while (begin <= message.size()) {
    std::size_t end = message.find('\r', begin);
    if (end == std::string::npos) end = message.size();
    const std::string_view segment(message.data() + begin, end - begin);
    const bool header = segment.substr(0, 3) == "MSH";
    std::string kept;
    std::size_t at = 0;
    for (std::size_t index = 0; at <= segment.size(); ++index) {
      std::size_t next = segment.find(field, at);
      if (header && index == 0) next = 3;  // "MSH", then MSH-1 (the separator) and MSH-2
      if (next == std::string_view::npos) next = segment.size();
      std::string_view value = segment.substr(at, next - at);
      if (!(header && index == 1)) {
        while (!value.empty() && (value.back() == component || value.back() == subcomponent))
          value.remove_suffix(1);
      }
      if (index > 0) kept.push_back(field);
      kept.append(value);
      at = next + 1;
    }
    while (!kept.empty() && kept.back() == field && !(header && kept.size() <= 4)) kept.pop_back();
    if (!out.empty() || begin > 0) out.push_back('\r');
    out.append(kept);
    if (end == message.size()) break;
    begin = end + 1;
  }
  return out;
}
}  // namespace

bool sameMessageSentAgain(std::string_view stored, std::string_view received) {
  if (stored == received) return true;
  const std::string storedText = withoutTrailingEmpties(asParsed(stored)),
                    receivedText = withoutTrailingEmpties(asParsed(received));
  if (storedText == receivedText) return true;
  const auto [storedHead, storedTail] = aroundMsh7(storedText);
  const auto [receivedHead, receivedTail] = aroundMsh7(receivedText);
  return !storedTail.empty() && storedHead == receivedHead && storedTail == receivedTail;
}

}  // namespace cpis::store

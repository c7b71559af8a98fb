#include "engine/cpis/async_replies.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace cpis::cpis {

AsyncReplies::AsyncReplies(std::size_t remember) : remember_(std::max<std::size_t>(remember, 1)) {}

std::string AsyncReplies::normalise(std::string_view messageId) {
  std::string_view id = messageId;
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.front()))) id.remove_prefix(1);
  while (!id.empty() && std::isspace(static_cast<unsigned char>(id.back()))) id.remove_suffix(1);
  if (id.size() >= 5 && (id.substr(0, 5) == "uuid:" || id.substr(0, 5) == "UUID:")) id.remove_prefix(5);
  std::string out(id);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

void AsyncReplies::expect(std::string_view messageId) {
  const std::lock_guard lock(mutex_);
  pending_.try_emplace(normalise(messageId));
  stats_.pending = pending_.size();
}

std::optional<ParsedReply> AsyncReplies::wait(std::string_view messageId,
                                               std::chrono::steady_clock::time_point deadline) {
  const std::string id = normalise(messageId);
  std::unique_lock lock(mutex_);
  const auto it = pending_.find(id);
  if (it == pending_.end()) return std::nullopt;
  arrived_.wait_until(lock, deadline, [&] { return it->second.reply.has_value(); });
  std::optional<ParsedReply> reply = std::move(it->second.reply);
  pending_.erase(it);
  finish(id, reply ? Finished::Answered : Finished::Expired);
  return reply;
}

void AsyncReplies::cancel(std::string_view messageId) {
  const std::string id = normalise(messageId);
  const std::lock_guard lock(mutex_);
  if (pending_.erase(id) > 0) finish(id, Finished::Expired);
}

AsyncReplies::Delivery AsyncReplies::deliver(ParsedReply reply) {
  const std::string id = normalise(reply.relatesTo);
  Delivery delivery = Delivery::Unknown;
  {
    const std::lock_guard lock(mutex_);
    if (const auto it = pending_.find(id); it != pending_.end()) {
      if (it->second.reply) {
        delivery = Delivery::Duplicate;  // a second reply before the first was taken
      } else {
        it->second.reply = std::move(reply);
        delivery = Delivery::Matched;
      }
    } else if (const auto done = finished_.find(id); done != finished_.end()) {
      delivery = done->second == Finished::Answered ? Delivery::Duplicate : Delivery::Late;
    }
    switch (delivery) {
      case Delivery::Matched: ++stats_.matched; break;
      case Delivery::Unknown: ++stats_.unknown; break;
      case Delivery::Late: ++stats_.late; break;
      case Delivery::Duplicate: ++stats_.duplicate; break;
    }
  }
  if (delivery == Delivery::Matched) arrived_.notify_all();
  return delivery;
}

AsyncReplies::Stats AsyncReplies::stats() const {
  const std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.pending = pending_.size();
  return s;
}

void AsyncReplies::finish(const std::string& id, Finished how) {
  if (finished_.insert_or_assign(id, how).second) finishedOrder_.push_back(id);
  while (finishedOrder_.size() > remember_) {
    finished_.erase(finishedOrder_.front());
    finishedOrder_.pop_front();
  }
  stats_.pending = pending_.size();
}

std::string_view toString(AsyncReplies::Delivery delivery) {
  switch (delivery) {
    case AsyncReplies::Delivery::Matched: return "matched";
    case AsyncReplies::Delivery::Unknown: return "unknown";
    case AsyncReplies::Delivery::Late: return "late";
    case AsyncReplies::Delivery::Duplicate: return "duplicate";
  }
  return "?";
}

}  // namespace cpis::cpis

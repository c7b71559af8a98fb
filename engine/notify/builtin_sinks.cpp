#include "engine/notify/builtin_sinks.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include "engine/core/base36.h"
#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/escaping.h"
#include "engine/hl7v2/message.h"
#include "engine/hl7v2/path.h"

namespace cpis::notify {
namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.notify");
}

using Kind = plugin::DeliveryResult::Kind;

std::string_view rawAt(const hl7v2::Message& message, std::string_view path) {
  const auto parsed = hl7v2::parsePath(path);
  return parsed ? message.raw(parsed.value()) : std::string_view{};
}

std::string segment(const hl7v2::Message& message, std::string_view id) {
  const std::size_t index = message.findSegment(id);
  if (index >= message.segmentCount()) return {};
  return std::string(message.segmentRaw(index)) + '\r';
}

// `segment` with the NHS number `from` replaced by `to` wherever it stands alone (no digit
// either side).
std::string renumbered(std::string segment, std::string_view from, std::string_view to) {
  if (from.empty() || from.size() != to.size()) return segment;
  const auto digit = [&](std::size_t at) { return at < segment.size() && segment[at] >= '0' && segment[at] <= '9'; };
  for (std::size_t at = segment.find(from); at != std::string::npos; at = segment.find(from, at + from.size())) {
    if ((at > 0 && digit(at - 1)) || digit(at + from.size())) continue;
    segment.replace(at, from.size(), to);
  }
  return segment;
}

// When the failed check was decided (the payload's, else when its re-check was queued).
domain::Instant failedAt(const store::OutboxEntry& entry) {
  if (const auto ms = payloadField(entry.payload, kKeyFailedAtMs)) {
    try {
      return domain::Instant{std::chrono::milliseconds{std::stoll(*ms)}};
    } catch (const std::exception&) {  // not a number: the queue time below
    }
  }
  return std::chrono::time_point_cast<std::chrono::milliseconds>(entry.createdAt);
}

constexpr std::string_view kMovedText =
    "the EPR moved the attendance to another NHS number since the check failed, and that number was not checked "
    "(its own acknowledgement said why): the failed number, no longer the child's, is not queried; check CP-IS by "
    "hand";
constexpr std::string_view kMovedReadText =
    "the EPR moved the attendance to another NHS number since the check failed, and that number was only read "
    "silently (a scheduled setting: no access recorded, its local authority not told): the failed number, no longer "
    "the child's, is not queried; check CP-IS by hand";

std::string mergeRefusedText(std::string_view refused) {
  return "a patient merge retired the NHS number this check was for, and the surviving record's number may not be "
         "queried: " + std::string(refused) + "; check CP-IS by hand";
}

// An AR or CR is "send it again later" (the engine's own ERR 207 when its store is down), unless
// its error code says the EPR does not take this kind of message at all: 200 unsupported message
// type, 201 unsupported event code, 202 unsupported processing id, 203 unsupported version id
// (HL7 table 0357). Read from ERR-3 (v2.5 on), ERR-1.4 (v2.3, v2.4) or MSA-6. Sending the same
// message again cannot change such an answer: the result goes to a person.
std::optional<std::string> permanentRefusal(std::string_view reply) {
  const auto parsed = hl7v2::parse(reply, hl7v2::Charset::Latin1);  // codes only: as acknowledgementOf
  if (!parsed) return std::nullopt;
  const hl7v2::Message& ack = parsed.value();
  std::vector<std::string> codes = ack.getAll(hl7v2::parsePath("ERR(*)-3.1").value());
  for (auto& code : ack.getAll(hl7v2::parsePath("ERR(*)-1(*).4.1").value())) codes.push_back(std::move(code));
  codes.push_back(ack.get("MSA-6.1"));
  static const std::map<std::string, std::string, std::less<>> kPermanent{
      {"200", "unsupported message type"},
      {"201", "unsupported event code"},
      {"202", "unsupported processing id"},
      {"203", "unsupported version id"}};
  for (const auto& code : codes) {
    if (const auto found = kPermanent.find(code); found != kPermanent.end())
      return code + " " + found->second;
  }
  return std::nullopt;
}

}  // namespace

// ---- the late result ---------------------------------------------------------------------------

std::string lateResultControlId(std::string_view idempotencyKey) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a
  for (const char c : idempotencyKey) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return "L" + core::base36(hash);
}

std::string buildLateResult(std::string_view inbound, std::string_view controlId, std::string_view timestamp,
                            const std::function<void(std::string&)>& appendAlerts,
                            std::optional<std::pair<std::string_view, std::string_view>> renumber,
                            std::string_view failedCheckId, hl7v2::Charset whenUnstated) {
  const auto parsed = inbound.empty() ? core::Result<hl7v2::Message, core::Issue>(core::Issue{})
                                      : hl7v2::parse(inbound, whenUnstated);
  std::string out;
  if (parsed) {
    const hl7v2::Message& m = parsed.value();
    const hl7v2::Delimiters& d = m.delimiters();
    const std::string f(1, d.field);
    const std::string c(1, d.component);
    // The engine's own texts, escaped: a feed's delimiters may be any punctuation ('-', ' ').
    const auto esc = [&](std::string_view text) { return hl7v2::escapeText(text, d, m.charset()); };
    const std::string_view receiver = rawAt(m, "MSH-5");
    const std::string_view version = rawAt(m, "MSH-12");
    const std::string_view processing = rawAt(m, "MSH-11");
    out = "MSH" + f + d.encodingCharacters() + f +
          (receiver.empty() ? esc("CPIS-ENGINE") : std::string(receiver)) + f +
          std::string(rawAt(m, "MSH-6")) + f + std::string(rawAt(m, "MSH-3")) + f +
          std::string(rawAt(m, "MSH-4")) + f + esc(timestamp) + f + f + esc("ORU") + c + esc("R01") + c +
          esc("ORU_R01") + f + esc(controlId) + f +
          (processing.empty() ? esc("P") : std::string(processing)) + f +
          (version.empty() ? esc("2.4") : std::string(version)) + f + f + f + f + f +
          std::string(rawAt(m, "MSH-17")) + f + std::string(hl7v2::replyCharsetField(m)) + f +
          std::string(rawAt(m, "MSH-19"));  // country, character set, language, as the ACK echoes them
    while (out.ends_with(d.field)) out.pop_back();
    out += '\r';
    out += renumber ? renumbered(segment(m, "PID"), renumber->first, renumber->second) : segment(m, "PID");
    out += segment(m, "PV1");
    // OBR-2, the placer's number: the message whose ACK said the check failed (its MSH-10);
    // OBR-3, the filler's: that failed check's id (its ACK's ZCP-15), so the EPR can tell which
    // CHECK_FAILED alert this result completes.
    out += "OBR" + f + esc("1") + f + std::string(rawAt(m, "MSH-10")) + f +
           (failedCheckId.empty() ? std::string() : esc(failedCheckId) + c + esc("CPIS-ENGINE")) + f +
           esc("CPIS-CHECK") + c + esc("CP-IS check") + c + esc("99CPIS") + f + f + f + esc(timestamp) + '\r';
  } else {
    out = "MSH|^~\\&|CPIS-ENGINE||||" + std::string(timestamp) + "||ORU^R01^ORU_R01|" +
          std::string(controlId) +
          "|P|2.4\r"
          "OBR|1||" +
          (failedCheckId.empty() ? std::string() : std::string(failedCheckId) + "^CPIS-ENGINE") +
          "|CPIS-CHECK^CP-IS check^99CPIS|||" + std::string(timestamp) + '\r';
  }
  if (appendAlerts) appendAlerts(out);
  return out;
}

// ---- RecheckSink -----------------------------------------------------------------------------------

RecheckSink::RecheckSink(store::MessageStore& store, const Composer& composer,
                         std::map<std::string, RecheckFeed, std::less<>> feeds)
    : store_(store), composer_(composer), feeds_(std::move(feeds)) {}

plugin::DeliveryResult RecheckSink::deliver(const store::OutboxEntry& entry, Notifications& followUps) {
  auto attendance = attendanceFromPayload(entry.payload);
  if (!attendance) return {Kind::Failed, "the deferred check's payload names no feed or NHS number"};
  const auto feed = feeds_.find(attendance->feedId);
  if (feed == feeds_.end() || !feed->second.check) {
    return {Kind::Failed, "feed " + attendance->feedId + " no longer makes CP-IS checks"};
  }
  const std::string entryText = std::to_string(entry.id);
  const std::string messageText = entry.messageId ? std::to_string(*entry.messageId) : std::string("-");
  const std::string failedCheckId = payloadField(entry.payload, kKeyCheckId).value_or(entryText);
  if (feed->second.cancelled && feed->second.cancelled(*attendance)) {
    logger().notice("deferred check %s of message %s (check %s) withdrawn: the attendance was cancelled since",
                    entryText, messageText, failedCheckId);
    return {Kind::Delivered, "withdrawn: the attendance was cancelled"};
  }
  // A later check took its place (RecheckFeed::superseded): not made, so that neither a record
  // whose child is not there nor the same child a second time is queried.
  if (feed->second.superseded) {
    if (const auto why = feed->second.superseded(*attendance, failedAt(entry))) {
      logger().notice("deferred check %s of message %s (check %s) not made: %s", entryText, messageText,
                      failedCheckId, *why);
      return {Kind::Delivered, "superseded: " + *why};
    }
  }
  if (const auto moved = feed->second.movedTo ? feed->second.movedTo(*attendance, failedAt(entry)) : std::nullopt) {
    if (moved->checkPending) {
      return {Kind::Retry, "a check of the attendance's latest message has not ended"};
    }
    return {Kind::Failed, std::string(moved->readSilently ? kMovedReadText : kMovedText)};
  }
  // The attendance as its check failed; `attendance` becomes the one queried now.
  const domain::Attendance failed = *attendance;
  if (feed->second.mergedInto) {
    if (auto merged = feed->second.mergedInto(*attendance, failedAt(entry))) {
      attendance->nhsNumber = merged->surviving;
      if (!merged->refused.empty()) return {Kind::Failed, mergeRefusedText(merged->refused)};
      logger().notice("deferred check %s of message %s (check %s) re-keyed: a patient merge retired the NHS number "
                      "it was for; the surviving record's is checked",
                      entryText, messageText, failedCheckId);
    }
  }
  // The failed check's query may have reached Spine (a time-out after it went out whole), or
  // certainly did (Spine answered, but its reply could not be read): this one is then a possible
  // duplicate in the audit, as a retry within a lookup is.
  const bool unreadableBefore =
      payloadField(entry.payload, kKeyReason) == domain::codeOf(domain::ReasonCode::UnrecognisedResponse);
  const bool earlierMayHaveArrived =
      payloadField(entry.payload, kKeyMayHaveArrived) == "true" || unreadableBefore;
  // A failed check whose payload names no check id is tried under a new one.
  const std::string checkId = payloadField(entry.payload, kKeyCheckId).value_or(std::string());
  const domain::CheckOutcome outcome = feed->second.check(*attendance, checkId, earlierMayHaveArrived);
  const std::size_t followUpsBefore = followUps.size();
  if (unreadableBefore && outcome.reason == domain::ReasonCode::UnrecognisedResponse &&
      outcome.status == domain::CheckStatus::CheckFailed) {
    // Answered, again, with a reply that cannot be read: each such query Spine takes records an
    // access and tells the local authority (CPIS.md §7: one an attendance), and the next reply is
    // likely the same. Not asked again: a person checks CP-IS by hand (onDead says so). After a
    // time-out or Spine down, one unreadable reply is retried as any failure is.
    return {Kind::Failed, "CP-IS answered the re-check with a reply that cannot be read (check " +
                              outcome.checkId +
                              "): not asked again, since each query records an access and tells the local "
                              "authority; check CP-IS by hand"};
  }
  if (outcome.status != domain::CheckStatus::Found && outcome.status != domain::CheckStatus::NotFound) {
    return {Kind::Retry, "CP-IS check failed again: " +
                             std::string(outcome.reason ? domain::codeOf(*outcome.reason) : "NO_REASON") +
                             " (check " + outcome.checkId + ")"};
  }
  if (feed->second.answered) feed->second.answered(failed, outcome, failedCheckId, failedAt(entry));
  logger().notice("deferred check %s of message %s (check %s): %s%s", entryText, messageText, failedCheckId,
                  std::string(domain::codeOf(outcome.status)),
                  outcome.checkId == failedCheckId ? std::string() : ", check " + outcome.checkId);
  if (feed->second.appendAlerts && composer_.settings().feedsWithReturn.count(attendance->feedId) != 0) {
    std::string inbound;
    if (entry.messageId) {
      if (auto stored = store_.fetch(*entry.messageId); stored && stored.value().raw) inbound = *stored.value().raw;
    }
    const std::string key = Composer::idempotencyKey(kLateResult, attendance->feedId, attendance->visitNumber,
                                                     failedCheckId);
    std::optional<std::pair<std::string_view, std::string_view>> renumber;
    if (failed.nhsNumber && attendance->nhsNumber && *failed.nhsNumber != *attendance->nhsNumber) {
      renumber.emplace(failed.nhsNumber->reveal(), attendance->nhsNumber->reveal());
    }
    std::string hl7 = buildLateResult(
        inbound, lateResultControlId(key), hl7v2::hl7Timestamp(outcome.decidedAt),
        [&](std::string& message) { feed->second.appendAlerts(message, outcome); }, renumber, failedCheckId,
        feed->second.charsetWhenUnstated);
    if (auto late = composer_.lateResult(*attendance, outcome, failedCheckId, std::move(hl7), entry.messageId)) {
      followUps.push_back(std::move(*late));
    }
  }
  if (outcome.status == domain::CheckStatus::Found) {
    auto found = composer_.compose(kPlanFound, *attendance, outcome, failedCheckId, entry.messageId);
    std::move(found.begin(), found.end(), std::back_inserter(followUps));
  }
  // Staff were told to check CP-IS by hand (the failed check's ACK asks them to); a plan found
  // since, with neither the EPR's return connection nor a plan-found sink to take it, reaches
  // nobody but this line (the engine says so at start, too).
  if (outcome.status == domain::CheckStatus::Found && followUps.size() == followUpsBefore) {
    logger().critical("OPS ALERT: deferred check %s of message %s (check %s) found a CP-IS plan, and nobody receives "
                      "it: feed %s has no <returnConnection> and no sink takes plan-found; make sure the check by "
                      "hand its ACK asked for was made (cpis-admin messages show %s)",
                      entryText, messageText, failedCheckId, attendance->feedId, messageText);
  }
  return {};
}

Notifications RecheckSink::onDead(const store::OutboxEntry& entry) {
  auto attendance = attendanceFromPayload(entry.payload);
  if (!attendance) return {};
  domain::CheckOutcome abandoned;
  abandoned.status = domain::CheckStatus::CheckFailed;
  abandoned.reason = domain::parseReasonCode(payloadField(entry.payload, kKeyReason).value_or(""))
                         .value_or(domain::ReasonCode::SpineUnavailable);
  abandoned.reasonText = "the deferred check never succeeded";
  // About the child who is there: the surviving record's number when a merge retired the one
  // the check was for; and when the feed may not query that number, why, for the person who
  // checks CP-IS by hand (the record was merged; neither number was asked).
  const auto feed = feeds_.find(attendance->feedId);
  auto moved = feed != feeds_.end() && feed->second.movedTo ? feed->second.movedTo(*attendance, failedAt(entry))
                                                            : std::nullopt;
  if (moved && moved->number == *attendance->nhsNumber) moved.reset();  // not moved: a check of it pends
  if (moved) {  // about the record the EPR now says the child is, and why it was not checked
    attendance->nhsNumber = moved->number;
    // The name and date of birth are the failed message's: those of another child, when the EPR
    // corrected which patient this is. The person goes by the number and the visit.
    attendance->name = {};
    attendance->birthDate.reset();
    attendance->sex = domain::Sex::Unknown;
    if (moved->notCheckedReason) abandoned.reason = moved->notCheckedReason;  // else the failure's own
    abandoned.reasonText = std::string(moved->readSilently ? kMovedReadText : kMovedText);
  } else if (feed != feeds_.end() && feed->second.mergedInto) {
    if (auto merged = feed->second.mergedInto(*attendance, failedAt(entry))) {
      attendance->nhsNumber = merged->surviving;
      if (!merged->refused.empty()) {
        abandoned.reason = merged->refusedReason.value_or(domain::ReasonCode::NhsNumberUnverified);
        abandoned.reasonText = mergeRefusedText(merged->refused);
      }
    }
  }
  abandoned.queried = attendance->nhsNumber;
  abandoned.mode = domain::AccessMode::Unscheduled;
  abandoned.decidedAt = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  abandoned.checkId = payloadField(entry.payload, kKeyCheckId).value_or(std::to_string(entry.id));
  logger().critical("OPS ALERT: deferred check %s of message %s (check %s) abandoned: the local authority may not "
                    "have been told of the attendance; check CP-IS by hand",
                    std::to_string(entry.id), entry.messageId ? std::to_string(*entry.messageId) : std::string("-"),
                    abandoned.checkId);
  // Replayed after it was abandoned, and abandoned again: a new incident for a person, so a new
  // key (the first one's would be dropped by the outbox as already written). The replay gave the
  // entry a new deadline, which tells the two apart; the same abandonment written again after a
  // crash keeps its key.
  std::string sequence = abandoned.checkId;
  if (entry.deadline && *entry.deadline != failedAt(entry) + composer_.settings().deferredCheckDeadline) {
    sequence += "~" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         entry.deadline->time_since_epoch())
                                         .count());
  }
  return composer_.compose(kCheckAbandoned, *attendance, abandoned, sequence, entry.messageId);
}

// ---- ReturnSink --------------------------------------------------------------------------------------

ReturnSink::ReturnSink(ReturnSinkSettings settings) : settings_(std::move(settings)) {}

plugin::DeliveryResult ReturnSink::deliver(const store::OutboxEntry& entry, Notifications& /*followUps*/) {
  const auto hl7 = hl7Of(entry.payload);
  if (!hl7 || hl7->empty()) return {Kind::Failed, "the late result holds no HL7 message"};
  try {
    mllp::MllpClient client(settings_.host, settings_.port, settings_.connectTimeout, settings_.tls);
    client.send(*hl7);
    const auto reply = client.receive(settings_.ackTimeout);
    if (!reply) return {Kind::Retry, "the EPR closed the connection without an acknowledgement"};
    // Only an acknowledgement of this message (MSA-2 its MSH-10) says anything of it.
    const auto sent = hl7v2::parse(*hl7);
    const std::string code =
        hl7v2::acknowledgementOf(*reply, sent ? std::string(sent.value().controlId()) : std::string());
    if (code == "AA" || code == "CA") return {};
    if (code == "AE" || code == "CE") return {Kind::Failed, "the EPR answered " + code};
    if (code == "AR" || code == "CR") {
      if (const auto refusal = permanentRefusal(*reply)) {
        return {Kind::Failed,
                "the EPR answered " + code + " " + *refusal + ": it does not take this message"};
      }
    }
    return {Kind::Retry, code.empty() ? std::string("the EPR's answer is not an acknowledgement")
                                      : "the EPR answered " + code};
  } catch (const Poco::TimeoutException&) {
    return {Kind::Retry, "no acknowledgement from the EPR in time"};
  } catch (const Poco::Exception& e) {
    return {Kind::Retry, "return connection to " + settings_.host + ":" + std::to_string(settings_.port) +
                             " failed: " + std::string(e.name())};
  } catch (const std::exception&) {
    return {Kind::Retry, "return connection failed"};
  }
}

}  // namespace cpis::notify

#include "engine/notify/composer.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace cpis::notify {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string dateText(const domain::Date& date) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::optional<domain::Date> parseDate(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (text.size() != 10 || std::sscanf(std::string(text).c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return std::nullopt;
  const domain::Date date{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!date.ok()) return std::nullopt;
  return date;
}

// The plan type as notifications name it (notification.h: "CPP,LAC"): the CP-IS
// ObservationType code without its trailing "I" (information).
std::string_view planCode(domain::PlanType type) {
  switch (type) {
    case domain::PlanType::Cppi: return "CPP";
    case domain::PlanType::Laci: return "LAC";
    case domain::PlanType::Ucpi: return "UCP";
  }
  return "CPP";
}

std::string planTypes(const domain::CheckOutcome& outcome) {
  std::vector<std::string_view> seen;
  std::string text;
  for (const auto& record : outcome.records) {
    for (const auto& plan : record.plans) {
      const std::string_view code = planCode(plan.type);
      if (std::find(seen.begin(), seen.end(), code) != seen.end()) continue;
      seen.push_back(code);
      if (!text.empty()) text += ',';
      text += code;
    }
  }
  return text;
}

std::string planLines(const domain::CheckOutcome& outcome) {
  std::string text;
  for (const auto& record : outcome.records) {
    for (const auto& plan : record.plans) {
      if (!text.empty()) text += '\n';
      text += std::string(planCode(plan.type)) + '|' + dateText(plan.start) + '|' +
              (plan.end ? dateText(*plan.end) : std::string()) + '|' + record.la.odsCode + '|' + record.la.name +
              '|' + record.la.emergencyPhone;
    }
  }
  return text;
}

std::string base64(std::string_view bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  encoder.close();
  return out.str();
}

std::string toJson(const Fields& fields) {
  Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [key, value] : fields) object.set(key, value);
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

}  // namespace

std::optional<DataLevel> parseDataLevel(std::string_view text) {
  if (text == "minimal") return DataLevel::Minimal;
  if (text == "identifiers") return DataLevel::Identifiers;
  if (text == "full") return DataLevel::Full;
  return std::nullopt;
}

std::string_view toString(DataLevel level) {
  switch (level) {
    case DataLevel::Minimal: return "minimal";
    case DataLevel::Identifiers: return "identifiers";
    case DataLevel::Full: return "full";
  }
  return "minimal";
}

std::string isoTime(domain::Instant at) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(at);
  const auto day = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{seconds - day};
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

store::NewNotification Notification::view() const {
  store::NewNotification n;
  n.sink = sink;
  n.kind = kind;
  n.idempotencyKey = idempotencyKey;
  n.orderKey = orderKey;
  n.payload = payload;
  n.notBefore = notBefore;
  n.deadline = deadline;
  n.messageId = messageId;
  return n;
}

std::vector<store::NewNotification> views(const Notifications& notifications) {
  std::vector<store::NewNotification> out;
  out.reserve(notifications.size());
  for (const auto& n : notifications) out.push_back(n.view());
  return out;
}

std::string payloadFor(DataLevel level, std::string_view kind, std::string_view idempotencyKey,
                       const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                       const Fields& extra) {
  Fields f;
  const auto add = [&](std::string_view key, std::string value) { f.emplace_back(std::string(key), std::move(value)); };
  add(kKeyKind, std::string(kind));
  add(kKeyIdempotencyKey, std::string(idempotencyKey));
  add(kKeyFeed, attendance.feedId);
  add(kKeyOccurredAt, isoTime(outcome.decidedAt));
  add(kKeyCheckId, outcome.checkId);
  add(kKeyStatus, std::string(domain::codeOf(outcome.status)));
  if (outcome.reason) add(kKeyReason, std::string(domain::codeOf(*outcome.reason)));
  if (attendance.setting) add(kKeyCareSetting, std::string(domain::codeOf(*attendance.setting)));
  if (!attendance.siteOdsCode.empty()) add(kKeySiteOds, attendance.siteOdsCode);
  add(kKeyPlanCount, std::to_string(outcome.planCount()));
  if (!outcome.records.empty()) {
    add(kKeyPlanTypes, planTypes(outcome));
    add(kKeyLaOds, outcome.records.front().la.odsCode);
    add(kKeyLaName, outcome.records.front().la.name);
  }
  add(kKeyVisitNumber, attendance.visitNumber);
  if (level == DataLevel::Identifiers || level == DataLevel::Full) {
    const auto& number = outcome.queried ? outcome.queried : attendance.nhsNumber;
    if (number) add(kKeyNhsNumber, std::string(number->reveal()));
  }
  if (level == DataLevel::Full) {
    if (!attendance.name.family.empty()) add(kKeyFamilyName, attendance.name.family);
    if (!attendance.name.given.empty()) add(kKeyGivenName, attendance.name.given);
    if (attendance.birthDate) add(kKeyBirthDate, dateText(*attendance.birthDate));
    if (!outcome.records.empty()) add(kKeyPlans, planLines(outcome));
  }
  for (const auto& member : extra) f.push_back(member);
  return toJson(f);
}

std::optional<Fields> payloadFields(std::string_view payload) {
  try {
    Poco::JSON::Parser parser;
    const Poco::Dynamic::Var parsed = parser.parse(std::string(payload));
    const auto object = parsed.extract<Poco::JSON::Object::Ptr>();
    if (object.isNull()) return std::nullopt;
    Fields fields;
    for (const auto& [key, value] : *object) {
      if (value.isEmpty()) continue;
      fields.emplace_back(key, value.isString() ? value.extract<std::string>() : value.toString());
    }
    return fields;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::string> hl7Of(std::string_view payload) {
  if (auto plain = payloadField(payload, kKeyHl7)) return plain;
  const auto encoded = payloadField(payload, kKeyHl7Base64);
  if (!encoded) return std::nullopt;
  try {
    std::istringstream in(*encoded);
    Poco::Base64Decoder decoder(in);
    std::string bytes((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
    return bytes;
  } catch (const Poco::Exception&) {  // not base64: no message
    return std::nullopt;
  }
}

std::optional<std::string> payloadField(std::string_view payload, std::string_view key) {
  const auto fields = payloadFields(payload);
  if (!fields) return std::nullopt;
  for (const auto& [k, v] : *fields) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<domain::Attendance> attendanceFromPayload(std::string_view payload) {
  const auto fields = payloadFields(payload);
  if (!fields) return std::nullopt;
  domain::Attendance a;
  a.event = domain::AttendanceEvent::Start;
  for (const auto& [key, value] : *fields) {
    if (key == kKeyFeed) a.feedId = value;
    else if (key == kKeyVisitNumber) a.visitNumber = value;
    else if (key == kKeyNhsNumber) a.nhsNumber = domain::NhsNumber::parse(value);
    else if (key == kKeyFamilyName) a.name.family = value;
    else if (key == kKeyGivenName) a.name.given = value;
    else if (key == kKeyBirthDate) a.birthDate = parseDate(value);
    else if (key == kKeyCareSetting) a.setting = domain::parseCareSetting(value);
    else if (key == kKeySiteOds) a.siteOdsCode = value;
    else if (key == kKeyLocationKey) a.locationKey = value;
    else if (key == kKeyAcceptUnverified) a.locationTerms.acceptUnverifiedNhsNumber = value == "true";
    else if (key == kKeyAcceptMissingStatus) a.locationTerms.acceptMissingTraceStatus = value == "true";
  }
  if (a.feedId.empty() || !a.nhsNumber) return std::nullopt;
  return a;
}

Composer::Composer(ComposerSettings settings) : settings_(std::move(settings)) {}

std::string Composer::idempotencyKey(std::string_view kind, std::string_view feed, std::string_view visitNumber,
                                     std::string_view checkSeq) {
  std::string key;
  key.reserve(kind.size() + feed.size() + visitNumber.size() + checkSeq.size() + 3);
  key.append(kind).append(":").append(feed).append(":").append(visitNumber).append(":").append(checkSeq);
  return key;
}

bool Composer::subscribed(std::string_view kind) const {
  for (const auto& sink : settings_.sinks) {
    if (sink.events.count(kind) != 0) return true;
  }
  return false;
}

Notifications Composer::compose(std::string_view kind, const domain::Attendance& attendance,
                                const domain::CheckOutcome& outcome, std::string_view checkSeq,
                                std::optional<store::MessageId> messageId) const {
  Notifications out;
  const std::string key =
      idempotencyKey(kind, attendance.feedId, attendance.visitNumber, checkSeq.empty() ? outcome.checkId : checkSeq);
  // Counted from now, not from the check: a check-abandoned composed a day after the failed
  // check must still be tried for the whole window.
  const auto written =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  for (const auto& sink : settings_.sinks) {
    if (sink.events.count(kind) == 0) continue;
    Notification n;
    n.sink = sink.name;
    n.kind = std::string(kind);
    n.idempotencyKey = key;
    if (sink.ordered && !attendance.visitNumber.empty()) n.orderKey = attendance.feedId + ":" + attendance.visitNumber;
    n.payload = payloadFor(sink.data, kind, key, attendance, outcome);
    n.messageId = messageId;
    n.deadline = written + settings_.deliveryDeadline;
    out.push_back(std::move(n));
  }
  return out;
}

std::string Composer::deferredCheckKey(const domain::Attendance& attendance,
                                       const domain::CheckOutcome& failed) {
  return idempotencyKey(kDeferredCheck, attendance.feedId, attendance.visitNumber, failed.checkId);
}

Notification Composer::deferredCheck(const domain::Attendance& attendance, const domain::CheckOutcome& failed,
                                     std::optional<store::MessageId> messageId) const {
  Notification n;
  n.sink = std::string(kRecheckSink);
  n.kind = std::string(kDeferredCheck);
  n.idempotencyKey = deferredCheckKey(attendance, failed);
  Fields own{{std::string(kKeyLocationKey), attendance.locationKey},
             {std::string(kKeyFailedAtMs), std::to_string(failed.decidedAt.time_since_epoch().count())}};
  if (const auto accept = attendance.locationTerms.acceptUnverifiedNhsNumber) {
    own.emplace_back(std::string(kKeyAcceptUnverified), *accept ? "true" : "false");
  }
  if (const auto accept = attendance.locationTerms.acceptMissingTraceStatus) {
    own.emplace_back(std::string(kKeyAcceptMissingStatus), *accept ? "true" : "false");
  }
  if (failed.requestMayHaveArrived) own.emplace_back(std::string(kKeyMayHaveArrived), "true");
  n.payload = payloadFor(DataLevel::Full, kDeferredCheck, n.idempotencyKey, attendance, failed, own);
  const store::TimePoint at = failed.decidedAt;
  n.notBefore = at + settings_.deferredCheckDelay;
  n.deadline = at + settings_.deferredCheckDeadline;
  n.messageId = messageId;
  return n;
}

std::optional<Notification> Composer::lateResult(const domain::Attendance& attendance,
                                                 const domain::CheckOutcome& outcome, std::string_view checkSeq,
                                                 std::string hl7, std::optional<store::MessageId> messageId) const {
  if (settings_.feedsWithReturn.count(attendance.feedId) == 0) return std::nullopt;
  Notification n;
  n.sink = returnSinkName(attendance.feedId);
  n.kind = std::string(kLateResult);
  n.idempotencyKey = idempotencyKey(kLateResult, attendance.feedId, attendance.visitNumber, checkSeq);
  const bool ascii = std::all_of(hl7.begin(), hl7.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  n.payload = payloadFor(DataLevel::Minimal, kLateResult, n.idempotencyKey, attendance, outcome,
                         {ascii ? Fields::value_type{std::string(kKeyHl7), std::move(hl7)}
                                : Fields::value_type{std::string(kKeyHl7Base64), base64(hl7)}});
  n.messageId = messageId;
  return n;
}

Notifications Composer::afterCheck(const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                                   std::optional<store::MessageId> messageId) const {
  if (outcome.mode != domain::AccessMode::Unscheduled) return {};  // silent reads notify nobody
  switch (outcome.status) {
    case domain::CheckStatus::Found: return compose(kPlanFound, attendance, outcome, {}, messageId);
    case domain::CheckStatus::CheckFailed: {
      Notifications out;
      if (settings_.deferredChecks && attendance.nhsNumber) out.push_back(deferredCheck(attendance, outcome, messageId));
      auto failed = compose(kCheckFailed, attendance, outcome, {}, messageId);
      std::move(failed.begin(), failed.end(), std::back_inserter(out));
      return out;
    }
    case domain::CheckStatus::NotFound:
    case domain::CheckStatus::NotChecked: return {};
  }
  return {};
}

}  // namespace cpis::notify

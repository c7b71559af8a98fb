// What Spine answers to a CP-IS query, believed only once it validates (CPIS.md §6, H3):
// REPC_IN000007GB01 -> Found; QUQI_IN010000UK14 with the configured "no records" code ->
// NotFound; any other QUQI, an MCCI AE/AR, a SOAP fault -> CheckFailed SpineRejected; anything
// else -> CheckFailed UnrecognisedResponse with a reason.
#include <algorithm>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cpis/spine_envelope.h"
#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_wire.h"

namespace cpis::cpis {
namespace {

using domain::ReasonCode;
using wire::Node;

constexpr std::size_t kMaxAccesses = 25;  // CP-IS returns at most the 25 latest (CPIS.md §2)

void fail(ParsedReply& reply, ReasonCode reason, std::string detail, bool retryable = false) {
  reply.result = LookupResult::failed(reason, std::move(detail), retryable);
}

bool isInteraction(Node node) {
  if (node == nullptr) return false;
  for (const auto name : SpineSchemas::interactions()) {
    if (name != "QUPC_IN000006GB01" && wire::isElement(node, wire::kHl7Ns, name)) return true;
  }
  return false;
}

// The interactions in the Body: its children, and (as Spine wraps one, e.g. in
// CP-ISNHSQueryResponse) its grandchildren. A reply holds one; with more, which one counts is
// anybody's guess (a "no records" before a wrapped FOUND), so none is believed.
std::vector<Node> findInteractions(Node body) {
  std::vector<Node> found;
  for (Node node = wire::firstChild(body); node != nullptr; node = wire::nextSibling(node)) {
    if (isInteraction(node)) {
      found.push_back(node);
      continue;
    }
    for (Node inner = wire::firstChild(node); inner != nullptr; inner = wire::nextSibling(inner)) {
      if (isInteraction(inner)) found.push_back(inner);
    }
  }
  return found;
}

// Spine's words for a failure, for the audit trail only (LookupFailure::peerText).
void sayInAudit(ParsedReply& reply, std::string words) {
  if (reply.result.failure && !words.empty()) reply.result.failure->peerText = wire::xmlSafe(words).substr(0, 1000);
}

// Detected issues: ControlActEvent/reason and acknowledgement/acknowledgementDetail. Returns
// "code X" for the first, for the failure's detail, and its display name in `words` (which
// may name the patient: the audit's only).
std::string collectIssues(Node interaction, std::vector<std::string>& codes, std::string* words = nullptr) {
  std::string first;
  const auto take = [&](Node code) {
    if (code == nullptr) return;
    std::string value = wire::attribute(code, "code");
    // An issue without a code (a nullFlavor in its place) is an issue all the same: it never
    // matches the no-records code, so a reply that carries one is not read as NOT_FOUND.
    if (value.empty()) value = "nullFlavor:" + wire::attribute(code, "nullFlavor");
    codes.push_back(value);
    if (first.empty()) {
      first = "code " + wire::logSafe(value, 40);
      if (words != nullptr) *words = wire::attribute(code, "displayName");
    }
  };
  for (const Node reason : wire::children(wire::child(interaction, "ControlActEvent"), "reason")) {
    take(wire::path(reason, {"justifyingDetectedIssueEvent", "code"}));
  }
  for (const Node detail : wire::children(wire::child(interaction, "acknowledgement"), "acknowledgementDetail")) {
    take(wire::child(detail, "code"));
  }
  return first.empty() ? "no detected-issue code" : first;
}

void readFault(Node fault, ParsedReply& reply) {
  reply.interaction = std::string(kSoapFault);
  const std::string faultCode = wire::text(wire::child(fault, "faultcode", nullptr));
  const std::string faultString = wire::text(wire::child(fault, "faultstring", nullptr));
  const Node error = wire::child(wire::child(wire::child(fault, "detail", nullptr), "errorList", wire::kNaspNs),
                                 "error", wire::kNaspNs);
  const std::string errorCode = wire::text(wire::child(error, "errorCode", wire::kNaspNs));
  // Codes only in the detail (logs, the ACK); Spine's words may name the patient: audit only.
  std::string detail = "SOAP fault " + wire::logSafe(faultCode, 40);
  std::string words = faultString;
  if (!errorCode.empty()) {
    reply.issueCodes.push_back(errorCode);
    detail += " (Spine error " + wire::logSafe(errorCode, 40) + ")";
    if (const auto text = wire::text(wire::child(error, "description", wire::kNaspNs)); !text.empty()) {
      words += (words.empty() ? "" : " / ") + text;
    }
  }
  // A Server fault may pass (Spine's "system failure"); a Client fault is the query's own.
  const bool retryable = faultCode.size() >= 6 && faultCode.compare(faultCode.size() - 6, 6, "Server") == 0;
  fail(reply, ReasonCode::SpineRejected, std::move(detail), retryable);
  sayInAudit(reply, std::move(words));
}

std::optional<domain::ProtectionPlan> readPlan(Node pertinentInformation, std::string& problem) {
  for (const auto& names : envelope::planTemplates()) {
    const Node plan = wire::child(pertinentInformation, names.element);
    if (plan == nullptr) continue;
    domain::ProtectionPlan result;
    result.type = names.type;
    const auto start = wire::parseDate(wire::attribute(wire::path(plan, {"component", names.startDate, "value"}), "value"));
    if (!start) {
      problem = std::string("a ") + std::string(domain::codeOf(names.type)) + " plan has no valid start date";
      return std::nullopt;
    }
    result.start = *start;
    const Node end = wire::path(plan, {"component1", names.endDate, "value"});
    if (end != nullptr) {
      const auto date = wire::parseDate(wire::attribute(end, "value"));
      if (!date) {
        problem = std::string("a ") + std::string(domain::codeOf(names.type)) + " plan has an invalid end date";
        return std::nullopt;
      }
      result.end = *date;
    }
    return result;
  }
  problem = "a record holds a plan of no known type";
  return std::nullopt;
}

std::string nhsNumberOf(Node holder) {
  for (const Node id : wire::children(holder, "id")) {
    if (wire::attribute(id, "root") == wire::kNhsNumberOid) return wire::attribute(id, "extension");
  }
  return {};
}

// One <record>: the local authority, 1..3 plans and the subject. A record naming both a child
// and an unborn child (a pregnant girl with her own plan) becomes two: the UCPI plans go with
// the unborn child. Naming both with no UCPI plan, it is the child's record alone.
// `named` collects every NHS number the record names (each subject's), the ones it sets aside too.
bool readRecord(Node record, ParsedReply& reply, std::set<std::string>& named, std::string& problem) {
  domain::CpisRecord base;
  const Node organisation = wire::path(record, {"communicationFunctionSnd", "organisation"});
  base.la.odsCode = wire::attribute(wire::child(organisation, "id"), "extension");
  base.la.name = wire::text(wire::child(organisation, "name"));
  // `use` is a set of codes ("WP EC": a workplace number that is also the emergency one). Each
  // role takes the first number marked for it alone, else the first marked for it among others.
  std::optional<std::string> emergency, emergencyShared, workplace, workplaceShared;
  for (const Node telecom : wire::children(organisation, "telecom")) {
    std::string number = wire::attribute(telecom, "value");
    if (number.rfind("tel:", 0) == 0) number.erase(0, 4);
    std::istringstream codes(wire::attribute(telecom, "use"));
    std::set<std::string> use{std::istream_iterator<std::string>(codes),
                              std::istream_iterator<std::string>()};
    const auto take = [&](const char* code, std::optional<std::string>& alone,
                          std::optional<std::string>& shared) {
      if (use.count(code) == 0) return;
      auto& slot = use.size() == 1 ? alone : shared;
      if (!slot) slot = number;
    };
    take("EC", emergency, emergencyShared);
    take("WP", workplace, workplaceShared);
  }
  if (auto number = emergency ? emergency : emergencyShared) base.la.emergencyPhone = *number;
  if (auto number = workplace ? workplace : workplaceShared) base.la.workplacePhone = *number;
  const Node cpisRecord = wire::child(record, "CP-ISRecord");
  std::vector<domain::ProtectionPlan> plans;
  for (const Node information : wire::children(cpisRecord, "pertinentInformation15")) {
    auto plan = readPlan(information, problem);
    if (!plan) return false;
    plans.push_back(*plan);
  }
  std::string childNumber, motherNumber;
  bool child = false, unborn = false;
  for (const Node subject : wire::children(cpisRecord, "subject")) {
    if (const Node node = wire::child(subject, "COCT_TP145101GB01.Child")) {
      child = true;
      childNumber = nhsNumberOf(node);
      if (!childNumber.empty()) named.insert(childNumber);
    } else if (const Node mother = wire::child(subject, "COCT_TP145100GB01.UnbornChild")) {
      unborn = true;
      motherNumber = nhsNumberOf(wire::path(mother, {"parentMotherPerson", "playedMother"}));
      if (!motherNumber.empty()) named.insert(motherNumber);
    }
  }
  if (!child && !unborn) {
    problem = "a record has no subject";
    return false;
  }
  std::vector<domain::ProtectionPlan> unbornPlans, childPlans;
  for (const auto& plan : plans) (plan.type == domain::PlanType::Ucpi ? unbornPlans : childPlans).push_back(plan);
  const auto add = [&](domain::SubjectKind kind, std::vector<domain::ProtectionPlan> recordPlans,
                       const std::string& number) {
    domain::CpisRecord result = base;
    result.subject = kind;
    result.plans = std::move(recordPlans);
    reply.result.records.push_back(std::move(result));
    reply.subjectNhsNumbers.push_back(number);
  };
  if (child && unborn && !unbornPlans.empty() && !childPlans.empty()) {
    add(domain::SubjectKind::Child, std::move(childPlans), childNumber);
    add(domain::SubjectKind::UnbornChild, std::move(unbornPlans), motherNumber);
  } else if (unborn && (!child || !unbornPlans.empty())) {
    // The unborn child's plan, on the mother's number. With the child named too but no UCP
    // there, the plans are the child's own (below).
    add(domain::SubjectKind::UnbornChild, std::move(plans), motherNumber);
  } else {
    add(domain::SubjectKind::Child, std::move(plans), childNumber);
  }
  return true;
}

bool readAccess(Node query, ParsedReply& reply, std::set<std::string>& named, std::string& problem) {
  // (None named is not another number: the subject's own check covers a record without one.)
  if (auto number = wire::attribute(wire::path(query, {"queryByParameter", "person.NHSnumber", "value"}), "extension");
      !number.empty()) {
    named.insert(std::move(number));
  }
  const auto at = wire::parseTimestamp(wire::attribute(wire::child(query, "effectiveTime"), "value"));
  const auto author = envelope::readAuthor(wire::child(query, "author"));
  if (!at || !author) {
    problem = !at ? "an access has no valid time" : "an access has no author";
    return false;
  }
  domain::PriorAccess access;
  access.at = *at;
  access.bySystem = author->kind == Author::Kind::System;
  access.personName = author->personName;
  access.jobRoleCode = author->jobRoleCode;
  access.jobRoleName = author->jobRoleName;
  access.orgOdsCode = author->orgOdsCode;
  access.orgName = author->orgName;
  if (access.bySystem && !author->asid.empty()) access.asid = author->asid;
  reply.result.accesses.push_back(std::move(access));
  return true;
}

void readRecords(Node interaction, ParsedReply& reply) {
  const Node controlAct = wire::child(interaction, "ControlActEvent");
  collectIssues(interaction, reply.issueCodes);
  const std::string responseCode = wire::attribute(wire::path(controlAct, {"queryAck", "queryResponseCode"}), "code");
  if (responseCode != "OK") {
    fail(reply, ReasonCode::UnrecognisedResponse,
         "REPC_IN000007GB01 with query response code " + wire::logSafe(responseCode, 20) + " instead of OK");
    return;
  }
  const Node payload = wire::path(controlAct, {"subject", "CP-ISNHSQueryResponse"});
  std::string problem;
  // Every NHS number the reply names: the records' subjects (those a record sets aside too) and
  // each access's query. One reply is about one person: two numbers are a mixed reply (hazard
  // H1), not one to pick from.
  std::set<std::string> named;
  std::size_t records = 0;
  for (const Node information : wire::children(payload, "pertinentInformation14")) {
    for (const Node record : wire::children(wire::child(information, "pertinentCP-ISRecordControlAct"), "record")) {
      ++records;
      if (!readRecord(record, reply, named, problem)) {
        return fail(reply, ReasonCode::UnrecognisedResponse, "REPC_IN000007GB01: " + problem);
      }
    }
  }
  std::size_t accessRecords = 0;
  for (const Node information : wire::children(payload, "pertinentInformation13")) {
    ++accessRecords;
    if (!readAccess(wire::child(information, "pertinentCP-ISNHSQuery"), reply, named, problem)) {
      return fail(reply, ReasonCode::UnrecognisedResponse, "REPC_IN000007GB01: " + problem);
    }
  }
  if (reply.result.records.empty()) {
    return fail(reply, ReasonCode::UnrecognisedResponse, "REPC_IN000007GB01 without a record");
  }
  if (named.size() > 1) {
    return fail(reply, ReasonCode::UnrecognisedResponse,
                "REPC_IN000007GB01 names more than one NHS number (its records' subjects and accesses)");
  }
  // A partial reply: fewer (or more) records than it says it returns. A plan left out is not
  // shown as the whole answer.
  const std::string total = wire::attribute(
      wire::path(payload, {"pertinentInformation12", "pertinentTotalReturnedChildRecords", "value"}), "value");
  if (total != std::to_string(records)) {
    return fail(reply, ReasonCode::UnrecognisedResponse,
                "REPC_IN000007GB01 says it returns " + wire::logSafe(total, 12) + " record(s) and holds " +
                    std::to_string(records));
  }
  // The same for the earlier accesses (TRAR): a history cut short is not shown as the whole one.
  const std::string accessTotal = wire::attribute(
      wire::path(payload, {"pertinentInformation11", "pertinentTotalReturnedAccessRecords", "value"}),
      "value");
  if (accessTotal != std::to_string(accessRecords)) {
    return fail(reply, ReasonCode::UnrecognisedResponse,
                "REPC_IN000007GB01 says it returns " + wire::logSafe(accessTotal, 12) +
                    " access record(s) and holds " + std::to_string(accessRecords));
  }
  auto& accesses = reply.result.accesses;
  std::stable_sort(accesses.begin(), accesses.end(), [](const auto& a, const auto& b) { return a.at > b.at; });
  if (accesses.size() > kMaxAccesses) accesses.resize(kMaxAccesses);
  reply.result.status = domain::CheckStatus::Found;
  reply.result.failure.reset();
}

void readQueryActFailed(Node interaction, ParsedReply& reply, const ReplyOptions& options) {
  std::string words;
  const std::string first = collectIssues(interaction, reply.issueCodes, &words);
  // HL7 v3's QueryResponse: NF "no data found". An error (QE, AE) is not "no records", whatever
  // its issue codes say.
  const std::string responseCode =
      wire::attribute(wire::path(interaction, {"ControlActEvent", "queryAck", "queryResponseCode"}), "code");
  const bool noRecords =
      !reply.issueCodes.empty() && !options.noRecordsCode.empty() && responseCode == "NF" &&
      std::all_of(reply.issueCodes.begin(), reply.issueCodes.end(), [&](const auto& code) { return code == options.noRecordsCode; });
  if (noRecords) {
    reply.result = LookupResult{};
    reply.result.status = domain::CheckStatus::NotFound;
    return;
  }
  fail(reply, ReasonCode::SpineRejected,
       "QUQI_IN010000UK14 query failed: " + first + ", queryResponseCode " +
           (responseCode.empty() ? std::string("(none)") : wire::logSafe(responseCode, 8)));
  sayInAudit(reply, std::move(words));
}

void readApplicationAck(Node interaction, ParsedReply& reply) {
  std::string words;
  const std::string first = collectIssues(interaction, reply.issueCodes, &words);
  const std::string type = wire::attribute(wire::child(interaction, "acknowledgement"), "typeCode");
  if (type == "AE" || type == "AR") {
    fail(reply, ReasonCode::SpineRejected, "MCCI_IN010000UK13 " + wire::logSafe(type, 8) + ": " + first);
    return sayInAudit(reply, std::move(words));
  }
  fail(reply, ReasonCode::UnrecognisedResponse,
       "MCCI_IN010000UK13 " + wire::logSafe(type, 8) + " carries no query result");
}

}  // namespace

ParsedReply parseReply(std::string_view soapText, const SpineSchemas& schemas, const ReplyOptions& options) {
  ParsedReply reply;
  std::string error;
  const auto document = wire::XmlDocument::parse(soapText, error);
  if (!document) {
    fail(reply, ReasonCode::UnrecognisedResponse, "reply is " + error);
    return reply;
  }
  const auto parts = envelope::partsOf(document->root(), error);
  if (!parts) {
    fail(reply, ReasonCode::UnrecognisedResponse, "reply is " + error);
    return reply;
  }
  reply.relatesTo = wire::stripUuidPrefix(wire::text(wire::child(parts->header, "RelatesTo", wire::kWsaNs)));

  if (const Node fault = wire::child(parts->body, "Fault", wire::kSoapNs)) {
    readFault(fault, reply);
    return reply;
  }
  const std::vector<Node> interactions = findInteractions(parts->body);
  if (interactions.empty()) {
    const Node first = wire::firstChild(parts->body);
    fail(reply, ReasonCode::UnrecognisedResponse,
         first == nullptr ? std::string("reply has an empty SOAP Body")
                          : "reply holds no CP-IS interaction (found " + wire::logSafe(wire::localName(first), 60) + ")");
    return reply;
  }
  if (interactions.size() > 1) {
    fail(reply, ReasonCode::UnrecognisedResponse,
         "reply holds " + std::to_string(interactions.size()) + " CP-IS interactions (" +
             wire::logSafe(wire::localName(interactions[0]), 60) + ", " +
             wire::logSafe(wire::localName(interactions[1]), 60) + "): one is expected");
    return reply;
  }
  const Node interaction = interactions.front();
  reply.interaction = std::string(wire::localName(interaction));
  const auto problems = envelope::validateInteraction(soapText, *document, interaction, schemas);
  if (!problems.empty()) {
    std::string detail = "reply " + reply.interaction + " does not validate against the CP-IS schemas: " +
                         wire::logSafe(redactQuoted(problems.front()), 240);
    if (problems.size() > 1) detail += " (and " + std::to_string(problems.size() - 1) + " more)";
    fail(reply, ReasonCode::UnrecognisedResponse, std::move(detail));
    return reply;
  }
  reply.messageId = wire::stripUuidPrefix(wire::attribute(wire::child(interaction, "id"), "root"));
  reply.receiverAsid =
      wire::attribute(wire::path(interaction, {"communicationFunctionRcv", "device", "id"}), "extension");
  // The query answered: wsa:RelatesTo, else the v3 messageRef. Both there and naming two
  // queries, neither is believed.
  const std::string messageRef = wire::stripUuidPrefix(
      wire::attribute(wire::path(interaction, {"acknowledgement", "messageRef", "id"}), "root"));
  if (reply.relatesTo.empty()) {
    reply.relatesTo = messageRef;
  } else if (!messageRef.empty() && messageRef != reply.relatesTo) {
    fail(reply, ReasonCode::UnrecognisedResponse,
         "reply " + reply.interaction + " names one query in wsa:RelatesTo and another in its messageRef");
    return reply;
  }
  if (wire::attribute(wire::child(interaction, "interactionId"), "extension") != reply.interaction) {
    fail(reply, ReasonCode::UnrecognisedResponse, "reply " + reply.interaction + " names another interaction in interactionId");
    return reply;
  }
  if (reply.interaction == "REPC_IN000007GB01") readRecords(interaction, reply);
  else if (reply.interaction == "QUQI_IN010000UK14") readQueryActFailed(interaction, reply, options);
  else readApplicationAck(interaction, reply);
  return reply;
}

ParsedReply parseReply(std::string_view soapText, const SpineSchemas& schemas, const ReplyOptions& options,
                       const domain::NhsNumber& queried) {
  ParsedReply reply = parseReply(soapText, schemas, options);
  if (reply.result.status != domain::CheckStatus::Found) return reply;
  const bool same = std::all_of(reply.subjectNhsNumbers.begin(), reply.subjectNhsNumbers.end(),
                                [&](const std::string& number) { return number == queried.reveal(); });
  if (!same) fail(reply, ReasonCode::UnrecognisedResponse, "reply is about another NHS number than the one queried");
  return reply;
}

}  // namespace cpis::cpis

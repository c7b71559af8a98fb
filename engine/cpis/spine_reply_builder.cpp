// Replies as Spine sends them (CPIS_Query_Response_syncAsync.xsl, CPIS_GenerateHL7MCCIDetectedIssue.xsl),
// for the simulator and the tests. Each interaction validates against the CP-IS schemas.
#include "engine/cpis/spine_envelope.h"
#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_wire.h"

namespace cpis::cpis {
namespace {

using wire::XmlWriter;

// TS.NHS.DateType1 wants YYYYMMDDhhmm: a plan date is written at midnight of its day.
std::string planDate(domain::Date date) { return wire::formatDate(date) + "0000"; }

// TEL.NHS.value.mandatory: "tel:" then an optional + and digits only.
std::string telephone(std::string_view number) {
  std::string value = "tel:";
  for (const char c : number) {
    if ((c >= '0' && c <= '9') || (c == '+' && value.size() == 4)) value += c;
  }
  return value;
}

void writePlan(XmlWriter& out, const domain::ProtectionPlan& plan) {
  for (const auto& names : envelope::planTemplates()) {
    if (names.type != plan.type) continue;
    out.start("pertinentInformation15");
    out.empty("npfitlc:contentId", {{"root", wire::kTemplateOid}, {"extension", names.contentId}});
    out.start(names.element);
    out.start("component").start(names.startDate).empty("value", {{"value", planDate(plan.start)}}).end().end();
    if (plan.end) {
      out.start("component1").start(names.endDate).empty("value", {{"value", planDate(*plan.end)}}).end().end();
    }
    out.end().end();
  }
}

void writeSubject(XmlWriter& out, domain::SubjectKind kind, const ReplySubject& subject) {
  out.start("subject");
  if (kind == domain::SubjectKind::Child) {
    out.empty("npfitlc:contentId", {{"root", wire::kTemplateOid}, {"extension", "COCT_TP145101GB01#Child"}});
    out.start("COCT_TP145101GB01.Child");
    out.empty("id", {{"root", wire::kNhsNumberOid}, {"extension", subject.nhsNumber}});
    out.start("childPerson");
    out.empty("birthTime", {{"value", wire::formatDate(subject.birthDate)}});
    envelope::writePersonName(out, subject.givenName, subject.familyName);
    out.end().end();
  } else {
    // The unborn child is known by its mother: her name, birth date and NHS number.
    out.empty("npfitlc:contentId", {{"root", wire::kTemplateOid}, {"extension", "COCT_TP145100GB01#UnbornChild"}});
    out.start("COCT_TP145100GB01.UnbornChild").start("parentMotherPerson");
    out.empty("birthTime", {{"value", wire::formatDate(subject.birthDate)}});
    envelope::writePersonName(out, subject.givenName, subject.familyName);
    out.start("playedMother");
    out.empty("id", {{"root", wire::kNhsNumberOid}, {"extension", subject.nhsNumber}});
    out.end().end().end();
  }
  out.end();
}

void writeRecord(XmlWriter& out, const domain::CpisRecord& record, const ReplySubject& subject) {
  out.start("pertinentInformation14").start("pertinentCP-ISRecordControlAct").start("record");
  out.start("communicationFunctionSnd").start("organisation");  // the responsible local authority
  envelope::writeOdsId(out, record.la.odsCode);
  out.element("name", record.la.name);
  out.empty("telecom", {{"value", telephone(record.la.emergencyPhone)}, {"use", "EC"}});
  if (record.la.workplacePhone) out.empty("telecom", {{"value", telephone(*record.la.workplacePhone)}, {"use", "WP"}});
  out.end().end();
  out.start("CP-ISRecord");
  for (const auto& plan : record.plans) writePlan(out, plan);
  writeSubject(out, record.subject, subject);
  out.end();
  out.end().end().end();
}

void writeAccess(XmlWriter& out, const domain::PriorAccess& access, const ReplySubject& subject,
                 const std::string& id) {
  Author author;
  author.kind = access.bySystem ? Author::Kind::System : Author::Kind::Person;
  author.asid = access.asid.value_or("");
  author.jobRoleCode = access.jobRoleCode;
  author.jobRoleName = access.jobRoleName;
  author.personName = access.personName;
  author.orgOdsCode = access.orgOdsCode;
  author.orgName = access.orgName;
  out.start("pertinentInformation13").start("pertinentCP-ISNHSQuery");
  out.empty("effectiveTime", {{"value", wire::formatTimestamp(access.at)}});
  out.empty("id", {{"root", id}});
  envelope::writeAuthor(out, author);
  out.start("queryByParameter").start("person.NHSnumber");
  out.empty("value", {{"extension", subject.nhsNumber}});
  out.end().end();
  out.end().end();
}

// A detected issue as the ControlActEvent's reason.
void writeReason(XmlWriter& out, std::string_view code, std::string_view text) {
  out.start("reason").start("justifyingDetectedIssueEvent");
  out.empty("code", {{"code", code}, {"codeSystem", wire::kSpineErrorOid}, {"displayName", text}});
  out.end().end();
}

// QUQI_IN010000UK14: the query act failed, or found nothing.
std::string buildQueryActFailed(const MessageHeader& header, std::string_view acknowledgement,
                                std::string_view responseCode, std::string_view code, std::string_view text) {
  XmlWriter out;
  envelope::startEnvelope(out, "urn:nhs:names:services:cpisquery/QUQI_IN010000UK14", header, std::nullopt);
  envelope::startInteraction(out, "QUQI_IN010000UK14", header, acknowledgement);
  out.start("ControlActEvent");
  envelope::writeAuthor1(out, header.fromAsid);
  writeReason(out, code, text);
  out.start("queryAck").empty("queryResponseCode", {{"code", responseCode}}).end();
  return out.finish();
}

}  // namespace

const ReplySubject& placeholderSubject() {
  static const ReplySubject kSubject{"9990000018", "Test", "Placeholder",
                                     domain::Date{std::chrono::year(2015), std::chrono::January, std::chrono::day(1)}};
  return kSubject;
}

std::string buildFoundReply(const MessageHeader& header, const ReplySubject& subject,
                            const std::vector<domain::CpisRecord>& records,
                            const std::vector<domain::PriorAccess>& accesses) {
  XmlWriter out;
  envelope::startEnvelope(out, kReplyAction, header, std::nullopt);
  out.start("CP-ISNHSQueryResponse").attribute("xmlns", wire::kHl7Ns);  // Spine's wrapper in the Body
  envelope::startInteraction(out, "REPC_IN000007GB01", header);
  out.start("ControlActEvent").attribute("classCode", "CACT").attribute("moodCode", "EVN");
  envelope::writeAuthor1(out, header.fromAsid);
  out.start("subject").attribute("typeCode", "SUBJ").start("CP-ISNHSQueryResponse");
  out.empty("effectiveTime", {{"value", wire::formatTimestamp(header.creationTime)}});
  out.empty("id", {{"root", wire::derivedUuid(header.messageId, 0)}});
  out.start("pertinentInformation11").start("pertinentTotalReturnedAccessRecords");
  out.empty("value", {{"value", std::to_string(accesses.size())}}).end().end();
  out.start("pertinentInformation12").start("pertinentTotalReturnedChildRecords");
  out.empty("value", {{"value", std::to_string(records.size())}}).end().end();
  for (std::size_t i = 0; i < accesses.size(); ++i) {
    writeAccess(out, accesses[i], subject, wire::derivedUuid(header.messageId, i + 1));
  }
  for (const auto& record : records) writeRecord(out, record, subject);
  out.end().end();  // CP-ISNHSQueryResponse, subject
  out.start("queryAck").empty("queryResponseCode", {{"code", "OK"}}).end();
  return out.finish();
}

std::string buildFoundReply(const MessageHeader& header, const std::vector<domain::CpisRecord>& records,
                            const std::vector<domain::PriorAccess>& accesses) {
  return buildFoundReply(header, placeholderSubject(), records, accesses);
}

std::string buildNotFoundReply(const MessageHeader& header, const ReplyOptions& options) {
  return buildQueryActFailed(header, "AA", "NF", options.noRecordsCode, "No records found");
}

std::string buildQueryFailedReply(const MessageHeader& header, std::string_view code, std::string_view text) {
  return buildQueryActFailed(header, "AE", "ID", code, text);
}

std::string buildApplicationError(const MessageHeader& header, std::string_view code, std::string_view text) {
  XmlWriter out;
  envelope::startEnvelope(out, "urn:nhs:names:services:cpisquery/MCCI_IN010000UK13", header, std::nullopt);
  envelope::startInteraction(out, "MCCI_IN010000UK13", header, "AE");
  out.start("ControlActEvent");
  envelope::writeAuthor1(out, header.fromAsid);
  writeReason(out, code, text);
  return out.finish();
}

std::string buildSoapFault(std::string_view faultCode, std::string_view text) {
  XmlWriter out;
  out.start("SOAP:Envelope").attribute("xmlns:SOAP", wire::kSoapNs);
  out.start("SOAP:Body").start("SOAP:Fault");
  out.element("faultcode", "SOAP:Server");
  out.element("faultstring", text);
  out.start("detail").start("nasp:errorList").attribute("xmlns:nasp", wire::kNaspNs).start("nasp:error");
  out.element("nasp:codeContext", "urn:nhs:names:error:tms");
  out.element("nasp:errorCode", faultCode);
  out.element("nasp:severity", "Error");
  out.element("nasp:description", text);
  return out.finish();
}

}  // namespace cpis::cpis

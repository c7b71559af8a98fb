#include "engine/cpis/spine_envelope.h"

namespace cpis::cpis::envelope {

using wire::XmlWriter;

void writeAccessEventType(XmlWriter& out, domain::AccessMode mode) {
  out.start("hl7:accessEventType");
  // A silent read must never become a recorded access: a Spine that does not know this entry
  // answers a SOAP MustUnderstand fault instead of ignoring it. Ignoring "true" is harmless:
  // unscheduled is what a query without the flag means.
  if (mode == domain::AccessMode::Scheduled) out.attribute("SOAP:mustUnderstand", "1");
  out.attribute("value", mode == domain::AccessMode::Unscheduled ? "true" : "false");
  out.end();
}

std::optional<domain::AccessMode> readAccessEventType(wire::Node soapHeader) {
  const wire::Node flag = wire::child(soapHeader, kAccessEventType);
  if (flag == nullptr) return domain::AccessMode::Unscheduled;
  const std::string value = wire::attribute(flag, "value");
  if (value == "true") return domain::AccessMode::Unscheduled;
  if (value == "false") return domain::AccessMode::Scheduled;
  return std::nullopt;
}

void writeCommunicationFunction(XmlWriter& out, const char* name, std::string_view asid) {
  const std::string prefix = std::string_view(name).find(':') == std::string_view::npos ? "" : "hl7:";
  out.start(name).start((prefix + "device").c_str());
  out.empty((prefix + "id").c_str(), {{"root", wire::kAsidOid}, {"extension", asid}});
  out.end().end();
}

void startEnvelope(XmlWriter& out, std::string_view action, const MessageHeader& header,
                   std::optional<domain::AccessMode> accessMode) {
  out.start("SOAP:Envelope")
      .attribute("xmlns:SOAP", wire::kSoapNs)
      .attribute("xmlns:wsa", wire::kWsaNs)
      .attribute("xmlns:hl7", wire::kHl7Ns);
  out.start("SOAP:Header");
  out.element("wsa:MessageID", "uuid:" + header.messageId);
  out.element("wsa:Action", action);
  if (!header.endpoint.empty()) out.element("wsa:To", header.endpoint);
  if (!header.fromAddress.empty()) out.start("wsa:From").element("wsa:Address", header.fromAddress).end();
  writeCommunicationFunction(out, "hl7:communicationFunctionRcv", header.toAsid);
  writeCommunicationFunction(out, "hl7:communicationFunctionSnd", header.fromAsid);
  if (!header.replyTo.empty()) out.start("wsa:ReplyTo").element("wsa:Address", header.replyTo).end();
  if (!header.relatesTo.empty()) out.element("wsa:RelatesTo", "uuid:" + header.relatesTo);
  if (accessMode) writeAccessEventType(out, *accessMode);
  out.end();  // SOAP:Header
  out.start("SOAP:Body");
}

void startInteraction(XmlWriter& out, const char* interaction, const MessageHeader& header,
                      std::string_view acknowledgement) {
  out.start(interaction).attribute("xmlns", wire::kHl7Ns).attribute("xmlns:npfitlc", wire::kNpfitNs);
  out.empty("id", {{"root", header.messageId}});
  out.empty("creationTime", {{"value", wire::formatTimestamp(header.creationTime)}});
  out.empty("versionCode", {{"code", wire::kVersionCode}});
  out.empty("interactionId", {{"root", wire::kInteractionOid}, {"extension", interaction}});
  out.empty("processingCode", {{"code", "P"}});
  out.empty("processingModeCode", {{"code", "T"}});
  out.empty("acceptAckCode", {{"code", "NE"}});
  if (!acknowledgement.empty()) {
    out.start("acknowledgement").attribute("typeCode", acknowledgement).start("messageRef");
    if (header.relatesTo.empty()) out.empty("id", {{"nullFlavor", "NI"}});
    else out.empty("id", {{"root", header.relatesTo}});
    out.end().end();
  }
  writeCommunicationFunction(out, "communicationFunctionRcv", header.toAsid);
  writeCommunicationFunction(out, "communicationFunctionSnd", header.fromAsid);
}

void writeAuthor1(XmlWriter& out, std::string_view asid) {
  out.start("author1").start("AgentSystemSDS").start("agentSystemSDS");
  out.empty("id", {{"root", wire::kAsidOid}, {"extension", asid}});
  out.end().end().end();
}

void writePersonName(XmlWriter& out, std::string_view given, std::string_view family) {
  out.start("name");
  if (!given.empty()) out.element("given", given);
  if (!family.empty()) out.element("family", family);
  out.end();
}

void writePersonName(XmlWriter& out, std::string_view name) {
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
  const auto space = name.rfind(' ');
  if (space == std::string_view::npos) {
    writePersonName(out, {}, name);
    return;
  }
  std::string_view given = name.substr(0, space);
  while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
  writePersonName(out, given, name.substr(space + 1));
}

void writeOdsId(XmlWriter& out, std::string_view code) {
  out.empty("id", {{"root", wire::kOdsOrganisationOid}, {"extension", code}});
}

void writeJobRole(XmlWriter& out, std::string_view code, std::string_view name) {
  out.empty("code", {{"code", code}, {"codeSystem", wire::kJobRoleOid}, {"displayName", name}});
}

void writeAuthor(XmlWriter& out, const Author& author) {
  out.start("author");
  if (author.kind == Author::Kind::System) {
    out.empty("npfitlc:contentId", {{"root", wire::kTemplateOid}, {"extension", "COCT_TP145104GB01#System"}});
    out.start("COCT_TP145104GB01.System");
    out.empty("id", {{"root", wire::kAsidOid}, {"extension", author.asid}});
    if (!author.personName.empty() || !author.jobRoleCode.empty() || !author.jobRoleName.empty()) {
      out.start("indirectAuthority").start("superiorAssignedEntity");
      writeJobRole(out, author.jobRoleCode, author.jobRoleName);
      out.start("assignedPerson");
      writePersonName(out, author.personName);
      out.end().end().end();
    }
    out.start("maintainingOrganization");
    writeOdsId(out, author.orgOdsCode);
    out.element("name", author.orgName);
    out.end();
  } else {
    out.empty("npfitlc:contentId",
              {{"root", wire::kTemplateOid}, {"extension", "COCT_TP145102GB01#AssignedAuthor"}});
    out.start("COCT_TP145102GB01.AssignedAuthor");
    writeJobRole(out, author.jobRoleCode, author.jobRoleName);
    if (author.sdsUserId.empty()) out.empty("id", {{"nullFlavor", "UNK"}});
    else out.empty("id", {{"root", wire::kSdsUserOid}, {"extension", author.sdsUserId}});
    if (!author.sdsRoleProfileId.empty()) {
      out.empty("id", {{"root", wire::kSdsRoleProfileOid}, {"extension", author.sdsRoleProfileId}});
    }
    out.start("assignedAuthorPerson");
    writePersonName(out, author.personName);
    out.end();
    out.start("representedOrganization");
    writeOdsId(out, author.orgOdsCode);
    out.element("name", author.orgName);
    out.end();
  }
  out.end().end();  // the template, author
}

namespace {

std::string idWithRoot(wire::Node parent, const char* root) {
  for (const wire::Node id : wire::children(parent, "id")) {
    if (wire::attribute(id, "root") == root) return wire::attribute(id, "extension");
  }
  return {};
}

}  // namespace

std::optional<Author> readAuthor(wire::Node author) {
  Author result;
  if (const wire::Node system = wire::child(author, "COCT_TP145104GB01.System")) {
    result.kind = Author::Kind::System;
    result.asid = idWithRoot(system, wire::kAsidOid);
    const wire::Node nominated = wire::path(system, {"indirectAuthority", "superiorAssignedEntity"});
    const wire::Node role = wire::child(nominated, "code");
    result.jobRoleCode = wire::attribute(role, "code");
    result.jobRoleName = wire::attribute(role, "displayName");
    result.personName = wire::personName(wire::path(nominated, {"assignedPerson", "name"}));
    const wire::Node organisation = wire::child(system, "maintainingOrganization");
    result.orgOdsCode = wire::attribute(wire::child(organisation, "id"), "extension");
    result.orgName = wire::text(wire::child(organisation, "name"));
    return result;
  }
  if (const wire::Node person = wire::child(author, "COCT_TP145102GB01.AssignedAuthor")) {
    result.kind = Author::Kind::Person;
    const wire::Node role = wire::child(person, "code");
    result.jobRoleCode = wire::attribute(role, "code");
    result.jobRoleName = wire::attribute(role, "displayName");
    result.sdsUserId = idWithRoot(person, wire::kSdsUserOid);
    result.sdsRoleProfileId = idWithRoot(person, wire::kSdsRoleProfileOid);
    result.personName = wire::personName(wire::path(person, {"assignedAuthorPerson", "name"}));
    const wire::Node organisation = wire::child(person, "representedOrganization");
    result.orgOdsCode = wire::attribute(wire::child(organisation, "id"), "extension");
    result.orgName = wire::text(wire::child(organisation, "name"));
    return result;
  }
  return std::nullopt;
}

const std::array<PlanTemplate, 3>& planTemplates() {
  static const std::array<PlanTemplate, 3> kTemplates{{
      {domain::PlanType::Cppi, "COCT_TP146105GB01#CPPInformation", "COCT_TP146105GB01.CPPInformation", "cPPStartDate",
       "cPPEndDate"},
      {domain::PlanType::Laci, "COCT_TP146103GB01#LACInformation", "COCT_TP146103GB01.LACInformation", "lACStartDate",
       "lACEndDate"},
      {domain::PlanType::Ucpi, "COCT_TP146104GB01#UCPInformation", "COCT_TP146104GB01.UCPInformation", "uCPStartDate",
       "uCPEndDate"},
  }};
  return kTemplates;
}

std::optional<Parts> partsOf(wire::Node root, std::string& error) {
  if (!wire::isElement(root, wire::kSoapNs, "Envelope")) {
    error = wire::isElement(root, nullptr, "Envelope") ? "not a SOAP 1.1 envelope (another namespace)"
                                                       : "not a SOAP envelope";
    return std::nullopt;
  }
  Parts parts;
  parts.header = wire::child(root, "Header", wire::kSoapNs);
  parts.body = wire::child(root, "Body", wire::kSoapNs);
  if (parts.body == nullptr) {
    error = "the SOAP envelope has no Body";
    return std::nullopt;
  }
  return parts;
}

std::string asidOf(wire::Node communicationFunction) {
  const wire::Node device = wire::child(communicationFunction, "device");
  for (const wire::Node id : wire::children(device, "id")) {
    if (wire::attribute(id, "root") == wire::kAsidOid) return wire::attribute(id, "extension");
  }
  return {};
}

std::vector<std::string> validateInteraction(std::string_view soapText, const wire::XmlDocument& document,
                                             wire::Node interaction, const SpineSchemas& schemas) {
  if (const auto alone = wire::cut(soapText, document, interaction)) return schemas.validate(*alone);
  return schemas.validate(wire::serialise(interaction));
}

}  // namespace cpis::cpis::envelope

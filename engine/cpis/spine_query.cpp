// The CP-IS NHS query QUPC_IN000006GB01: built by the engine, parsed (and checked as Spine
// would) by the simulator.
#include <algorithm>

#include "engine/cpis/spine_envelope.h"
#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_wire.h"

namespace cpis::cpis {
namespace {

using wire::Node;

// Spine's labels (spine2_xslt/CPIS_Query.xsl), so a simulator's answer reads like Spine's.
const std::string kMissing = "ErrorBase1712.MANDATORY_DATA_MISSING: ";

bool isAsid(std::string_view text) {
  return text.size() == 12 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void authorProblems(const Author& author, std::vector<std::string>& problems) {
  const auto require = [&](const std::string& value, const char* label) {
    if (value.empty()) problems.push_back(kMissing + label);
  };
  if (author.kind == Author::Kind::System) {
    if (author.asid.empty()) problems.push_back(kMissing + "authorDevice.systemID");
    else if (!isAsid(author.asid)) problems.push_back("authorDevice.systemID is not an ASID (12 digits)");
    require(author.orgOdsCode, "authorDevice.orgCode");
    require(author.orgName, "authorDevice.orgName");
    require(author.jobRoleCode, "authorDevice.jobRoleCode");
    require(author.jobRoleName, "authorDevice.jobRoleName");
    require(author.personName, "authorDevice.assignedPersonName");
  } else {
    require(author.sdsUserId, "authorID");
    require(author.jobRoleCode, "Job Role Code");
    require(author.jobRoleName, "Job Role Name");
    require(author.personName, "authorPerson.name");
    require(author.orgOdsCode, "Organisation Code");
    require(author.orgName, "Organisation Name");
  }
}

void eventIdProblems(const std::string& checkId, std::vector<std::string>& problems) {
  if (checkId.empty()) problems.push_back(kMissing + "Event ID");
  else if (!wire::isUuid(checkId)) problems.push_back("Event ID is not an upper-case UUID");
}

}  // namespace

std::string newMessageId() { return wire::randomUuid(); }

std::string buildQuery(const LookupRequest& request, const MessageHeader& header) {
  wire::XmlWriter out;
  envelope::startEnvelope(out, kQueryAction, header, request.mode);
  envelope::startInteraction(out, "QUPC_IN000006GB01", header);
  out.start("ControlActEvent");
  envelope::writeAuthor1(out, header.fromAsid);
  out.start("subject").start("CP-ISQueryStub").start("cP-ISNHSQuery");
  out.empty("effectiveTime", {{"value", wire::formatTimestamp(header.creationTime)}});
  out.empty("id", {{"root", request.checkId}});
  envelope::writeAuthor(out, request.author);
  out.start("queryByParameter").start("person.NHSnumber");
  out.empty("value", {{"extension", request.nhsNumber.reveal()}});
  return out.finish();  // closes every element still open, down to SOAP:Envelope
}

std::vector<std::string> checkRequest(const LookupRequest& request) {
  std::vector<std::string> problems;
  eventIdProblems(request.checkId, problems);
  authorProblems(request.author, problems);
  return problems;
}

core::Result<ParsedQuery, std::vector<std::string>> parseQuery(std::string_view soapText,
                                                               const SpineSchemas& schemas) {
  using Problems = std::vector<std::string>;
  std::string error;
  const auto document = wire::XmlDocument::parse(soapText, error);
  if (!document) return Problems{error};
  const auto parts = envelope::partsOf(document->root(), error);
  if (!parts) return Problems{error};
  const Node interaction = wire::firstChild(parts->body);
  if (!wire::isElement(interaction, wire::kHl7Ns, "QUPC_IN000006GB01")) {
    return Problems{"the SOAP Body does not hold QUPC_IN000006GB01"};
  }

  Problems problems;
  for (const auto& problem : envelope::validateInteraction(soapText, *document, interaction, schemas)) {
    problems.push_back("schema: " + redactQuoted(problem));
  }

  MessageHeader header;
  // The transmission wrapper (CPIS_Query.xsl, TransmissionWrapperChecks).
  header.messageId = wire::attribute(wire::child(interaction, "id"), "root");
  if (header.messageId.empty()) problems.emplace_back("ErrorBase1732.INVALID_ID");
  const std::string creationTime = wire::attribute(wire::child(interaction, "creationTime"), "value");
  const auto created = wire::parseTimestamp(creationTime);
  if (!created) problems.emplace_back("ErrorBase1732.INVALID_CREATION_TIME");
  else header.creationTime = *created;
  if (wire::attribute(wire::child(interaction, "versionCode"), "code").empty()) {
    problems.emplace_back("ErrorBase1732.INVALID_VERSION_CODE");
  }
  const Node interactionId = wire::child(interaction, "interactionId");
  if (wire::attribute(interactionId, "root") != wire::kInteractionOid ||
      wire::attribute(interactionId, "extension") != "QUPC_IN000006GB01") {
    problems.emplace_back("ErrorBase1732.INCONSISTENT_HL7_INTERACTION_ID");
  }
  header.toAsid = envelope::asidOf(wire::child(interaction, "communicationFunctionRcv"));
  if (header.toAsid.empty()) problems.emplace_back("ErrorBase1732.INVALID_COMM_FUNC_RCV");
  header.fromAsid = envelope::asidOf(wire::child(interaction, "communicationFunctionSnd"));
  if (header.fromAsid.empty()) problems.emplace_back("ErrorBase1732.INVALID_COMM_FUNC_SND");
  const auto controlActs = wire::children(interaction, "ControlActEvent");
  if (controlActs.size() != 1) problems.emplace_back("ErrorBase1732.INVALID_CONTROL_ACT");
  const Node controlAct = controlActs.empty() ? nullptr : controlActs.front();
  const auto author1 = wire::children(controlAct, "author1");
  if (author1.size() != 1 ||
      wire::attribute(wire::path(author1.front(), {"AgentSystemSDS", "agentSystemSDS", "id"}), "extension").empty()) {
    problems.push_back(kMissing + "author1");
  }

  // The SOAP header: WS-Addressing and the access mode.
  const std::string wsaMessageId = wire::stripUuidPrefix(wire::text(wire::child(parts->header, "MessageID", wire::kWsaNs)));
  if (wsaMessageId.empty()) problems.emplace_back("wsa:MessageID is missing");
  else if (wsaMessageId != header.messageId) problems.emplace_back("wsa:MessageID does not match the message id");
  if (wire::text(wire::child(parts->header, "Action", wire::kWsaNs)) != kQueryAction) {
    problems.push_back("wsa:Action is not " + std::string(kQueryAction));
  }
  header.endpoint = wire::text(wire::child(parts->header, "To", wire::kWsaNs));
  if (const Node from = wire::child(parts->header, "From", wire::kWsaNs)) {
    header.fromAddress = wire::text(wire::child(from, "Address", wire::kWsaNs));
  }
  if (const Node replyTo = wire::child(parts->header, "ReplyTo", wire::kWsaNs)) {
    header.replyTo = wire::text(wire::child(replyTo, "Address", wire::kWsaNs));
  }
  header.relatesTo = wire::stripUuidPrefix(wire::text(wire::child(parts->header, "RelatesTo", wire::kWsaNs)));
  const auto mode = envelope::readAccessEventType(parts->header);
  if (!mode) problems.emplace_back("accessEventType is neither true nor false");

  // The query (cpisQueryChecks, cpisAuthor*Checks).
  const Node query = wire::path(controlAct, {"subject", "CP-ISQueryStub", "cP-ISNHSQuery"});
  const std::string checkId = wire::attribute(wire::child(query, "id"), "root");
  eventIdProblems(checkId, problems);
  const std::string nhsText =
      wire::attribute(wire::path(query, {"queryByParameter", "person.NHSnumber", "value"}), "extension");
  std::optional<domain::NhsNumber> nhsNumber;
  if (nhsText.empty()) {
    problems.push_back(kMissing + "NHS Number");
  } else if (const auto invalid = domain::NhsNumber::check(nhsText)) {
    problems.push_back("INVALID_NHS_NUMBER: " + std::string(domain::describe(*invalid)));
  } else {
    nhsNumber = domain::NhsNumber::parse(nhsText);
  }
  const auto author = envelope::readAuthor(wire::child(query, "author"));
  if (!author) problems.push_back(kMissing + "[authorPerson or authorDevice]");
  else authorProblems(*author, problems);

  if (!problems.empty() || !nhsNumber || !author || !mode) return problems;
  // The audit fields (feed, location) are the engine's own: a query does not carry them.
  return ParsedQuery{std::move(header), LookupRequest{.nhsNumber = *nhsNumber,
                                                      .mode = *mode,
                                                      .author = *author,
                                                      .checkId = checkId,
                                                      .feedId = {},
                                                      .locationKey = {},
                                                      .answerBy = std::nullopt,
                                                      .earlierMayHaveArrived = false}};
}

}  // namespace cpis::cpis

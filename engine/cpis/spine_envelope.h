#pragma once

// Internal to engine/cpis: the parts every CP-IS message shares: the SOAP 1.1 envelope with its
// WS-Addressing header, the HL7 v3 transmission wrapper (MCCI_MT010101UK12 / MCCI_MT020101UK12)
// and the small v3 structures that recur (ASIDs, names, organisations).

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_wire.h"

namespace cpis::cpis::envelope {

// The silent-read flag (docs/cpis.md, "accessEventType"): a SOAP header entry, because the
// public schema has no place for it. To move it, change writeAccessEventType() and
// readAccessEventType() only.
inline constexpr std::string_view kAccessEventType = "accessEventType";  // hl7 namespace
void writeAccessEventType(wire::XmlWriter& out, domain::AccessMode mode);
// nullopt when present with a value other than "true" or "false"; absent = Unscheduled.
std::optional<domain::AccessMode> readAccessEventType(wire::Node soapHeader);

// Writes the XML declaration, SOAP:Envelope with its namespaces, the SOAP:Header (wsa
// MessageID, Action, To, From, the hl7 communication functions, ReplyTo, RelatesTo), an
// access mode if given, and opens SOAP:Body. The caller writes the body and calls finish().
void startEnvelope(wire::XmlWriter& out, std::string_view action, const MessageHeader& header,
                   std::optional<domain::AccessMode> accessMode);

// Opens the interaction element (default namespace hl7, npfitlc declared) and writes the
// transmission wrapper up to and including communicationFunctionSnd. `acknowledgement`, when
// not empty, is the typeCode of an MCCI_MT020101UK12 acknowledgement (AA, AE, AR) that refers
// to header.relatesTo. The caller then writes ControlActEvent and closes the element.
void startInteraction(wire::XmlWriter& out, const char* interaction, const MessageHeader& header,
                      std::string_view acknowledgement = {});

// <name><id root="1.2.826.0.1285.0.2.0.107" extension="asid"/></name> inside device, as the
// transmission wrapper and the SOAP header carry them.
void writeCommunicationFunction(wire::XmlWriter& out, const char* name, std::string_view asid);
// ControlActEvent/author1: the sending system's ASID.
void writeAuthor1(wire::XmlWriter& out, std::string_view asid);
// A PN: the last word is the family name, the words before it one given name.
void writePersonName(wire::XmlWriter& out, std::string_view name);
void writePersonName(wire::XmlWriter& out, std::string_view given, std::string_view family);
// <name root=ODS organisation OID extension=code/>
void writeOdsId(wire::XmlWriter& out, std::string_view code);
// <code code=... codeSystem=SDS job role displayName=.../>
void writeJobRole(wire::XmlWriter& out, std::string_view code, std::string_view name);

// The author of a CP-IS query (QUPC_MT000006GB01.Author, and each prior access in
// REPC_MT000007GB01): npfitlc:contentId, then the person (COCT_TP145102GB01.AssignedAuthor) or
// the system (COCT_TP145104GB01.System, the nominated person as its indirectAuthority). A
// person without an SDS user id (prior accesses do not carry one) gets <id nullFlavor="UNK"/>.
void writeAuthor(wire::XmlWriter& out, const Author& author);
// nullopt when `author` holds neither template; missing fields are left empty.
std::optional<Author> readAuthor(wire::Node author);

// How each plan type appears in REPC_MT000007GB01 (NPFIT-100018_Act): the template named by
// npfitlc:contentId, its element, and the elements of its start and end dates. The plan type
// is told by the element: the templates forbid the code element.
struct PlanTemplate {
  domain::PlanType type;
  const char* contentId;
  const char* element;
  const char* startDate;
  const char* endDate;
};
const std::array<PlanTemplate, 3>& planTemplates();

// The parts of a SOAP 1.1 envelope; nullopt (and `error`) when the root is something else.
struct Parts {
  wire::Node header = nullptr;  // may be null: SOAP headers are optional
  wire::Node body = nullptr;
};
std::optional<Parts> partsOf(wire::Node root, std::string& error);

// The extension of the first <id root="1.2.826.0.1285.0.2.0.107"> under `device`-like parents.
std::string asidOf(wire::Node communicationFunction);

// Validates `interaction` (an element of `document`, parsed from `soapText`) against the CP-IS
// schemas, once: the interaction as received, cut from the text (wire::cut), or, when it cannot
// be cut, serialised from the tree. Empty means valid.
std::vector<std::string> validateInteraction(std::string_view soapText, const wire::XmlDocument& document,
                                             wire::Node interaction, const SpineSchemas& schemas);

}  // namespace cpis::cpis::envelope

#pragma once

// The CP-IS HL7 v3 messages on Spine (CPIS.md §6, docs/cpis.md): the query the engine sends
// (QUPC_IN000006GB01 in a SOAP 1.1 envelope with WS-Addressing) and the replies it believes
// (REPC_IN000007GB01 records found, QUQI_IN010000UK14 query failed or no records,
// MCCI_IN010000UK13 application error, SOAP faults). The builders of replies and parseQuery()
// serve the simulator and the tests.
//
// Times are written in UTC as YYYYMMDDhhmmss (see docs/cpis.md: whether Spine expects UK local
// time is unconfirmed); plan and birth dates are calendar dates, never shifted through a time
// zone. Every text value is XML-escaped; characters XML cannot carry are dropped.
// Nothing here throws for bad input, and no message text it produces quotes patient data.

#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/cpis/lookup.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/domain/cpis_record.h"
#include "engine/domain/nhs_number.h"

namespace cpis::cpis {

// The QUQI_IN010000UK14 detected-issue code that means "no records found". Unconfirmed
// (CPIS.md, unconfirmed fact 3): configure the real one during on-boarding. The default is a
// label no numeric Spine code can equal, so until it is configured a real "no records" reply
// is a failed check, never a wrong "not found".
inline constexpr std::string_view kDefaultNoRecordsCode = "NO_RECORDS_FOUND";

// SOAP actions: the service and the interaction (CPIS.md §6; the query's by analogy).
inline constexpr std::string_view kQueryAction = "urn:nhs:names:services:cpisquery/QUPC_IN000006GB01";
inline constexpr std::string_view kReplyAction = "urn:nhs:names:services:cpisquery/REPC_IN000007GB01";

struct MessageHeader {
  std::string messageId;         // UUID (upper-case, as Spine uses), wsa:MessageID and the v3 id
  domain::Instant creationTime;  // creationTime (and the query's effectiveTime)
  std::string fromAsid, toAsid;  // sender / receiver ASIDs (12 digits)
  // Party keys belong to the ebXML (asynchronous) binding, whose eb:From/eb:To carry them; the
  // SOAP envelope has no place for them, so the builders here do not write them.
  std::string fromPartyKey, toPartyKey;
  std::string endpoint;     // wsa:To
  std::string replyTo;      // async: wsa:ReplyTo address; empty = synchronous (omitted)
  std::string relatesTo;    // replies: the request's message id (wsa:RelatesTo)
  std::string fromAddress;  // wsa:From/wsa:Address; empty = omitted
};

// A new message id: a random (version 4) UUID in upper case.
std::string newMessageId();

// The whole SOAP envelope of the query. The silent-read flag travels in the SOAP header
// (docs/cpis.md, "accessEventType"): the public schema has no place for it.
std::string buildQuery(const LookupRequest& request, const MessageHeader& header);

// What Spine's CPIS_Query.xsl and our own rules require of a request before it is sent: the
// event id (a UUID), and per author kind the ASID (12 digits), SDS user id, job role code and
// name, person name, organisation code and name. Empty = complete. No text quotes a value.
std::vector<std::string> checkRequest(const LookupRequest& request);

struct ParsedQuery {
  MessageHeader header;
  LookupRequest request;
};
// For the simulator: validates the interaction against the schemas and applies the checks of
// CPIS_Query.xsl that the schema does not catch (mandatory event id, NHS number with a valid
// modulus 11, author fields...); on failure returns the problems as text (Spine's labels,
// e.g. "ErrorBase1712.MANDATORY_DATA_MISSING: NHS Number"; no text quotes a value).
core::Result<ParsedQuery, std::vector<std::string>> parseQuery(std::string_view soapText,
                                                               const SpineSchemas& schemas);

struct ReplyOptions {
  std::string noRecordsCode{kDefaultNoRecordsCode};  // the QUQI code that means "no records"
};

// Who the records are about: the child, or for an unborn child's plan the mother (her NHS
// number is the one queried). REPC_IN000007GB01 requires these, and each prior access repeats
// the NHS number queried.
struct ReplySubject {
  std::string nhsNumber;  // 10 digits
  std::string givenName;
  std::string familyName;
  domain::Date birthDate{};
};
// The fictitious subject the three-argument buildFoundReply() writes (NHS number 9990000018,
// from the range reserved for test data). Tests only: the simulator passes the real one.
const ReplySubject& placeholderSubject();

// Builders, used by the simulator (and by tests); each output's interaction validates.
// `header` is the reply's own: its messageId, ASIDs (from = the replier), relatesTo = the
// request's message id. Records need 1..3 plans each, and every UCPI plan an end date.
std::string buildFoundReply(const MessageHeader& header, const ReplySubject& subject,
                            const std::vector<domain::CpisRecord>& records,
                            const std::vector<domain::PriorAccess>& accesses);
std::string buildFoundReply(const MessageHeader& header, const std::vector<domain::CpisRecord>& records,
                            const std::vector<domain::PriorAccess>& accesses);
std::string buildNotFoundReply(const MessageHeader& header, const ReplyOptions& options);
// QUQI_IN010000UK14 with another detected-issue code.
std::string buildQueryFailedReply(const MessageHeader& header, std::string_view code, std::string_view text);
// MCCI_IN010000UK13 with acknowledgement AE and the code as its detected issue.
std::string buildApplicationError(const MessageHeader& header, std::string_view code, std::string_view text);
// A SOAP 1.1 fault as Spine sends one: faultcode SOAP:Server, faultstring `text`, and in
// detail a nasp:errorList whose error carries `faultCode` as its errorCode and `text`.
std::string buildSoapFault(std::string_view faultCode, std::string_view text);

inline constexpr std::string_view kSoapFault = "SOAP:Fault";  // ParsedReply::interaction of a fault

struct ParsedReply {
  std::string relatesTo;  // the request's message id (wsa:RelatesTo, else the v3 messageRef), upper case
  LookupResult result;    // Found (records, accesses), NotFound, or CheckFailed with reason:
                          // SpineRejected (QUQI other code, MCCI AE/AR, SOAP fault),
                          // UnrecognisedResponse (not XML, not valid against the schema,
                          // unknown interaction); never NotFound except from the configured code
  std::string interaction;                     // e.g. "REPC_IN000007GB01", "SOAP:Fault"; empty if none found
  std::string messageId;                       // the reply's own id, when it has one
  std::string receiverAsid;                    // communicationFunctionRcv's ASID: ours, for a reply to us
  std::vector<std::string> issueCodes;         // raw detected-issue / error codes, for the audit
  std::vector<std::string> subjectNhsNumbers;  // Found: the NHS number of each record's subject
};
ParsedReply parseReply(std::string_view soapText, const SpineSchemas& schemas, const ReplyOptions& options);
// As above, and a Found reply whose subjects are not all `queried` becomes CheckFailed
// UnrecognisedResponse ("reply is about another NHS number"): an alert never reaches the
// wrong patient (CPIS.md H1).
ParsedReply parseReply(std::string_view soapText, const SpineSchemas& schemas, const ReplyOptions& options,
                       const domain::NhsNumber& queried);

}  // namespace cpis::cpis

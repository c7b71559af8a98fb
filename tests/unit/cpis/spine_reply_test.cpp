#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/cpis/spine_message.h"
#include "tests/unit/cpis/cpis_test_support.h"
#include "tests/unit/cpis/spine_samples.h"

namespace cc = cpis::cpis;
namespace samples = cpis::test::samples;
using cpis::domain::CheckStatus;
using cpis::domain::CpisRecord;
using cpis::domain::PlanType;
using cpis::domain::PriorAccess;
using cpis::domain::ProtectionPlan;
using cpis::domain::ReasonCode;
using cpis::domain::SubjectKind;

namespace {

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no " << from << " in the message");
  return text.replace(at, from.size(), to);
}

std::string joined(const std::vector<std::string>& problems) {
  std::string all;
  for (const auto& problem : problems) all += problem + "\n";
  return all;
}

cc::ParsedReply parse(const std::string& soap, const cc::ReplyOptions& options = {}) {
  return cc::parseReply(soap, cpis::test::spineSchemas(), options);
}

std::string detailOf(const cc::ParsedReply& reply) {
  return reply.result.failure ? reply.result.failure->detail : std::string("(no failure)");
}

void checkValid(const std::string& soap, const char* interaction) {
  const auto problems = cpis::test::spineSchemas().validate(cpis::test::interactionOf(soap, interaction));
  BOOST_TEST(problems.empty(), interaction << ": " << joined(problems));
}

void checkFailed(const cc::ParsedReply& reply, ReasonCode reason) {
  BOOST_TEST((reply.result.status == CheckStatus::CheckFailed));
  BOOST_REQUIRE(reply.result.failure.has_value());
  BOOST_TEST((reply.result.failure->reason == reason), detailOf(reply));
  BOOST_TEST(reply.result.records.empty());
  BOOST_TEST(reply.result.accesses.empty());
  BOOST_TEST(!reply.result.failure->detail.empty());
}

// Builds a REPC reply, checks it validates, parses it and expects exactly what went in.
void roundTrip(const std::vector<CpisRecord>& records, const std::vector<PriorAccess>& accesses) {
  const std::string soap = cc::buildFoundReply(samples::replyHeader(), samples::subject(), records, accesses);
  checkValid(soap, "REPC_IN000007GB01");
  const auto reply = parse(soap);
  BOOST_TEST_REQUIRE((reply.result.status == CheckStatus::Found), detailOf(reply));
  BOOST_TEST(!reply.result.failure.has_value());
  BOOST_TEST(reply.interaction == "REPC_IN000007GB01");
  BOOST_TEST(reply.relatesTo == samples::queryHeader().messageId);
  BOOST_TEST(reply.messageId == samples::replyHeader().messageId);
  BOOST_TEST((reply.result.records == records));
  BOOST_TEST((reply.result.accesses == accesses));
  BOOST_TEST(reply.subjectNhsNumbers == std::vector<std::string>(records.size(), "9990000018"),
             boost::test_tools::per_element());
}

const auto kStart = samples::date(2025, 3, 1);
const auto kEnd = samples::date(2025, 9, 30);

std::vector<PriorAccess> accesses(std::size_t count) {
  std::vector<PriorAccess> result;
  for (std::size_t i = 0; i < count; ++i) {  // newest first, a person or a system in turn
    const auto at = samples::utc(2025, 6, 11, 23, 59, 59) - std::chrono::hours(7 * static_cast<int>(i));
    result.push_back(i % 2 == 0 ? samples::personAccess(at) : samples::systemAccess(at));
  }
  return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spine_reply)

BOOST_AUTO_TEST_CASE(each_plan_type_round_trips) {
  for (const auto type : {PlanType::Cppi, PlanType::Laci}) {
    BOOST_TEST_CONTEXT(cpis::domain::codeOf(type)) { roundTrip({samples::record({{type, kStart, std::nullopt}})}, {}); }
  }
  BOOST_TEST_CONTEXT("UCPI") {
    roundTrip({samples::record({{PlanType::Ucpi, kStart, kEnd}}, SubjectKind::UnbornChild)}, {});
  }
}

BOOST_AUTO_TEST_CASE(three_plans_at_once_round_trip) {
  roundTrip({samples::record({{PlanType::Cppi, kStart, std::nullopt},
                              {PlanType::Laci, samples::date(2024, 1, 15), std::nullopt},
                              {PlanType::Ucpi, samples::date(2025, 2, 1), kEnd}},
                             SubjectKind::UnbornChild)},
            accesses(1));
}

BOOST_AUTO_TEST_CASE(ended_plans_keep_their_end_dates) {
  roundTrip({samples::record({{PlanType::Cppi, samples::date(2023, 12, 31), samples::date(2024, 12, 31)},
                              {PlanType::Laci, samples::date(2020, 2, 29), samples::date(2024, 2, 29)}})},
            {});
}

BOOST_AUTO_TEST_CASE(an_unborn_childs_record_round_trips_with_the_mothers_details) {
  const std::vector<CpisRecord> records{samples::record({{PlanType::Ucpi, kStart, kEnd}}, SubjectKind::UnbornChild)};
  const std::string soap = cc::buildFoundReply(samples::replyHeader(), samples::subject(), records, {});
  BOOST_TEST(soap.find("<COCT_TP145100GB01.UnbornChild>") != std::string::npos);
  BOOST_TEST(soap.find("<playedMother>") != std::string::npos);
  roundTrip(records, accesses(2));
}

BOOST_AUTO_TEST_CASE(a_local_authority_without_a_workplace_phone_round_trips) {
  roundTrip({samples::record({{PlanType::Cppi, kStart, std::nullopt}}, SubjectKind::Child, false)}, {});
}

BOOST_AUTO_TEST_CASE(several_local_authorities_round_trip) {
  auto second = samples::record({{PlanType::Laci, kStart, std::nullopt}});
  second.la.odsCode = "XLA02";
  second.la.name = "Brighton & Hove City Council";
  second.la.emergencyPhone = "+441632960999";
  roundTrip({samples::record({{PlanType::Cppi, kStart, std::nullopt}}), second}, accesses(3));
}

BOOST_AUTO_TEST_CASE(zero_one_and_twenty_five_accesses_round_trip) {
  for (const std::size_t count : {0u, 1u, 25u}) {
    BOOST_TEST_CONTEXT(count << " accesses") {
      roundTrip({samples::record({{PlanType::Cppi, kStart, std::nullopt}})}, accesses(count));
    }
  }
}

BOOST_AUTO_TEST_CASE(accesses_come_back_newest_first_and_at_most_twenty_five) {
  auto all = accesses(27);
  std::vector<PriorAccess> oldestFirst(all.rbegin(), all.rend());
  const auto reply = parse(cc::buildFoundReply(samples::replyHeader(), samples::subject(),
                                               {samples::record({{PlanType::Cppi, kStart, std::nullopt}})}, oldestFirst));
  BOOST_REQUIRE((reply.result.status == CheckStatus::Found));
  all.resize(25);
  BOOST_TEST((reply.result.accesses == all));
}

// A FOUND reply of `built` (unborn-child records) whose record names the child (9990000018)
// as a subject too, as the schema allows.
std::string withChildSubjectToo(const std::vector<CpisRecord>& built) {
  return replaced(
      cc::buildFoundReply(samples::replyHeader(), samples::subject(), built, {}), "<subject>",
      "<subject><npfitlc:contentId root=\"2.16.840.1.113883.2.1.3.2.4.18.16\" extension=\"COCT_TP145101GB01#Child\"/>"
      "<COCT_TP145101GB01.Child><id root=\"2.16.840.1.113883.2.1.4.1\" extension=\"9990000018\"/><childPerson>"
      "<birthTime value=\"20090101\"/><name><given>Alex</given><family>Testchild</family></name></childPerson>"
      "</COCT_TP145101GB01.Child></subject><subject>");
}

BOOST_AUTO_TEST_CASE(a_record_about_a_pregnant_girl_and_her_unborn_child_becomes_two) {
  // One record naming both subjects (the schema allows two): her own CPP, and the UCP on her
  // number for the unborn child.
  const std::vector<CpisRecord> built{samples::record(
      {{PlanType::Cppi, kStart, std::nullopt}, {PlanType::Ucpi, kStart, kEnd}}, SubjectKind::UnbornChild)};
  const std::string soap = withChildSubjectToo(built);
  checkValid(soap, "REPC_IN000007GB01");
  const auto reply = parse(soap);
  BOOST_REQUIRE_MESSAGE((reply.result.status == CheckStatus::Found), detailOf(reply));
  const std::vector<CpisRecord> expected{
      samples::record({{PlanType::Cppi, kStart, std::nullopt}}, SubjectKind::Child),
      samples::record({{PlanType::Ucpi, kStart, kEnd}}, SubjectKind::UnbornChild)};
  BOOST_TEST((reply.result.records == expected));
  BOOST_TEST(reply.subjectNhsNumbers.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_record_naming_both_subjects_without_an_unborn_plan_is_the_childs_own) {
  // Both subjects named, but no UCP: the plan is the girl's own, on her own number, never shown
  // as an unborn child's plan on the mother's number.
  const std::vector<CpisRecord> built{
      samples::record({{PlanType::Cppi, kStart, std::nullopt}}, SubjectKind::UnbornChild)};
  const std::string soap = withChildSubjectToo(built);
  checkValid(soap, "REPC_IN000007GB01");
  const auto reply = parse(soap);
  BOOST_REQUIRE_MESSAGE((reply.result.status == CheckStatus::Found), detailOf(reply));
  const std::vector<CpisRecord> expected{samples::record({{PlanType::Cppi, kStart, std::nullopt}}, SubjectKind::Child)};
  BOOST_TEST((reply.result.records == expected));
  BOOST_TEST_REQUIRE(reply.subjectNhsNumbers.size() == 1u);
  BOOST_TEST(reply.subjectNhsNumbers.front() == "9990000018");
}

// Hazard H1: one reply is about one person. A reply whose records or accesses name another NHS
// number too (a record with a second child subject, an access on another number) is mixed, not
// one to pick a record from; a reply holding fewer records than it says it returns is partial.
BOOST_AUTO_TEST_CASE(a_mixed_or_partial_found_reply_is_not_believed) {
  const std::vector<CpisRecord> built{samples::record({{PlanType::Cppi, kStart, std::nullopt}})};
  const std::string found = cc::buildFoundReply(samples::replyHeader(), samples::subject(), built, accesses(2));
  BOOST_TEST_REQUIRE((parse(found).result.status == CheckStatus::Found), detailOf(parse(found)));
  // A second child subject on another number, before the first.
  const std::string twoChildren =
      replaced(found, "<subject>",
               "<subject><npfitlc:contentId root=\"2.16.840.1.113883.2.1.3.2.4.18.16\" "
               "extension=\"COCT_TP145101GB01#Child\"/><COCT_TP145101GB01.Child><id root=\"2.16.840.1.113883.2.1.4.1\" "
               "extension=\"9990000034\"/><childPerson><birthTime value=\"20090101\"/><name><given>Sam</given>"
               "<family>Other</family></name></childPerson></COCT_TP145101GB01.Child></subject><subject>");
  checkValid(twoChildren, "REPC_IN000007GB01");
  auto reply = parse(twoChildren);
  checkFailed(reply, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(reply).find("more than one NHS number") != std::string::npos, detailOf(reply));
  BOOST_TEST(detailOf(reply).find("9990000034") == std::string::npos);  // never the number itself
  // An access made on another number.
  const std::string otherAccess = replaced(found, "<value extension=\"9990000018\"/>", "<value extension=\"9990000034\"/>");
  checkValid(otherAccess, "REPC_IN000007GB01");
  reply = parse(otherAccess);
  checkFailed(reply, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(reply).find("more than one NHS number") != std::string::npos, detailOf(reply));
  // Two records said, one sent.
  const auto total = found.find("pertinentTotalReturnedChildRecords");
  BOOST_TEST_REQUIRE(total != std::string::npos);
  std::string partial = found;
  const auto one = partial.find("value=\"1\"", total);
  BOOST_TEST_REQUIRE(one != std::string::npos);
  partial.replace(one, 9, "value=\"2\"");
  checkValid(partial, "REPC_IN000007GB01");
  reply = parse(partial);
  checkFailed(reply, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(reply).find("says it returns 2 record(s) and holds 1") != std::string::npos, detailOf(reply));
}

// The earlier accesses likewise (TRAR): a history cut short is not shown as the whole one.
BOOST_AUTO_TEST_CASE(a_reply_holding_fewer_accesses_than_it_says_is_not_believed) {
  const std::vector<CpisRecord> built{samples::record({{PlanType::Cppi, kStart, std::nullopt}})};
  const std::string found =
      cc::buildFoundReply(samples::replyHeader(), samples::subject(), built, accesses(2));
  const auto total = found.find("pertinentTotalReturnedAccessRecords");
  BOOST_TEST_REQUIRE(total != std::string::npos);
  std::string partial = found;
  const auto two = partial.find("value=\"2\"", total);
  BOOST_TEST_REQUIRE(two != std::string::npos);
  partial.replace(two, 9, "value=\"25\"");
  checkValid(partial, "REPC_IN000007GB01");
  const auto reply = parse(partial);
  checkFailed(reply, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(reply).find("says it returns 25 access record(s) and holds 2") != std::string::npos,
             detailOf(reply));
}

// wsa:RelatesTo and the v3 messageRef naming two queries: which one it answers is not known.
BOOST_AUTO_TEST_CASE(a_reply_naming_two_queries_is_not_believed) {
  const auto header = samples::replyHeader();
  const std::string notFound = cc::buildNotFoundReply(header, {});
  BOOST_TEST_REQUIRE((parse(notFound).result.status == CheckStatus::NotFound), detailOf(parse(notFound)));
  const std::string other = "0F0E0D0C-0B0A-4909-8807-060504030201";
  const std::string twoQueries =
      replaced(notFound, "<id root=\"" + header.relatesTo + "\"/>", "<id root=\"" + other + "\"/>");
  checkValid(twoQueries, "QUQI_IN010000UK14");
  const auto reply = parse(twoQueries);
  checkFailed(reply, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(reply).find("names one query in wsa:RelatesTo and another in its messageRef") !=
                 std::string::npos,
             detailOf(reply));
  // Each alone, or both naming the same query, is read as before.
  BOOST_TEST(parse(notFound).receiverAsid == header.toAsid);
}

BOOST_AUTO_TEST_CASE(phone_numbers_travel_as_digits) {
  auto record = samples::record({{PlanType::Cppi, kStart, std::nullopt}});
  record.la.emergencyPhone = "01632 960001";
  const auto reply = parse(cc::buildFoundReply(samples::replyHeader(), samples::subject(), {record}, {}));
  BOOST_REQUIRE((reply.result.status == CheckStatus::Found));
  BOOST_TEST(reply.result.records.front().la.emergencyPhone == "01632960001");
}

// A telecom's use is a set of codes: "WP EC" is a workplace number that is also the emergency
// one. A number marked for a role alone wins that role; before, the first EC-marked number took
// the emergency role and the number marked EC alone was dropped, and no workplace one was kept.
BOOST_AUTO_TEST_CASE(phone_numbers_with_several_uses_go_to_each_role) {
  const auto record = samples::record({{PlanType::Cppi, kStart, std::nullopt}});
  const std::string found = cc::buildFoundReply(samples::replyHeader(), samples::subject(), {record}, {});
  const std::string both = replaced(replaced(found, "<telecom value=\"tel:01632960001\" use=\"EC\"/>",
                                             "<telecom value=\"tel:01632960000\" use=\"WP EC\"/><telecom "
                                             "value=\"tel:01632960001\" use=\"EC\"/>"),
                                    "<telecom value=\"tel:01632960000\" use=\"WP\"/>", "");
  checkValid(both, "REPC_IN000007GB01");
  auto reply = parse(both);
  BOOST_TEST_REQUIRE((reply.result.status == CheckStatus::Found), detailOf(reply));
  BOOST_TEST(reply.result.records.front().la.emergencyPhone == "01632960001");
  BOOST_TEST(reply.result.records.front().la.workplacePhone.value_or("") == "01632960000");
  // Only a shared one: it serves both.
  const std::string shared = replaced(replaced(found, "<telecom value=\"tel:01632960001\" use=\"EC\"/>",
                                               "<telecom value=\"tel:01632960005\" use=\"EC WP\"/>"),
                                      "<telecom value=\"tel:01632960000\" use=\"WP\"/>", "");
  reply = parse(shared);
  BOOST_TEST_REQUIRE((reply.result.status == CheckStatus::Found), detailOf(reply));
  BOOST_TEST(reply.result.records.front().la.emergencyPhone == "01632960005");
  BOOST_TEST(reply.result.records.front().la.workplacePhone.value_or("") == "01632960005");
}

BOOST_AUTO_TEST_CASE(the_three_argument_builder_writes_the_placeholder_subject) {
  const std::vector<CpisRecord> records{samples::record({{PlanType::Cppi, kStart, std::nullopt}})};
  const std::string soap = cc::buildFoundReply(samples::replyHeader(), records, accesses(1));
  checkValid(soap, "REPC_IN000007GB01");
  const auto reply = parse(soap);
  BOOST_REQUIRE((reply.result.status == CheckStatus::Found));
  BOOST_TEST(reply.subjectNhsNumbers.front() == cc::placeholderSubject().nhsNumber);
}

BOOST_AUTO_TEST_CASE(a_reply_about_another_nhs_number_is_not_believed) {
  const std::vector<CpisRecord> records{samples::record({{PlanType::Cppi, kStart, std::nullopt}})};
  const std::string soap = cc::buildFoundReply(samples::replyHeader(), samples::subject(), records, {});
  const auto same = cc::parseReply(soap, cpis::test::spineSchemas(), {}, samples::nhsNumber("9990000018"));
  BOOST_TEST((same.result.status == CheckStatus::Found));
  const auto other = cc::parseReply(soap, cpis::test::spineSchemas(), {}, samples::nhsNumber("9993000000"));
  checkFailed(other, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(other).find("another NHS number") != std::string::npos);
  BOOST_TEST(detailOf(other).find("999") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(not_found_only_from_the_configured_code) {
  const std::string soap = cc::buildNotFoundReply(samples::replyHeader(), {});
  checkValid(soap, "QUQI_IN010000UK14");
  const auto reply = parse(soap);
  BOOST_TEST((reply.result.status == CheckStatus::NotFound), detailOf(reply));
  BOOST_TEST(!reply.result.failure.has_value());
  BOOST_TEST(reply.result.records.empty());
  BOOST_TEST(reply.relatesTo == samples::queryHeader().messageId);
  BOOST_TEST(reply.issueCodes == std::vector<std::string>{std::string(cc::kDefaultNoRecordsCode)},
             boost::test_tools::per_element());

  // The same reply read with another configured code is a failed check, never "not found".
  checkFailed(parse(soap, cc::ReplyOptions{"1712"}), ReasonCode::SpineRejected);
  checkFailed(parse(soap, cc::ReplyOptions{""}), ReasonCode::SpineRejected);
  const auto configured = cc::buildNotFoundReply(samples::replyHeader(), cc::ReplyOptions{"1712"});
  BOOST_TEST((parse(configured, cc::ReplyOptions{"1712"}).result.status == CheckStatus::NotFound));
}

// Hazard H3, "no information" only when Spine says so: a no-records reply that also carries an
// issue without a code (a nullFlavor where the code goes), or whose queryResponseCode is an
// error (QE, AE) rather than NF "no data found", is a failed check. Both validate.
BOOST_AUTO_TEST_CASE(a_no_records_reply_with_another_issue_or_an_error_response_is_not_not_found) {
  const std::string soap = cc::buildNotFoundReply(samples::replyHeader(), {});
  const std::string codeless =
      replaced(soap, "<acknowledgement typeCode=\"AA\">",
               "<acknowledgement typeCode=\"AA\">\n<acknowledgementDetail typeCode=\"ER\">"
               "<code nullFlavor=\"OTH\" displayName=\"Query failed: internal error\"/></acknowledgementDetail>");
  checkValid(codeless, "QUQI_IN010000UK14");
  checkFailed(parse(codeless), ReasonCode::SpineRejected);
  const std::string queryError = replaced(soap, "<queryResponseCode code=\"NF\"/>", "<queryResponseCode code=\"QE\"/>");
  checkValid(queryError, "QUQI_IN010000UK14");
  const auto reply = parse(queryError);
  checkFailed(reply, ReasonCode::SpineRejected);
  BOOST_TEST(detailOf(reply).find("queryResponseCode QE") != std::string::npos, detailOf(reply));
}

// A Body holding two interactions (a no-records QUQI before Spine's wrapped FOUND): which one
// counts is anybody's guess, so neither is believed.
BOOST_AUTO_TEST_CASE(a_reply_with_two_interactions_is_not_believed) {
  const std::vector<CpisRecord> built{samples::record({{PlanType::Cppi, kStart, std::nullopt}})};
  const std::string found = cc::buildFoundReply(samples::replyHeader(), samples::subject(), built, accesses(1));
  const std::string none = cc::buildNotFoundReply(samples::replyHeader(), {});
  const auto from = none.find("<QUQI_IN010000UK14");
  const std::string end = "</QUQI_IN010000UK14>";
  const auto to = none.find(end);
  BOOST_TEST_REQUIRE((from != std::string::npos && to != std::string::npos));
  const std::string quqi = none.substr(from, to + end.size() - from);
  BOOST_TEST_REQUIRE(found.find("<SOAP:Body>") != std::string::npos);
  const auto reply = parse(replaced(found, "<SOAP:Body>", "<SOAP:Body>" + quqi));
  checkFailed(reply, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(reply).find("2 CP-IS interactions") != std::string::npos, detailOf(reply));
}

BOOST_AUTO_TEST_CASE(another_query_failure_code_is_spine_rejected) {
  const std::string soap = cc::buildQueryFailedReply(samples::replyHeader(), "2001", "Invalid query parameter");
  checkValid(soap, "QUQI_IN010000UK14");
  const auto reply = parse(soap);
  checkFailed(reply, ReasonCode::SpineRejected);
  BOOST_TEST(detailOf(reply).find("2001") != std::string::npos, detailOf(reply));
  // Spine's words go to the audit only: they may name the patient (hazard H8).
  BOOST_TEST(detailOf(reply).find("Invalid query parameter") == std::string::npos);
  BOOST_TEST(reply.result.failure->peerText == "Invalid query parameter");
  BOOST_TEST(!reply.result.failure->retryable);
  BOOST_TEST(reply.issueCodes == std::vector<std::string>{"2001"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_application_error_is_spine_rejected) {
  const std::string soap = cc::buildApplicationError(samples::replyHeader(), "1712", "Mandatory data missing");
  checkValid(soap, "MCCI_IN010000UK13");
  const auto reply = parse(soap);
  checkFailed(reply, ReasonCode::SpineRejected);
  BOOST_TEST(reply.interaction == "MCCI_IN010000UK13");
  BOOST_TEST(detailOf(reply).find("MCCI_IN010000UK13 AE") != std::string::npos, detailOf(reply));
  BOOST_TEST(detailOf(reply).find("1712") != std::string::npos);
  BOOST_TEST(detailOf(reply).find("Mandatory data missing") == std::string::npos);
  BOOST_TEST(reply.result.failure->peerText == "Mandatory data missing");
  BOOST_TEST(reply.relatesTo == samples::queryHeader().messageId);

  // An acknowledgement that accepts carries no result: not a check outcome either.
  const auto accepted = parse(replaced(soap, "typeCode=\"AE\"", "typeCode=\"AA\""));
  checkFailed(accepted, ReasonCode::UnrecognisedResponse);
}

BOOST_AUTO_TEST_CASE(a_soap_fault_is_spine_rejected) {
  const std::string soap = cc::buildSoapFault("200", "No match for TESTCHILD Alex born 03/04/2015");
  const auto reply = parse(soap);
  checkFailed(reply, ReasonCode::SpineRejected);
  BOOST_TEST(reply.interaction == "SOAP:Fault");
  BOOST_TEST(detailOf(reply).find("Spine error 200") != std::string::npos, detailOf(reply));
  // The fault's words (here naming a child) never reach logs or the ACK; the audit keeps them.
  BOOST_TEST(detailOf(reply).find("TESTCHILD") == std::string::npos, detailOf(reply));
  BOOST_TEST(reply.result.failure->peerText.find("TESTCHILD Alex born 03/04/2015") != std::string::npos,
             reply.result.failure->peerText);
  BOOST_TEST(reply.result.failure->retryable);  // a Server fault may pass
  BOOST_TEST(reply.issueCodes == std::vector<std::string>{"200"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(malformed_xml_is_unrecognised) {
  const std::string soap = cc::buildNotFoundReply(samples::replyHeader(), {});
  const auto reply = parse(soap.substr(0, soap.size() / 2));
  checkFailed(reply, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(reply).find("not well-formed XML") != std::string::npos, detailOf(reply));
  checkFailed(parse(""), ReasonCode::UnrecognisedResponse);
  checkFailed(parse("HTTP/1.1 502 Bad Gateway"), ReasonCode::UnrecognisedResponse);
}

BOOST_AUTO_TEST_CASE(a_well_formed_reply_that_does_not_validate_is_unrecognised_and_says_why) {
  const std::string soap = cc::buildFoundReply(samples::replyHeader(), samples::subject(),
                                               {samples::record({{PlanType::Cppi, kStart, std::nullopt}})}, {});
  // A plan date in the wrong format, and the subject's NHS number where a date belongs: the
  // reason says where, and never quotes the value.
  const auto reply = parse(replaced(replaced(soap, "value=\"202503010000\"", "value=\"2025-03-01\""),
                                    "<birthTime value=\"20150403\"/>", "<birthTime value=\"9990000018x\"/>"));
  checkFailed(reply, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(reply).find("does not validate") != std::string::npos, detailOf(reply));
  BOOST_TEST(detailOf(reply).find("line ") != std::string::npos);
  BOOST_TEST(detailOf(reply).find("2025-03-01") == std::string::npos);
  BOOST_TEST(detailOf(reply).find("9990000018") == std::string::npos);

  const auto missingAck = parse(replaced(soap, "<queryAck>", "<queryAckX>"));
  checkFailed(missingAck, ReasonCode::UnrecognisedResponse);
}

BOOST_AUTO_TEST_CASE(what_is_not_a_cpis_reply_is_unrecognised) {
  checkFailed(parse("<html><body>Service Unavailable</body></html>"), ReasonCode::UnrecognisedResponse);
  checkFailed(parse("<SOAP:Envelope xmlns:SOAP=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP:Body>"
                    "<PRPA_IN000203UK03 xmlns=\"urn:hl7-org:v3\"/></SOAP:Body></SOAP:Envelope>"),
              ReasonCode::UnrecognisedResponse);
  checkFailed(parse("<SOAP:Envelope xmlns:SOAP=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP:Body/>"
                    "</SOAP:Envelope>"),
              ReasonCode::UnrecognisedResponse);
  // SOAP 1.2 is not what Spine speaks here.
  checkFailed(parse("<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body/></e:Envelope>"),
              ReasonCode::UnrecognisedResponse);
  // A DTD is refused before anything is expanded.
  const auto dtd = parse("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]>"
                         "<SOAP:Envelope xmlns:SOAP=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP:Body>&a;"
                         "</SOAP:Body></SOAP:Envelope>");
  checkFailed(dtd, ReasonCode::UnrecognisedResponse);
  BOOST_TEST(detailOf(dtd).find("DTD") != std::string::npos, detailOf(dtd));
}

BOOST_AUTO_TEST_CASE(a_query_sent_back_as_a_reply_is_unrecognised) {
  const std::string query =
      cc::buildQuery(samples::request(samples::systemAuthor(), cpis::domain::AccessMode::Unscheduled),
                     samples::queryHeader());
  checkFailed(parse(query), ReasonCode::UnrecognisedResponse);
}

BOOST_AUTO_TEST_CASE(the_reply_without_ws_addressing_is_matched_by_its_message_reference) {
  auto header = samples::replyHeader();
  std::string soap = cc::buildApplicationError(header, "1712", "Mandatory data missing");
  soap = replaced(soap, "<wsa:RelatesTo>uuid:" + header.relatesTo + "</wsa:RelatesTo>", "");
  const auto reply = parse(soap);
  BOOST_TEST(reply.relatesTo == header.relatesTo);
}

BOOST_AUTO_TEST_SUITE_END()

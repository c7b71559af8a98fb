// The CP-IS Spine simulator: its dataset, its answers (validated with the engine's own parser),
// access histories and LA mailboxes, faults and admin endpoints, over real HTTP.
#include "conformance/simulator/spine_simulator.h"

#include <set>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>

#include "conformance/simulator/json_time.h"
#include "engine/cpis/https_transport.h"
#include "tests/unit/cpis/simulator_fixture.h"

namespace client = ::cpis::cpis;
namespace domain = ::cpis::domain;
namespace sim = ::cpis::sim;
namespace store = ::cpis::store;
namespace test = ::cpis::test;
using namespace std::chrono_literals;
using cpis::domain::AccessMode;
using cpis::domain::CheckStatus;
using cpis::domain::ReasonCode;
using cpis::test::numberOf;

namespace {

struct Http {
  int status = 0;
  std::string body;
  std::string timing;
};

Http call(const sim::SpineSimulator& s, const std::string& method, const std::string& path,
          const std::string& body = "") {
  Poco::Net::HTTPClientSession session("127.0.0.1", s.port());
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setContentLength(static_cast<std::streamsize>(body.size()));
  if (!body.empty()) request.setContentType("application/json");
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Http h;
  h.status = static_cast<int>(response.getStatus());
  Poco::StreamCopier::copyToString(in, h.body);
  h.timing = response.get(std::string(sim::SpineSimulator::kTimingHeader), "");
  return h;
}

Poco::JSON::Object::Ptr json(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

// One query, the way Spine would get it, and the reply parsed by the engine's own parser.
struct Exchange {
  int status = 0;
  std::string raw;
  client::ParsedReply reply;
  client::MessageHeader header;
};

Exchange query(const sim::SpineSimulator& s, const domain::NhsNumber& number, AccessMode mode,
               std::string replyTo = "") {
  client::MessageHeader header;
  header.messageId = client::newMessageId();
  header.creationTime = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  header.fromAsid = test::kOurAsid;
  header.toAsid = test::kServiceAsid;
  header.endpoint = s.queryUrl();
  header.replyTo = std::move(replyTo);
  const auto request = test::lookupRequest(number, mode);
  client::HttpsTransport transport({client::Endpoint::parse(s.queryUrl()).value(), std::nullopt});
  const auto posted = transport.post(client::kQueryAction, client::buildQuery(request, header), 5s);
  BOOST_REQUIRE_MESSAGE(posted.ok(), "the simulator did not answer");
  Exchange x;
  x.status = posted->status;
  x.raw = posted->body;
  x.header = header;
  if (!x.raw.empty()) x.reply = client::parseReply(x.raw, test::spineSchemas(), client::ReplyOptions{}, number);
  return x;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(simulator)

BOOST_AUTO_TEST_CASE(shipped_dataset_covers_what_the_issue_asks_for) {
  const auto& d = test::dataset();
  BOOST_TEST(d.size() >= 50u);
  std::set<domain::PlanType> types;
  bool severalPlans = false, ended = false, unborn = false, noWorkplacePhone = false, workplacePhone = false;
  bool severalLas = false;
  std::set<std::size_t> accessCounts;
  for (const auto& child : d.children()) {
    BOOST_TEST(child.nhsNumber.isTestRange());
    severalLas = severalLas || child.records.size() > 1;
    accessCounts.insert(child.accesses.size());
    for (const auto& record : child.records) {
      severalPlans = severalPlans || record.plans.size() > 1;
      unborn = unborn || record.subject == domain::SubjectKind::UnbornChild;
      noWorkplacePhone = noWorkplacePhone || !record.la.workplacePhone;
      workplacePhone = workplacePhone || record.la.workplacePhone.has_value();
      for (const auto& plan : record.plans) {
        types.insert(plan.type);
        ended = ended || plan.end.has_value();
      }
    }
    for (std::size_t i = 1; i < child.accesses.size(); ++i) {
      BOOST_TEST((child.accesses[i - 1].at >= child.accesses[i].at));  // newest first
    }
  }
  BOOST_TEST(types.size() == 3u);
  BOOST_TEST(severalPlans);
  BOOST_TEST(severalLas);
  BOOST_TEST(ended);
  BOOST_TEST(unborn);
  BOOST_TEST(noWorkplacePhone);
  BOOST_TEST(workplacePhone);
  for (const std::size_t count : {0u, 1u, 25u}) BOOST_TEST(accessCounts.count(count) == 1u, count);
  BOOST_TEST(*accessCounts.rbegin() > 25u);
}

BOOST_AUTO_TEST_CASE(dataset_errors_name_the_child_never_the_number) {
  const std::string bad = R"({"localAuthorities": [{"odsCode": "X", "name": "N", "emergencyPhone": "1"}],
    "children": [{"nhsNumber": "9990000019", "label": "typo", "givenName": "A", "familyName": "B",
                  "birthDate": "2015-01-01", "records": [{"la": "X", "plans": [{"type": "CPPI", "start": "2020-01-01"}]}]}]})";
  try {
    static_cast<void>(sim::Dataset::parse(bad, "bad.json"));
    BOOST_FAIL("a number failing modulus 11 was accepted");
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find("bad.json: children[0] (typo): nhsNumber is not a valid NHS number") != std::string::npos,
               message);
    BOOST_TEST(message.find("9990000019") == std::string::npos);
  }
  const std::string ucpWithoutEnd = R"({"localAuthorities": [{"odsCode": "X", "name": "N", "emergencyPhone": "1"}],
    "children": [{"nhsNumber": "9990000018", "givenName": "A", "familyName": "B", "birthDate": "2015-01-01",
                  "records": [{"la": "X", "subject": "UNBORN", "plans": [{"type": "UCPI", "start": "2020-01-01"}]}]}]})";
  BOOST_CHECK_THROW(static_cast<void>(sim::Dataset::parse(ucpWithoutEnd, "ucp.json")), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(found_reply_validates_and_carries_the_records) {
  test::Simulator s;
  const auto& child = test::childLabelled("two local authorities");
  const auto x = query(*s.server, child.nhsNumber, AccessMode::Scheduled);
  BOOST_TEST(x.status == 200);
  BOOST_TEST((x.reply.result.status == CheckStatus::Found), x.reply.result.failure.value_or(client::LookupFailure{}).detail);
  BOOST_TEST(x.reply.relatesTo == x.header.messageId);
  BOOST_TEST((x.reply.result.records == child.records));
  BOOST_TEST(x.reply.result.accesses.size() == child.accesses.size());
}

BOOST_AUTO_TEST_CASE(an_unknown_number_is_not_found) {
  test::Simulator s;
  const auto x = query(*s.server, *domain::NhsNumber::parse("9993000000"), AccessMode::Unscheduled);
  BOOST_TEST((x.reply.result.status == CheckStatus::NotFound));
  BOOST_TEST(s.state().stats().notFound == 1u);
}

BOOST_AUTO_TEST_CASE(unscheduled_query_records_an_access_and_tells_each_la) {
  test::Simulator s;
  const auto& child = test::childLabelled("two local authorities");
  const auto before = s.state().accesses(child.nhsNumber).size();
  const auto x = query(*s.server, child.nhsNumber, AccessMode::Unscheduled);
  BOOST_TEST((x.reply.result.status == CheckStatus::Found));
  BOOST_TEST(x.reply.result.accesses.size() == before);  // the reply shows the earlier ones

  const auto after = s.state().accesses(child.nhsNumber);
  BOOST_REQUIRE(after.size() == before + 1);
  BOOST_TEST(after.front().orgOdsCode == "RZZ01");  // newest first: ours
  BOOST_TEST(after.front().bySystem);
  BOOST_TEST(after.front().asid.value_or("") == test::kOurAsid);

  // Both responsible LAs get one notification, through the mailbox endpoint too.
  for (const auto& record : child.records) {
    const auto mailbox = s.state().notifications(record.la.odsCode);
    BOOST_REQUIRE(mailbox.size() == 1u);
    BOOST_TEST(mailbox.front().nhsNumber == std::string(child.nhsNumber.reveal()));
    BOOST_TEST(mailbox.front().messageId == x.header.messageId);
    const auto http = call(*s.server, "GET", "/la/" + record.la.odsCode + "/notifications");
    BOOST_TEST(http.status == 200);
    const auto list = json(http.body)->getArray("notifications");
    BOOST_REQUIRE(list->size() == 1u);
    BOOST_TEST(list->getObject(0)->getValue<std::string>("nhsNumber") == std::string(child.nhsNumber.reveal()));
    BOOST_TEST(list->getObject(0)->getObject("access")->getValue<std::string>("orgOdsCode") == "RZZ01");
  }
  // The next query shows our access in the history.
  const auto again = query(*s.server, child.nhsNumber, AccessMode::Scheduled);
  BOOST_TEST(again.reply.result.accesses.size() == before + 1);
  BOOST_TEST(again.reply.result.accesses.front().orgOdsCode == "RZZ01");
}

BOOST_AUTO_TEST_CASE(scheduled_query_is_a_silent_read) {
  test::Simulator s;
  const auto& child = test::childLabelled("CPP open, 2 earlier accesses");
  const auto x = query(*s.server, child.nhsNumber, AccessMode::Scheduled);
  BOOST_TEST((x.reply.result.status == CheckStatus::Found));
  BOOST_TEST(s.state().accesses(child.nhsNumber).size() == child.accesses.size());
  BOOST_TEST(s.state().notifications(child.records.front().la.odsCode).empty());
}

BOOST_AUTO_TEST_CASE(at_most_the_25_most_recent_accesses_are_returned) {
  test::Simulator s;
  const auto& child = test::childLabelled("40 earlier accesses (25 returned)");
  const auto x = query(*s.server, child.nhsNumber, AccessMode::Unscheduled);
  BOOST_REQUIRE(x.reply.result.accesses.size() == 25u);
  BOOST_TEST((x.reply.result.accesses.front() == child.accesses.front()));
  const auto y = query(*s.server, child.nhsNumber, AccessMode::Scheduled);
  BOOST_REQUIRE(y.reply.result.accesses.size() == 25u);
  BOOST_TEST(y.reply.result.accesses.front().orgOdsCode == "RZZ01");  // ours, then the 24 newest before it
  BOOST_TEST((y.reply.result.accesses[1] == child.accesses.front()));
  // The admin view keeps the whole history.
  const auto http = call(*s.server, "GET", "/admin/accesses/" + std::string(child.nhsNumber.reveal()));
  BOOST_TEST(json(http.body)->getArray("accesses")->size() == child.accesses.size() + 1);
}

BOOST_AUTO_TEST_CASE(an_invalid_query_gets_an_application_error) {
  test::Simulator s;
  client::HttpsTransport transport({client::Endpoint::parse(s.server->queryUrl()).value(), std::nullopt});
  const auto posted = transport.post(client::kQueryAction, "<notAQuery/>", 5s);
  BOOST_REQUIRE(posted.ok());
  BOOST_TEST(posted->status == 200);
  const auto reply = client::parseReply(posted->body, test::spineSchemas(), client::ReplyOptions{});
  BOOST_TEST(reply.interaction == "MCCI_IN010000UK13");
  BOOST_TEST((reply.result.failure->reason == ReasonCode::SpineRejected));
  BOOST_TEST(s.state().stats().rejected == 1u);
}

BOOST_AUTO_TEST_CASE(a_query_to_another_asid_is_refused) {
  test::Simulator s;
  client::MessageHeader header;
  header.messageId = client::newMessageId();
  header.fromAsid = test::kOurAsid;
  header.toAsid = "990000000999";
  const auto request = test::lookupRequest(numberOf("LAC open"), AccessMode::Scheduled);
  client::HttpsTransport transport({client::Endpoint::parse(s.server->queryUrl()).value(), std::nullopt});
  const auto posted = transport.post(client::kQueryAction, client::buildQuery(request, header), 5s);
  const auto reply = client::parseReply(posted->body, test::spineSchemas(), client::ReplyOptions{});
  BOOST_TEST((reply.result.failure->reason == ReasonCode::SpineRejected));
  BOOST_TEST(reply.result.failure->detail.find("INVALID_RECEIVER_ASID") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reply_faults_are_what_they_say) {
  test::Simulator s;
  const auto number = numberOf("LAC open");
  s.state().setFault(std::string(number.reveal()), {sim::Fault::Kind::MalformedXml, 0ms, 1});
  auto x = query(*s.server, number, AccessMode::Scheduled);
  BOOST_REQUIRE(x.reply.result.failure.has_value());
  BOOST_TEST((x.reply.result.failure->reason == ReasonCode::UnrecognisedResponse));
  BOOST_TEST(x.reply.result.failure->detail.find("not well-formed") != std::string::npos);

  s.state().setFault(std::string(number.reveal()), {sim::Fault::Kind::InvalidResponse, 0ms, 1});
  x = query(*s.server, number, AccessMode::Scheduled);
  BOOST_REQUIRE(x.reply.result.failure.has_value());
  BOOST_TEST((x.reply.result.failure->reason == ReasonCode::UnrecognisedResponse), x.reply.result.failure->detail);
  BOOST_TEST(x.reply.result.failure->detail.find("does not validate") != std::string::npos, x.reply.result.failure->detail);

  s.state().setFault(std::string(number.reveal()), {sim::Fault::Kind::SoapFault, 0ms, 1});
  x = query(*s.server, number, AccessMode::Scheduled);
  BOOST_TEST(x.status == 500);
  BOOST_TEST(x.reply.interaction == "SOAP:Fault");

  // `times` used up: the next query is answered normally.
  x = query(*s.server, number, AccessMode::Scheduled);
  BOOST_TEST((x.reply.result.status == CheckStatus::Found));
  BOOST_TEST(s.state().faults().empty());
}

BOOST_AUTO_TEST_CASE(admin_endpoints_set_list_and_clear_faults) {
  test::Simulator s;
  auto h = call(*s.server, "POST", "/admin/faults", R"({"nhsNumber": "999 000 0018", "kind": "http500", "times": 2})");
  BOOST_TEST(h.status == 201, h.body);
  h = call(*s.server, "POST", "/admin/faults", R"({"nhsNumber": "*", "kind": "delay", "delayMs": 10})");
  BOOST_TEST(h.status == 201, h.body);
  BOOST_TEST(call(*s.server, "POST", "/admin/faults", R"({"nhsNumber": "9990000019", "kind": "http500"})").status == 400);
  BOOST_TEST(call(*s.server, "POST", "/admin/faults", R"({"nhsNumber": "*", "kind": "gremlins"})").status == 400);
  BOOST_TEST(call(*s.server, "POST", "/admin/faults", "not json").status == 400);

  h = call(*s.server, "GET", "/admin/faults");
  const auto faults = json(h.body)->getArray("faults");
  BOOST_REQUIRE(faults->size() == 2u);
  const auto x = query(*s.server, *domain::NhsNumber::parse("9990000018"), AccessMode::Scheduled);
  BOOST_TEST(x.status == 500);
  BOOST_TEST(x.raw.find("simulated server failure") != std::string::npos);

  BOOST_TEST(call(*s.server, "DELETE", "/admin/faults?nhsNumber=9990000018").status == 200);
  BOOST_TEST(s.state().faults().size() == 1u);
  BOOST_TEST(call(*s.server, "DELETE", "/admin/faults").status == 200);
  BOOST_TEST(s.state().faults().empty());
}

BOOST_AUTO_TEST_CASE(reset_health_timing_and_unknown_paths) {
  test::Simulator s;
  const auto& child = test::childLabelled("CPP open, 2 earlier accesses");
  query(*s.server, child.nhsNumber, AccessMode::Unscheduled);
  BOOST_TEST(s.state().accesses(child.nhsNumber).size() == child.accesses.size() + 1);

  auto h = call(*s.server, "GET", "/health");
  BOOST_TEST(h.status == 200);
  BOOST_TEST(json(h.body)->getValue<int>("queries") == 1);
  BOOST_TEST(json(h.body)->getValue<int>("children") == static_cast<int>(test::dataset().size()));
  BOOST_TEST(!h.timing.empty());  // every reply says how long the simulator took

  BOOST_TEST(call(*s.server, "POST", "/admin/reset").status == 200);
  BOOST_TEST(s.state().accesses(child.nhsNumber).size() == child.accesses.size());
  BOOST_TEST(s.state().notifications(child.records.front().la.odsCode).empty());
  BOOST_TEST(json(call(*s.server, "GET", "/health").body)->getValue<int>("queries") == 0);

  BOOST_TEST(call(*s.server, "GET", "/nowhere").status == 404);
  BOOST_TEST(call(*s.server, "GET", "/syncservice").status == 405);
}

BOOST_AUTO_TEST_CASE(the_clock_is_injected) {
  const auto fixed = test::utcInstant(2030, 1, 2, 3, 4, 5);
  sim::SimulatorSettings settings;
  settings.clock = [fixed] { return fixed; };
  test::Simulator s(settings);
  const auto number = numberOf("LAC open");
  query(*s.server, number, AccessMode::Unscheduled);
  BOOST_TEST(sim::formatInstant(s.state().accesses(number).front().at) == "2030-01-02T03:04:05.000Z");
}

BOOST_AUTO_TEST_SUITE_END()

// The CP-IS client against the simulator over real HTTP and HTTPS (mutual TLS with
// certificates made by the test): every fault ends as a failed check with the right reason,
// never as "not found"; time-outs, retries, the circuit breaker, the concurrency limit, the
// cache, asynchronous replies and the audit trail.
#include "engine/cpis/spine_lookup.h"

#include <atomic>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <boost/test/unit_test.hpp>

#include "engine/cpis/async_reply_server.h"
#include "engine/store/sqlite_audit_log.h"
#include "tests/support/log_capture.h"
#include "tests/support/ssl_guard.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"
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
using cpis::sim::Fault;
using cpis::test::numberOf;
using cpis::test::waitFor;

namespace {

using cpis::test::SslGuard;
BOOST_TEST_GLOBAL_FIXTURE(SslGuard);

using Clock = std::chrono::steady_clock;

// The failure's reason; nullopt when the check did not fail.
std::optional<ReasonCode> reason(const client::LookupResult& r) {
  return r.failure ? std::optional(r.failure->reason) : std::nullopt;
}

std::string reasonOf(const client::LookupResult& r) {
  return r.failure ? std::string(domain::codeOf(r.failure->reason)) + ": " + r.failure->detail : "no failure";
}

void setFault(test::Simulator& s, const domain::NhsNumber& number, Fault::Kind kind,
              std::chrono::milliseconds delay = 0ms, std::optional<std::uint32_t> times = std::nullopt) {
  s.state().setFault(std::string(number.reveal()), Fault{kind, delay, times});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spine_lookup)

BOOST_AUTO_TEST_CASE(found_with_records_accesses_and_source) {
  test::Simulator s;
  client::SpineLookup lookup(s.lookupSettings(), test::spineSchemas());
  const auto& child = test::childLabelled("pregnant 16-year-old: her own CPP and an unborn child's plan");
  const auto r = lookup.lookup(test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled));
  BOOST_REQUIRE_MESSAGE(r.status == CheckStatus::Found, reasonOf(r));
  BOOST_TEST((r.records == child.records));
  BOOST_TEST((r.accesses == child.accesses));
  BOOST_TEST(!r.failure.has_value());
  BOOST_TEST((r.source == domain::Source::Simulator));
  BOOST_TEST(!r.transportMessageId.empty());
  BOOST_TEST(r.latency.count() > 0);
  BOOST_TEST(!r.possibleDuplicate);
}

BOOST_AUTO_TEST_CASE(not_found_only_from_the_configured_no_records_code) {
  test::Simulator s;
  const auto unknown = *domain::NhsNumber::parse("9993000000");
  client::SpineLookup lookup(s.lookupSettings(), test::spineSchemas());
  BOOST_TEST((lookup.lookup(test::lookupRequest(unknown, AccessMode::Scheduled)).status == CheckStatus::NotFound));

  // A client that expects another code treats the simulator's as unknown: failed, not "not found".
  auto settings = s.lookupSettings();
  settings.replyOptions.noRecordsCode = "SOME_OTHER_CODE";
  client::SpineLookup strict(settings, test::spineSchemas());
  const auto r = strict.lookup(test::lookupRequest(unknown, AccessMode::Scheduled));
  BOOST_TEST((r.status == CheckStatus::CheckFailed));
  BOOST_TEST((reason(r) == ReasonCode::SpineRejected), reasonOf(r));
}

struct FaultCase {
  Fault::Kind kind;
  ReasonCode reason;
  bool retryable;
};
std::ostream& operator<<(std::ostream& os, const FaultCase& c) {
  return os << sim::toString(c.kind);
}

BOOST_AUTO_TEST_CASE(every_fault_ends_as_a_failed_check_with_its_reason) {
  const std::vector<FaultCase> cases{
      {Fault::Kind::Timeout, ReasonCode::Timeout, true},
      {Fault::Kind::Http500, ReasonCode::SpineUnavailable, true},
      {Fault::Kind::SoapFault, ReasonCode::SpineRejected, true},  // SOAP:Server: Spine may recover
      {Fault::Kind::MalformedXml, ReasonCode::UnrecognisedResponse, false},
      {Fault::Kind::InvalidResponse, ReasonCode::UnrecognisedResponse, false},
      {Fault::Kind::DropConnection, ReasonCode::SpineUnavailable, true},
      {Fault::Kind::ApplicationError, ReasonCode::SpineRejected, false},
      {Fault::Kind::UnknownCode, ReasonCode::SpineRejected, false},
  };
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.timeout = 300ms;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto number = numberOf("CPP open, 2 earlier accesses");
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c) {
      setFault(s, number, c.kind, c.kind == Fault::Kind::Timeout ? 2000ms : 0ms);
      const auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Unscheduled));
      BOOST_TEST((r.status == CheckStatus::CheckFailed));
      BOOST_REQUIRE(r.failure.has_value());
      BOOST_TEST((reason(r) == c.reason), reasonOf(r));
      BOOST_TEST(r.failure->retryable == c.retryable, reasonOf(r));
      BOOST_TEST(r.records.empty());
      // Details go to logs: never the NHS number.
      BOOST_TEST(r.failure->detail.find(std::string(number.reveal())) == std::string::npos);
    }
  }
  s.state().clearFaults();
  BOOST_TEST((lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled)).status == CheckStatus::Found));
}

BOOST_AUTO_TEST_CASE(the_shipped_fault_children_fail_too) {
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.timeout = 300ms;
  client::SpineLookup lookup(settings, test::spineSchemas());
  for (const auto& child : test::dataset().children()) {
    if (!child.fault || child.fault->kind == Fault::Kind::Delay) continue;
    BOOST_TEST_CONTEXT(child.label) {
      const auto r = lookup.lookup(test::lookupRequest(child.nhsNumber, AccessMode::Scheduled));
      BOOST_TEST((r.status == CheckStatus::CheckFailed), reasonOf(r));
    }
  }
  // The slow one (300 ms) is found within a time-out longer than its delay.
  settings.timeout = 1s;
  client::SpineLookup patient(settings, test::spineSchemas());
  const auto slow = patient.lookup(test::lookupRequest(numberOf("fault: delay"), AccessMode::Scheduled));
  BOOST_TEST((slow.status == CheckStatus::Found), reasonOf(slow));
}

BOOST_AUTO_TEST_CASE(a_reply_slower_than_the_time_out_is_a_timeout_without_waiting_for_it) {
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.timeout = 200ms;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto number = numberOf("LAC open");
  setFault(s, number, Fault::Kind::Delay, 1000ms);
  const auto started = Clock::now();
  const auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  const auto took = Clock::now() - started;
  BOOST_REQUIRE(r.failure.has_value());
  BOOST_TEST((reason(r) == ReasonCode::Timeout), reasonOf(r));
  BOOST_TEST(r.failure->retryable);
  BOOST_TEST(r.failure->detail.find("0.2 s") != std::string::npos, r.failure->detail);
  BOOST_TEST(took < 900ms);  // ended by our time-out, not by the delayed reply
}

// A reply that trickles in, headers too (each piece well within the socket's time-out), is cut
// off at the attempt's time-out: the time-out bounds the whole exchange, not each wait for bytes.
BOOST_AUTO_TEST_CASE(a_trickled_reply_is_cut_off_at_the_time_out) {
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.timeout = 400ms;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto number = numberOf("LAC open");
  setFault(s, number, Fault::Kind::SlowReply, 200ms);  // 8 bytes a piece: seconds for the headers alone
  const auto started = Clock::now();
  const auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  const auto took = Clock::now() - started;
  BOOST_TEST((reason(r) == ReasonCode::Timeout), reasonOf(r));
  BOOST_TEST(took < 1500ms);
}

// A lookup that waited for a query slot still has a whole time-out for its query: sent with only
// what the wait left, it would time out on a reply Spine is still making, and its retry would
// make a second access record.
BOOST_AUTO_TEST_CASE(a_query_sent_after_a_wait_for_a_slot_has_its_whole_time_out) {
  test::Simulator s;
  // The second lookup waits about 2 s for the slot; Spine then takes 2 s again, more than the
  // 1 s the wait would have left of a 3 s time-out, and less than the whole of it.
  s.state().setFault("*", Fault{Fault::Kind::Delay, 2000ms, std::nullopt});
  auto settings = s.lookupSettings();
  settings.maxConcurrent = 1;
  settings.timeout = 3s;
  settings.retries = 1;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto& child = test::childLabelled("LAC open");
  std::thread first([&] { lookup.lookup(test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled)); });
  BOOST_TEST(waitFor([&] { return s.state().stats().queries == 1u; }));  // it holds the slot
  const auto r = lookup.lookup(test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled));
  first.join();
  BOOST_TEST((r.status == CheckStatus::Found), reasonOf(r));
  BOOST_TEST(!r.possibleDuplicate);
  BOOST_TEST(s.state().stats().queries == 2u);  // one query each, never a retry
}

BOOST_AUTO_TEST_CASE(retries_after_a_time_out_and_flags_a_possible_duplicate) {
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.timeout = 300ms;
  settings.retries = 1;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto& child = test::childLabelled("LAC open");
  setFault(s, child.nhsNumber, Fault::Kind::Delay, 800ms, 1);  // the first attempt only
  const auto r = lookup.lookup(test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled));
  BOOST_TEST((r.status == CheckStatus::Found), reasonOf(r));
  BOOST_TEST(r.possibleDuplicate);
  BOOST_TEST(lookup.stats().retries == 1u);
  BOOST_TEST(lookup.stats().attempts == 2u);
  // The slow first attempt reached the simulated Spine too: two accesses, as the flag warns.
  BOOST_TEST(waitFor([&] { return s.state().accesses(child.nhsNumber).size() == child.accesses.size() + 2; }));
}

// CPIS.md §8: the ACK's deadline bounds the lookup. An attempt, the first too, is made only
// when a whole time-out still fits before it (one cut short would time out on a reply Spine is
// still making, its access recorded, and the deferred check would query again).
BOOST_AUTO_TEST_CASE(the_ack_deadline_allows_no_attempt_cut_short) {
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.timeout = 300ms;
  settings.retries = 1;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto& child = test::childLabelled("LAC open");
  setFault(s, child.nhsNumber, Fault::Kind::Delay, 800ms, 1);  // the first attempt only
  auto request = test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled);
  const auto started = Clock::now();
  request.answerBy = started + 500ms;  // room for one attempt, not for its retry
  const auto r = lookup.lookup(request);
  const auto took = Clock::now() - started;
  BOOST_REQUIRE(r.failure.has_value());
  BOOST_TEST((reason(r) == ReasonCode::Timeout), reasonOf(r));
  BOOST_TEST(r.failure->retryable);  // the deferred check tries again
  BOOST_TEST(r.failure->detail.find("not tried again: the ACK is due first") != std::string::npos, r.failure->detail);
  BOOST_TEST(took < 700ms);
  BOOST_TEST(lookup.stats().attempts == 1u);
  BOOST_TEST(lookup.stats().retries == 0u);
  BOOST_TEST(r.requestMayHaveArrived);  // it went out whole: its deferred check is a possible duplicate

  // Less than a whole time-out left: not sent at all.
  auto late = test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled);
  late.answerBy = Clock::now() + 200ms;
  const auto none = lookup.lookup(late);
  BOOST_REQUIRE(none.failure.has_value());
  BOOST_TEST(none.failure->detail.find("query not sent: it could no longer be answered") == 0u, none.failure->detail);
  BOOST_TEST(lookup.stats().attempts == 1u);
  BOOST_TEST(!none.requestMayHaveArrived);  // never sent
}

// CPIS.md §7: a deferred check's query after a failed one that may have reached Spine is a
// possible duplicate, answered or not; without that, an answer is not.
BOOST_AUTO_TEST_CASE(a_query_after_one_that_may_have_arrived_is_a_possible_duplicate) {
  test::Simulator s;
  client::SpineLookup lookup(s.lookupSettings(), test::spineSchemas());
  auto request = test::lookupRequest(numberOf("LAC open"), AccessMode::Unscheduled);
  const auto plain = lookup.lookup(request);
  BOOST_TEST((plain.status == CheckStatus::Found), reasonOf(plain));
  BOOST_TEST(!plain.possibleDuplicate);
  BOOST_TEST(!plain.requestMayHaveArrived);
  request.earlierMayHaveArrived = true;
  const auto again = lookup.lookup(request);
  BOOST_TEST((again.status == CheckStatus::Found), reasonOf(again));
  BOOST_TEST(again.possibleDuplicate);
}

BOOST_AUTO_TEST_CASE(a_retry_is_made_when_a_whole_attempt_fits_before_the_ack_deadline) {
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.timeout = 300ms;
  settings.retries = 1;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto& child = test::childLabelled("LAC open");
  setFault(s, child.nhsNumber, Fault::Kind::Delay, 800ms, 1);
  auto request = test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled);
  request.answerBy = Clock::now() + 5s;
  const auto r = lookup.lookup(request);
  BOOST_TEST((r.status == CheckStatus::Found), reasonOf(r));
  BOOST_TEST(r.possibleDuplicate);
  BOOST_TEST(lookup.stats().attempts == 2u);
}

BOOST_AUTO_TEST_CASE(a_query_whose_ack_is_already_due_is_not_sent) {
  test::Simulator s;
  client::SpineLookup lookup(s.lookupSettings(), test::spineSchemas());
  auto request = test::lookupRequest(numberOf("LAC open"), AccessMode::Unscheduled);
  request.answerBy = Clock::now() - 1ms;
  const auto r = lookup.lookup(request);
  BOOST_REQUIRE(r.failure.has_value());
  BOOST_TEST((reason(r) == ReasonCode::Timeout), reasonOf(r));
  BOOST_TEST(r.failure->detail.find("query not sent: it could no longer be answered") == 0u, r.failure->detail);
  BOOST_TEST(lookup.stats().attempts == 0u);
  BOOST_TEST(s.state().stats().queries == 0u);
  BOOST_TEST(!r.possibleDuplicate);
}

BOOST_AUTO_TEST_CASE(retries_after_a_dropped_connection) {
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.retries = 2;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto number = numberOf("LAC open");
  setFault(s, number, Fault::Kind::DropConnection, 0ms, 2);
  const auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_TEST((r.status == CheckStatus::Found), reasonOf(r));
  BOOST_TEST(r.possibleDuplicate);  // the dropped requests had gone out whole
  BOOST_TEST(s.state().stats().queries == 3u);
}

// Reads one HTTP request and returns its body; nullopt when the peer goes first.
std::optional<std::string> requestBody(Poco::Net::StreamSocket& socket) {
  std::string data;
  char buffer[4096];
  for (;;) {
    const auto end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t length = 0;
      if (const auto at = data.find("Content-Length: "); at != std::string::npos)
        length = std::stoul(data.substr(at + 16));
      if (data.size() >= end + 4 + length) return data.substr(end + 4, length);
    }
    const int n = socket.receiveBytes(buffer, sizeof buffer);
    if (n <= 0) return std::nullopt;
    data.append(buffer, static_cast<std::size_t>(n));
  }
}

// Reads one HTTP request (headers and a Content-Length body) from `socket`.
bool readRequest(Poco::Net::StreamSocket& socket) {
  return requestBody(socket).has_value();
}

// Hazard H7: a request that went out whole on a kept-alive connection, which then closed without
// a reply, may have reached the server (an access recorded, the local authority told). The
// transport does not send it again on its own: it says the request may have arrived, and
// whether to ask again is the lookup's decision, within its `retries`.
BOOST_AUTO_TEST_CASE(a_request_that_went_out_whole_on_a_kept_alive_connection_is_not_sent_again) {
  Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0));
  const std::uint16_t port = listener.address().port();
  std::atomic<int> requests{0};
  std::thread server([&] {
    Poco::Net::StreamSocket connection = listener.acceptConnection();
    if (!readRequest(connection)) return;
    ++requests;
    const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
    connection.sendBytes(ok.data(), static_cast<int>(ok.size()));
    if (!readRequest(connection)) return;  // the second request, taken whole
    ++requests;
    connection.close();  // and no reply
  });
  client::HttpsTransport::Settings settings;
  settings.endpoint = client::Endpoint::parse("http://127.0.0.1:" + std::to_string(port) + "/spine").value();
  client::HttpsTransport transport(settings);
  const auto first = transport.post("q", "<a/>", 2s);
  BOOST_TEST_REQUIRE(first.ok());
  const auto second = transport.post("q", "<b/>", 2s);
  server.join();
  BOOST_TEST_REQUIRE(!second.ok());
  BOOST_TEST(second.error().requestSent, second.error().detail);
  BOOST_TEST((second.error().kind == client::TransportFailure::Kind::Dropped), second.error().detail);
  BOOST_TEST(requests.load() == 2);
  BOOST_TEST(transport.stats().connectionsOpened == 1u);  // no new connection to send it again on
}

// A kept-alive connection the server closed while it was idle is found closed before a request
// is written on it, and a new one is made: nothing went out on the closed one.
BOOST_AUTO_TEST_CASE(a_kept_alive_connection_closed_while_idle_is_not_used) {
  Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0));
  const std::uint16_t port = listener.address().port();
  std::atomic<bool> closed{false};
  std::thread server([&] {
    {
      Poco::Net::StreamSocket connection = listener.acceptConnection();
      if (!readRequest(connection)) return;
      const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
      connection.sendBytes(ok.data(), static_cast<int>(ok.size()));
      connection.close();  // idle: the server's keep-alive time-out
      closed = true;
    }
    Poco::Net::StreamSocket again = listener.acceptConnection();
    if (!readRequest(again)) return;
    const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    again.sendBytes(ok.data(), static_cast<int>(ok.size()));
  });
  client::HttpsTransport::Settings settings;
  settings.endpoint = client::Endpoint::parse("http://127.0.0.1:" + std::to_string(port) + "/spine").value();
  client::HttpsTransport transport(settings);
  BOOST_TEST_REQUIRE(transport.post("q", "<a/>", 2s).ok());
  BOOST_TEST_REQUIRE(waitFor([&] { return closed.load(); }));
  const auto second = transport.post("q", "<b/>", 2s);
  server.join();
  BOOST_TEST_REQUIRE(second.ok(), (second.ok() ? std::string() : second.error().detail));
  BOOST_TEST(transport.stats().stale == 1u);
  BOOST_TEST(transport.stats().reused == 0u);
  BOOST_TEST(transport.stats().connectionsOpened == 2u);
}

// One lookup against a server that answers its query with `answer(the query's header)` and the
// HTTP status given.
client::LookupResult lookupAnsweredWith(
    int status, const std::function<std::string(const client::MessageHeader&)>& answer) {
  Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::thread server([&] {
    Poco::Net::StreamSocket connection = listener.acceptConnection();
    const auto body = requestBody(connection);
    if (!body) return;
    const auto query = client::parseQuery(*body, test::spineSchemas());
    if (!query.ok()) return;
    const std::string xml = answer(query.value().header);
    const std::string reply =
        "HTTP/1.1 " + std::to_string(status) +
        " X\r\nContent-Type: text/xml\r\nContent-Length: " + std::to_string(xml.size()) +
        "\r\nConnection: close\r\n\r\n" + xml;
    connection.sendBytes(reply.data(), static_cast<int>(reply.size()));
  });
  struct Join {
    std::thread& thread;
    ~Join() { thread.join(); }
  } join{server};
  test::Simulator s;  // for its settings: ASIDs, schemas; the query goes to the server above
  auto settings = s.lookupSettings();
  settings.endpoint =
      client::Endpoint::parse("http://127.0.0.1:" + std::to_string(listener.address().port()) + "/spine")
          .value();
  client::SpineLookup lookup(settings, test::spineSchemas());
  return lookup.lookup(test::lookupRequest(numberOf("LAC open"), AccessMode::Unscheduled));
}

// The reply's header as Spine writes it for `query`: from the service to us, relating to it.
client::MessageHeader answering(const client::MessageHeader& query) {
  client::MessageHeader h;
  h.messageId = client::newMessageId();
  h.creationTime = query.creationTime;
  h.fromAsid = query.toAsid;
  h.toAsid = query.fromAsid;
  h.relatesTo = query.messageId;
  return h;
}

// Hazards H2, H3: "no records" names no NHS number, so only the query it answers and the ASID it
// is addressed to tie it to this child. Without either, it is not believed; nor is an answer
// that comes with HTTP 500 (only a SOAP fault does).
BOOST_AUTO_TEST_CASE(an_answer_that_does_not_name_its_query_and_our_asid_is_not_believed) {
  const auto plain =
      lookupAnsweredWith(200, [](const auto& q) { return client::buildNotFoundReply(answering(q), {}); });
  BOOST_TEST((plain.status == CheckStatus::NotFound), reasonOf(plain));

  const auto unrelated = lookupAnsweredWith(200, [](const auto& q) {
    auto h = answering(q);
    h.relatesTo.clear();  // no wsa:RelatesTo, messageRef nullFlavor NI
    return client::buildNotFoundReply(h, {});
  });
  BOOST_TEST((reason(unrelated) == ReasonCode::UnrecognisedResponse), reasonOf(unrelated));
  BOOST_TEST(unrelated.failure->detail.find("does not say which query it answers") != std::string::npos,
             reasonOf(unrelated));

  const auto elsewhere = lookupAnsweredWith(200, [](const auto& q) {
    auto h = answering(q);
    h.toAsid = "200000000999";
    return client::buildNotFoundReply(h, {});
  });
  BOOST_TEST((reason(elsewhere) == ReasonCode::UnrecognisedResponse), reasonOf(elsewhere));
  BOOST_TEST(elsewhere.failure->detail.find("addressed to another ASID") != std::string::npos,
             reasonOf(elsewhere));

  const auto failing =
      lookupAnsweredWith(500, [](const auto& q) { return client::buildNotFoundReply(answering(q), {}); });
  BOOST_TEST((reason(failing) == ReasonCode::SpineUnavailable), reasonOf(failing));
  BOOST_TEST(failing.failure->detail.find("HTTP 500 with QUQI_IN010000UK14") != std::string::npos,
             reasonOf(failing));

  // Busy (429, 408): Spine down for now, tried again; any other 4xx is a refusal.
  const auto busy = lookupAnsweredWith(429, [](const auto&) { return std::string("<busy/>"); });
  BOOST_TEST((reason(busy) == ReasonCode::SpineUnavailable), reasonOf(busy));
  BOOST_TEST(busy.failure->retryable);
  const auto refusedQuery = lookupAnsweredWith(403, [](const auto&) { return std::string("<no/>"); });
  BOOST_TEST((reason(refusedQuery) == ReasonCode::SpineRejected), reasonOf(refusedQuery));

  // A rejection without a reference stays the rejection it reports.
  const auto rejected = lookupAnsweredWith(200, [](const auto& q) {
    auto h = answering(q);
    h.relatesTo.clear();
    return client::buildApplicationError(h, "1712", "Mandatory data missing");
  });
  BOOST_TEST((reason(rejected) == ReasonCode::SpineRejected), reasonOf(rejected));
}

BOOST_AUTO_TEST_CASE(a_rejection_is_never_retried) {
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.retries = 3;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto number = numberOf("LAC open");
  setFault(s, number, Fault::Kind::ApplicationError);
  const auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_TEST((reason(r) == ReasonCode::SpineRejected));
  BOOST_TEST(s.state().stats().queries == 1u);
  BOOST_TEST(!r.possibleDuplicate);
}

BOOST_AUTO_TEST_CASE(nobody_listening_is_spine_unavailable) {
  client::SpineLookupSettings settings;
  {
    test::Simulator s;  // a port that was just free
    settings = s.lookupSettings();
  }
  settings.retries = 1;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto r = lookup.lookup(test::lookupRequest(numberOf("LAC open"), AccessMode::Scheduled));
  BOOST_TEST((reason(r) == ReasonCode::SpineUnavailable), reasonOf(r));
  BOOST_TEST(!r.possibleDuplicate);  // nothing ever reached a server
}

BOOST_AUTO_TEST_CASE(an_incomplete_query_is_never_sent) {
  test::Simulator s;
  client::SpineLookup lookup(s.lookupSettings(), test::spineSchemas());
  auto request = test::lookupRequest(numberOf("LAC open"), AccessMode::Scheduled);
  request.author.orgName.clear();
  const auto r = lookup.lookup(request);
  BOOST_TEST((reason(r) == ReasonCode::InternalError), reasonOf(r));
  BOOST_TEST(s.state().stats().queries == 0u);
}

// Lookup settings for `s` whose breaker opens after 3 failures for 30 s, on the clock `now`.
client::SpineLookupSettings breakerOfThree(const test::Simulator& s, Clock::time_point& now) {
  auto settings = s.lookupSettings();
  settings.breaker = {3, 30s};
  settings.steadyClock = [&now] { return now; };
  return settings;
}

BOOST_AUTO_TEST_CASE(breaker_opens_after_n_failures_and_a_probe_closes_it) {
  test::Simulator s;
  auto now = Clock::now();
  client::SpineLookup lookup(breakerOfThree(s, now), test::spineSchemas());
  const auto number = numberOf("LAC open");
  s.state().setFault("*", Fault{Fault::Kind::Http500, 0ms, std::nullopt});
  cpis::test::LogCapture log("cpis.cpis");
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST((reason(lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled))) ==
                ReasonCode::SpineUnavailable));
  }
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Open));
  BOOST_TEST(s.state().stats().queries == 3u);

  // Open: checks fail at once, nothing is sent.
  const auto fast = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_REQUIRE(fast.failure.has_value());
  BOOST_TEST((reason(fast) == ReasonCode::SpineUnavailable));
  BOOST_TEST(fast.failure->detail.find("CP-IS unavailable") != std::string::npos, fast.failure->detail);
  BOOST_TEST(fast.failure->retryable);
  BOOST_TEST(s.state().stats().queries == 3u);
  BOOST_TEST(lookup.stats().breakerRejected == 1u);

  // The service recovers; after the open period one probe goes through and closes it.
  s.state().clearFaults();
  now += 29s;
  BOOST_TEST((lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled)).status == CheckStatus::CheckFailed));
  now += 1s;
  BOOST_TEST((lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled)).status == CheckStatus::Found));
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Closed));
  BOOST_TEST((lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled)).status == CheckStatus::Found));
  // Operations hear of both: the opening (twice: the first probe failed) and the closing.
  const std::string logged = log.all();
  BOOST_TEST(
      logged.find("OPS ALERT: CP-IS circuit breaker open after 3 failures in a row") != std::string::npos,
      logged);
  BOOST_TEST(logged.find("CP-IS circuit breaker closed") != std::string::npos, logged);
}

// One record Spine cannot answer, its deferred check retried all night, opened the breaker for
// every other child and then failed every probe. A background lookup (a deferred check) does not
// count towards opening it, never probes it, and fails at once while it is open.
BOOST_AUTO_TEST_CASE(a_deferred_check_that_keeps_failing_neither_opens_the_breaker_nor_probes_it) {
  test::Simulator s;
  auto now = Clock::now();
  client::SpineLookup lookup(breakerOfThree(s, now), test::spineSchemas());
  const auto failing = numberOf("LAC open");
  const auto healthy = numberOf("CPP open, 2 earlier accesses");
  s.state().setFault(std::string(failing.reveal()), Fault{Fault::Kind::Http500, 0ms, std::nullopt});
  auto deferred = test::lookupRequest(failing, AccessMode::Scheduled);
  deferred.background = true;
  for (int i = 0; i < 10; ++i) BOOST_TEST((reason(lookup.lookup(deferred)) == ReasonCode::SpineUnavailable));
  BOOST_TEST(s.state().stats().queries == 10u);
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Closed));
  BOOST_TEST(
      (lookup.lookup(test::lookupRequest(healthy, AccessMode::Scheduled)).status == CheckStatus::Found));

  // Spine down for everyone: the clinicians' checks open it; a deferred check then fails at once.
  s.state().setFault("*", Fault{Fault::Kind::Http500, 0ms, std::nullopt});
  for (int i = 0; i < 3; ++i) (void)lookup.lookup(test::lookupRequest(healthy, AccessMode::Scheduled));
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Open));
  const auto queries = s.state().stats().queries;
  const auto refused = lookup.lookup(deferred);  // open: fails at once, nothing sent
  BOOST_REQUIRE(refused.failure.has_value());
  BOOST_TEST(refused.failure->detail.find("circuit breaker open") != std::string::npos,
             refused.failure->detail);
  BOOST_TEST(s.state().stats().queries == queries);
  // The open period over, with no clinician's check to probe it (a unit closed overnight): a
  // deferred check goes to Spine; its failure decides nothing, and the breaker stays open for
  // the next clinician's check to probe.
  now += 31s;
  BOOST_TEST((reason(lookup.lookup(deferred)) == ReasonCode::SpineUnavailable));
  BOOST_TEST(s.state().stats().queries == queries + 1);
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Open));
  s.state().clearFaults();
  s.state().setFault(std::string(failing.reveal()), Fault{Fault::Kind::Http500, 0ms, std::nullopt});
  BOOST_TEST(
      (lookup.lookup(test::lookupRequest(healthy, AccessMode::Scheduled)).status == CheckStatus::Found));
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Closed));
  // A deferred check that succeeds is good news like any other.
  s.state().clearFaults();
  BOOST_TEST((lookup.lookup(deferred).status == CheckStatus::Found));
}

// A Spine faulting every query (SOAP Server faults, its own failure) is a Spine down: it opens
// the breaker. A rejection of the query itself shows the service is up, and does not.
BOOST_AUTO_TEST_CASE(server_faults_open_the_breaker_and_rejections_do_not) {
  test::Simulator s;
  auto settings = s.lookupSettings();
  settings.breaker = {3, 30s};
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto number = numberOf("LAC open");
  s.state().setFault("*", Fault{Fault::Kind::ApplicationError, 0ms, std::nullopt});
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST((reason(lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled))) == ReasonCode::SpineRejected));
  }
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Closed));
  s.state().setFault("*", Fault{Fault::Kind::SoapFault, 0ms, std::nullopt});
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST((reason(lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled))) == ReasonCode::SpineRejected));
  }
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Open));
}

BOOST_AUTO_TEST_CASE(a_failed_probe_keeps_it_open) {
  test::Simulator s;
  auto now = Clock::now();
  auto settings = s.lookupSettings();
  settings.breaker = {1, 10s};
  settings.steadyClock = [&now] { return now; };
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto number = numberOf("LAC open");
  setFault(s, number, Fault::Kind::DropConnection);
  lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  now += 10s;
  lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));  // the probe, dropped
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Open));
  BOOST_TEST(lookup.breaker().stats().opened == 2u);
  // Rejections by Spine show the service is up: they never open the breaker.
  s.state().clearFaults();
  now += 10s;
  setFault(s, number, Fault::Kind::ApplicationError);
  for (int i = 0; i < 3; ++i) lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_TEST((lookup.breaker().state() == client::CircuitBreaker::State::Closed));
}

BOOST_AUTO_TEST_CASE(concurrency_limit_holds_the_lookups_in_flight) {
  test::Simulator s;
  s.state().setFault("*", Fault{Fault::Kind::Delay, 100ms, std::nullopt});
  auto settings = s.lookupSettings();
  settings.maxConcurrent = 2;
  settings.timeout = 5s;
  client::SpineLookup lookup(settings, test::spineSchemas());
  std::atomic<int> found{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      const auto r = lookup.lookup(test::lookupRequest(numberOf("LAC open"), AccessMode::Scheduled));
      if (r.status == CheckStatus::Found) ++found;
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(found.load() == 6);
  BOOST_TEST(lookup.concurrency().highWater() == 2u);
  BOOST_TEST(lookup.transport().stats().connectionsOpened <= 2u);  // kept-alive connections reused
}

BOOST_AUTO_TEST_CASE(cache_is_off_by_default_and_answers_only_silent_reads) {
  test::Simulator s;
  const auto number = numberOf("LAC open");
  {
    client::SpineLookup lookup(s.lookupSettings(), test::spineSchemas());
    lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
    lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
    BOOST_TEST(s.state().stats().queries == 2u);
  }
  auto now = Clock::now();
  auto settings = s.lookupSettings();
  settings.cacheTtl = 10s;
  settings.steadyClock = [&now] { return now; };
  test::TempDir dir("cpis-audit");
  auto audit = store::SqliteAuditLog::open(dir.file("engine.db")).value();
  client::SpineLookup lookup(settings, test::spineSchemas(), audit.get());
  const auto first = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  auto cachedRequest = test::lookupRequest(number, AccessMode::Scheduled);
  const auto cached = lookup.lookup(cachedRequest);
  BOOST_TEST(s.state().stats().queries == 3u);
  BOOST_TEST((cached.records == first.records));
  BOOST_TEST(lookup.stats().cacheHits == 1u);
  BOOST_TEST(cached.answeredAt.has_value());  // shown as old as it is
  BOOST_TEST(!first.answeredAt.has_value());
  // An unscheduled check must reach Spine: the silent read's answer does not count, and neither
  // does an unscheduled check's a moment ago (from another site: its access must be recorded,
  // shown in the next history, and the LA told).
  const auto accessesBefore = s.state().accesses(number).size();
  lookup.lookup(test::lookupRequest(number, AccessMode::Unscheduled));
  BOOST_TEST(s.state().stats().queries == 4u);
  BOOST_TEST(s.state().accesses(number).size() == accessesBefore + 1);
  const auto again = lookup.lookup(test::lookupRequest(number, AccessMode::Unscheduled));
  BOOST_TEST(s.state().stats().queries == 5u);
  BOOST_TEST(s.state().accesses(number).size() == accessesBefore + 2);
  BOOST_TEST(again.accesses.size() == first.accesses.size() + 1);  // the first unscheduled one shows
  BOOST_TEST(lookup.stats().cacheHits == 1u);
  // Hazard H2: another site's (or feed's) silent read is its own: never answered with this one's.
  auto otherSite = test::lookupRequest(number, AccessMode::Scheduled);
  otherSite.author.orgOdsCode = "RZZ99";
  lookup.lookup(otherSite);
  auto otherFeed = test::lookupRequest(number, AccessMode::Scheduled);
  otherFeed.feedId = "another-feed";
  lookup.lookup(otherFeed);
  BOOST_TEST(s.state().stats().queries == 7u);
  BOOST_TEST(lookup.stats().cacheHits == 1u);
  now += 10s;  // expired
  lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_TEST(s.state().stats().queries == 8u);
  // The cached answer is audited as such.
  {
    const auto flushed = audit->flush();
    BOOST_REQUIRE_MESSAGE(flushed.isOk(), flushed.message());
  }
  const auto rows = audit->findByCheckId(cachedRequest.checkId).value();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows.front().fromCache);
  BOOST_TEST(rows.front().messageId == first.transportMessageId);
}

BOOST_AUTO_TEST_CASE(every_lookup_is_audited_with_its_fields) {
  test::Simulator s;
  test::TempDir dir("cpis-audit");
  auto audit = store::SqliteAuditLog::open(dir.file("engine.db")).value();
  auto settings = s.lookupSettings();
  settings.timeout = 300ms;
  const auto at = test::utcInstant(2025, 6, 12, 14, 30, 6);
  settings.wallClock = [at] { return at; };
  client::SpineLookup lookup(settings, test::spineSchemas(), audit.get());

  const auto& child = test::childLabelled("two local authorities");
  const auto foundRequest = test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled);
  const auto found = lookup.lookup(foundRequest);
  const auto failedNumber = numberOf("LAC open");
  setFault(s, failedNumber, Fault::Kind::Timeout, 1000ms);
  const auto failedRequest = test::lookupRequest(failedNumber, AccessMode::Scheduled);
  const auto failed = lookup.lookup(failedRequest);
  {
    const auto flushed = audit->flush();
    BOOST_REQUIRE_MESSAGE(flushed.isOk(), flushed.message());
  }

  const auto rows = audit->findByCheckId(foundRequest.checkId).value();
  BOOST_REQUIRE(rows.size() == 1u);
  const auto& row = rows.front();
  BOOST_TEST(row.atMicros == std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count());
  BOOST_TEST(row.feed == "rzz-ed");
  BOOST_TEST(row.location == "RZZ01/EDMAJ");
  BOOST_TEST(row.nhsNumber == std::string(child.nhsNumber.reveal()));
  BOOST_TEST(row.accessMode == "UNSCHEDULED");
  BOOST_TEST(row.outcome == "FOUND");
  BOOST_TEST(row.reason == "");
  BOOST_TEST(row.latencyMicros == found.latency.count());
  BOOST_TEST(row.messageId == found.transportMessageId);
  BOOST_TEST(row.source == "SIMULATOR");
  BOOST_TEST(row.recordCount == 2);
  BOOST_TEST(!row.possibleDuplicate);
  BOOST_TEST(!row.fromCache);

  const auto failedRows = audit->findByCheckId(failedRequest.checkId).value();
  BOOST_REQUIRE(failedRows.size() == 1u);
  BOOST_TEST(failedRows.front().outcome == "CHECK_FAILED");
  BOOST_TEST(failedRows.front().reason == "TIMEOUT");
  BOOST_TEST(failedRows.front().accessMode == "SCHEDULED");
  BOOST_REQUIRE(failed.failure.has_value());
  BOOST_TEST(failedRows.front().detail == failed.failure->detail);
  BOOST_TEST(audit->stats().written == 2u);
}

// ---- mutual TLS -------------------------------------------------------------------------

struct TlsFixture {
  const test::TestPki& pki = test::pki();
  test::Simulator s{[&] {
    sim::SimulatorSettings settings;
    settings.tls = client::ServerTlsSettings{pki.serverCertificate(), pki.serverKey(), "", pki.caCertificate(), true};
    return settings;
  }()};

  client::SpineLookupSettings settingsWith(std::optional<std::string> client, std::string ca) const {
    auto settings = s.lookupSettings();
    BOOST_TEST(settings.endpoint.tls);
    client::ClientTlsSettings tls;
    if (client) {
      tls.certificateFile = pki.clientCertificate(*client);
      tls.privateKeyFile = pki.clientKey(*client);
    }
    tls.caFile = std::move(ca);
    settings.tls = tls;
    settings.retries = 1;
    return settings;
  }
};

BOOST_FIXTURE_TEST_CASE(mutual_tls_with_a_trusted_client_certificate, TlsFixture) {
  client::SpineLookup lookup(settingsWith("epr01", pki.caCertificate()), test::spineSchemas());
  for (int i = 0; i < 3; ++i) {
    const auto r = lookup.lookup(test::lookupRequest(numberOf("LAC open"), AccessMode::Scheduled));
    BOOST_TEST((r.status == CheckStatus::Found), reasonOf(r));
  }
  BOOST_TEST(lookup.transport().stats().connectionsOpened == 1u);  // one handshake, kept alive
}

BOOST_FIXTURE_TEST_CASE(no_or_untrusted_client_certificate_is_refused, TlsFixture) {
  for (const std::optional<std::string>& client : {std::optional<std::string>(), std::optional<std::string>("rogue")}) {
    client::SpineLookup lookup(settingsWith(client, pki.caCertificate()), test::spineSchemas());
    const auto r = lookup.lookup(test::lookupRequest(numberOf("LAC open"), AccessMode::Scheduled));
    BOOST_TEST((r.status == CheckStatus::CheckFailed));
    BOOST_TEST((reason(r) == ReasonCode::SpineUnavailable), reasonOf(r));
  }
  BOOST_TEST(s.state().stats().queries == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_server_we_do_not_trust_is_refused, TlsFixture) {
  // Our trust anchor is not the CA that issued the server's certificate: its chain does not verify.
  const std::string rogueCa = pki.clientCertificate("rogue");
  client::SpineLookup lookup(settingsWith("epr01", rogueCa), test::spineSchemas());
  const auto r = lookup.lookup(test::lookupRequest(numberOf("LAC open"), AccessMode::Scheduled));
  BOOST_REQUIRE(r.failure.has_value());
  BOOST_TEST((reason(r) == ReasonCode::SpineUnavailable), reasonOf(r));
  BOOST_TEST(!r.failure->retryable);
  BOOST_TEST(s.state().stats().queries == 0u);
}

// Over TLS too the time-out is what it says: POCO 1.11 waits twice a secure socket's time-out,
// which the transport allows for; a trickled reply is cut off as over plain HTTP.
BOOST_FIXTURE_TEST_CASE(tls_time_outs_are_not_doubled_and_trickles_are_cut_off, TlsFixture) {
  auto settings = settingsWith("epr01", pki.caCertificate());
  settings.retries = 0;
  settings.timeout = 1s;
  client::SpineLookup lookup(settings, test::spineSchemas());
  const auto number = numberOf("LAC open");
  BOOST_TEST((lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled)).status == CheckStatus::Found));
  for (const auto kind : {Fault::Kind::Timeout, Fault::Kind::SlowReply}) {
    s.state().setFault(std::string(number.reveal()), Fault{kind, kind == Fault::Kind::Timeout ? 5000ms : 200ms, 1});
    const auto started = Clock::now();
    const auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
    const auto took = Clock::now() - started;
    BOOST_TEST((reason(r) == ReasonCode::Timeout), reasonOf(r));
    BOOST_TEST(took < 1600ms, toString(kind));  // the stalled reply took 2 s before
  }
}

// A peer that trickles its TLS handshake (a record announced whole, then a byte at a time,
// each within the socket's wait) is cut off at the deadline too: the connection is watched
// from its TCP connect on, not from the request's first byte after the handshake.
BOOST_FIXTURE_TEST_CASE(a_trickled_tls_handshake_is_cut_off_at_the_time_out, TlsFixture) {
  Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::atomic<bool> done{false};
  std::thread server([&] {
    Poco::Net::StreamSocket connection = listener.acceptConnection();
    char hello[4096];
    if (connection.receiveBytes(hello, sizeof hello) <= 0) return;  // the ClientHello
    const char header[] = {0x16, 0x03, 0x03, 0x40, 0x00};  // a handshake record of 16 KiB, to come
    connection.sendBytes(header, sizeof header);
    const char zero = 0;
    while (!done.load()) {  // far more slowly than the record needs, each byte well inside a wait
      if (connection.sendBytes(&zero, 1) <= 0) return;
      if (connection.poll(Poco::Timespan(50'000), Poco::Net::Socket::SELECT_ERROR)) return;
    }
  });
  client::HttpsTransport::Settings settings;
  settings.endpoint =
      client::Endpoint::parse("https://127.0.0.1:" + std::to_string(listener.address().port()) + "/spine").value();
  settings.tls = client::ClientTlsSettings{pki.clientCertificate("epr01"), pki.clientKey("epr01"), "", pki.caCertificate()};
  client::HttpsTransport transport(settings);
  const auto started = Clock::now();
  const auto r = transport.post("q", "<a/>", 800ms);
  const auto took = Clock::now() - started;
  done = true;
  server.join();
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST((r.error().kind == client::TransportFailure::Kind::Timeout), r.error().detail);
  BOOST_TEST(!r.error().requestSent);
  BOOST_TEST(took < 1500ms);  // it held the exchange for 800 s (16 KiB at 50 ms a byte) before
}

// The asynchronous reply endpoint over mutual TLS with an allow-list of client certificate
// subjects: a certificate from the trusted CA that is not on the list is refused (403) before
// anything of the body is read; one on it gets as far as the reply (400: this body answers no
// query). Without a list, the CA alone decides (it was refused at load: "not supported yet").
BOOST_FIXTURE_TEST_CASE(the_reply_endpoint_takes_replies_only_from_allowed_subjects, TlsFixture) {
  client::AsyncReplies replies;
  client::AsyncReplyServerSettings settings;
  settings.tls = client::ServerTlsSettings{pki.serverCertificate(), pki.serverKey(), "", pki.caCertificate(), true,
                                           {"/C=GB/O=Example Trust/CN=epr01"}};
  client::AsyncReplyServer endpoint(settings, replies, test::spineSchemas(), client::ReplyOptions{});
  endpoint.start();
  const auto post = [&](const std::string& name) {
    client::HttpsTransport::Settings transport;
    transport.endpoint = client::Endpoint::parse("https://localhost:" + std::to_string(endpoint.port()) + "/cpis/replies").value();
    transport.tls = client::ClientTlsSettings{pki.clientCertificate(name), pki.clientKey(name), "", pki.caCertificate()};
    client::HttpsTransport https(transport);
    const auto reply = https.post("", "<not-a-reply/>", 5s);
    BOOST_TEST_REQUIRE(reply.ok(), name);
    return reply.value().status;
  };
  BOOST_TEST(post("epr02") == 403);  // trusted CA, not on the list
  BOOST_TEST(endpoint.received() == 0u);
  BOOST_TEST(post("epr01") == 400);  // on the list: read, and refused as no reply to anything
  BOOST_TEST(endpoint.received() == 1u);
  endpoint.stop();
}

// Two processes on one reply port would split Spine's replies between them, and the replies
// that reach the wrong one are discarded: the checks time out. The second must fail to start, as
// a second MLLP listener does; POCO's own ServerSocket constructor set SO_REUSEPORT, and both
// started. So for the simulator.
BOOST_AUTO_TEST_CASE(a_reply_endpoint_or_simulator_on_a_port_in_use_does_not_start) {
  client::AsyncReplies replies;
  client::AsyncReplyServer first{client::AsyncReplyServerSettings{}, replies, test::spineSchemas(),
                                 client::ReplyOptions{}};
  client::AsyncReplyServerSettings same;
  same.port = first.port();
  BOOST_CHECK_THROW(client::AsyncReplyServer(same, replies, test::spineSchemas(), client::ReplyOptions{}),
                    Poco::Net::NetException);
  test::Simulator running;
  sim::SimulatorSettings taken;
  taken.address = "127.0.0.1";
  taken.port = running.server->port();
  BOOST_CHECK_THROW(sim::SpineSimulator(taken, test::spineSchemas(), test::dataset()),
                    Poco::Net::NetException);
}

// ---- asynchronous replies ----------------------------------------------------------------

struct AsyncFixture {
  client::AsyncReplies replies;
  test::Simulator s{[] {
    sim::SimulatorSettings settings;
    settings.asyncReplies = true;
    return settings;
  }()};
  client::AsyncReplyServer endpoint{client::AsyncReplyServerSettings{}, replies, test::spineSchemas(), client::ReplyOptions{}};

  AsyncFixture() { endpoint.start(); }

  client::SpineLookupSettings settings(std::chrono::milliseconds timeout = 2s) {
    auto settings = s.lookupSettings();
    settings.replyTo = endpoint.url();
    settings.timeout = timeout;
    return settings;
  }
};

BOOST_FIXTURE_TEST_CASE(an_asynchronous_reply_is_matched_by_message_id, AsyncFixture) {
  client::SpineLookup lookup(settings(), test::spineSchemas(), nullptr, &replies);
  const auto& child = test::childLabelled("CPP and LAC at once");
  const auto r = lookup.lookup(test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled));
  BOOST_TEST((r.status == CheckStatus::Found), reasonOf(r));
  BOOST_TEST((r.records == child.records));
  BOOST_TEST(replies.stats().matched == 1u);
  BOOST_TEST(endpoint.received() == 1u);
  BOOST_TEST(s.state().stats().asyncReplies == 1u);
  const auto notFound = lookup.lookup(test::lookupRequest(*domain::NhsNumber::parse("9993000000"), AccessMode::Scheduled));
  BOOST_TEST((notFound.status == CheckStatus::NotFound), reasonOf(notFound));
}

BOOST_FIXTURE_TEST_CASE(a_late_reply_is_a_timeout_and_is_discarded_when_it_comes, AsyncFixture) {
  client::SpineLookup lookup(settings(300ms), test::spineSchemas(), nullptr, &replies);
  const auto number = numberOf("LAC open");
  setFault(s, number, Fault::Kind::LateReply, 600ms);
  const auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_REQUIRE(r.failure.has_value());
  BOOST_TEST((reason(r) == ReasonCode::Timeout), reasonOf(r));
  BOOST_TEST(r.failure->detail.find("asynchronous") != std::string::npos);
  BOOST_TEST(waitFor([&] { return replies.stats().late == 1u; }, 5s));
  BOOST_TEST(replies.stats().matched == 0u);
}

// Hazard H7: Spine took the query and POSTed its answer, but the query's own connection closed
// without the 202. The answer is used; the query is not sent again (a second access recorded).
BOOST_FIXTURE_TEST_CASE(a_reply_whose_acceptance_was_lost_is_the_answer, AsyncFixture) {
  auto lookupSettings = settings();
  lookupSettings.retries = 2;
  client::SpineLookup lookup(lookupSettings, test::spineSchemas(), nullptr, &replies);
  const auto& child = test::childLabelled("CPP and LAC at once");
  setFault(s, child.nhsNumber, Fault::Kind::AcceptanceLost, 0ms, 1);
  const auto queries = s.state().stats().queries;
  const auto r = lookup.lookup(test::lookupRequest(child.nhsNumber, AccessMode::Unscheduled));
  BOOST_TEST((r.status == CheckStatus::Found), reasonOf(r));
  BOOST_TEST((r.records == child.records));
  BOOST_TEST(s.state().stats().queries == queries + 1);  // asked once
  BOOST_TEST(replies.stats().matched == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_reply_for_an_unknown_message_id_is_discarded, AsyncFixture) {
  client::SpineLookup lookup(settings(300ms), test::spineSchemas(), nullptr, &replies);
  const auto number = numberOf("LAC open");
  setFault(s, number, Fault::Kind::UnknownMessageId);
  const auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_TEST((reason(r) == ReasonCode::Timeout), reasonOf(r));
  BOOST_TEST(waitFor([&] { return replies.stats().unknown == 1u; }, 5s));
}

BOOST_FIXTURE_TEST_CASE(a_duplicate_reply_is_discarded, AsyncFixture) {
  client::SpineLookup lookup(settings(), test::spineSchemas(), nullptr, &replies);
  const auto number = numberOf("LAC open");
  setFault(s, number, Fault::Kind::DuplicateReply);
  const auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_TEST((r.status == CheckStatus::Found), reasonOf(r));
  BOOST_TEST(waitFor([&] { return replies.stats().duplicate == 1u; }, 5s));
  BOOST_TEST(replies.stats().matched == 1u);
}

BOOST_FIXTURE_TEST_CASE(asynchronous_content_faults_still_fail_the_check, AsyncFixture) {
  client::SpineLookup lookup(settings(1s), test::spineSchemas(), nullptr, &replies);
  const auto number = numberOf("LAC open");
  setFault(s, number, Fault::Kind::ApplicationError, 0ms, 1);
  auto r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_TEST((reason(r) == ReasonCode::SpineRejected), reasonOf(r));
  // A reply without a usable message reference can be matched to nothing: the lookup times out.
  setFault(s, number, Fault::Kind::MalformedXml, 0ms, 1);
  r = lookup.lookup(test::lookupRequest(number, AccessMode::Scheduled));
  BOOST_TEST((r.status == CheckStatus::CheckFailed), reasonOf(r));
}

BOOST_AUTO_TEST_SUITE_END()

// MessageStore's contract, run against every implementation (store_backends.h): SQLite and
// PostgreSQL answer every case alike. What only one of them has (SQLite's WAL and lock file,
// PostgreSQL's instances and claims) is tested in its own file.
#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/store/store_writes.h"

#include "tests/unit/store/store_backends.h"

using namespace std::chrono_literals;
using cpis::core::Status;
using cpis::store::Completion;
using cpis::store::MessageId;
using cpis::store::MessageState;
using cpis::store::PersistOutcome;
using cpis::test::CommonStoreOptions;
using cpis::test::StoreBackends;
using cpis::test::StoreFixture;

namespace {

// Every byte value, MLLP's framing bytes and HL7's segment end among them.
std::string binarySample() {
  std::string bytes = "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A01|CTRL|P|2.4\r\x0B\x1C\r";
  for (int value = 0; value < 256; ++value) bytes.push_back(static_cast<char>(value));
  bytes += "PID|||\xE9\xFF\x80\r";
  return bytes;
}

std::string messageBytes(const std::string& controlId) {
  return StoreFixture<cpis::test::SqliteBackend>::messageBytes(controlId);
}

CommonStoreOptions withWindow(std::chrono::seconds window) {
  CommonStoreOptions options;
  options.duplicateWindow = window;
  return options;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(message_store)

BOOST_AUTO_TEST_CASE_TEMPLATE(persisted_bytes_come_back_exactly, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const std::string raw = binarySample();
  const auto persisted = fixture.store().persistInbound({"edsys", "CTRL", raw});
  BOOST_REQUIRE(persisted.ok());
  const auto message = fixture.store().fetch(persisted->id);
  BOOST_REQUIRE(message.ok());
  BOOST_TEST(message->raw.value() == raw);
  BOOST_TEST(message->rawSize == raw.size());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(control_ids_in_any_encoding_come_back_byte_for_byte, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  // MSH-10 in Latin-1, and a NUL: neither is valid UTF-8 text, both are the sender's bytes
  const std::string latin1 = "CTRL\xE9\xFF";
  const std::string withNul("CT\0RL", 5);
  for (const std::string& controlId : {latin1, withNul}) {
    const std::string raw = messageBytes(controlId);
    const auto persisted = fixture.store().persistInbound(
        {"edsys", controlId, raw, Completion{MessageState::Processed, "accepted ADT^A01\xE9", "AA"}});
    BOOST_REQUIRE_MESSAGE(persisted.ok(), (persisted.ok() ? "" : persisted.error().message()));
    const auto message = fixture.store().fetch(persisted->id);
    BOOST_REQUIRE(message.ok());
    BOOST_TEST(message->controlId == controlId);
    BOOST_TEST(message->outcome.rfind("accepted ADT^A01", 0) == 0U);
    const auto again = fixture.store().persistInbound({"edsys", controlId, raw});
    BOOST_REQUIRE(again.ok());
    BOOST_TEST(again->duplicate);
    BOOST_TEST(again->id == persisted->id);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_new_message_is_received_with_no_ack_or_outcome, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId id = fixture.persist("MSG0001", "emis");
  const auto message = fixture.store().fetch(id);
  BOOST_REQUIRE(message.ok());
  BOOST_TEST(message->id == id);
  BOOST_TEST(message->feed == "emis");
  BOOST_TEST(message->controlId == "MSG0001");
  BOOST_TEST((message->state == MessageState::Received));
  BOOST_TEST((message->receivedAt == fixture.clock.now()));
  BOOST_TEST(!message->ack.has_value());
  BOOST_TEST(!message->ackedAt.has_value());
  BOOST_TEST(message->outcome.empty());
  BOOST_TEST(!message->finishedAt.has_value());
  BOOST_TEST(!message->purgedAt.has_value());
  BOOST_TEST(message->duplicatesReceived == 0U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(ids_increase_in_arrival_order, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId first = fixture.persist("A");
  const MessageId second = fixture.persist("B");
  const MessageId third = fixture.persist("C");
  BOOST_TEST(first < second);
  BOOST_TEST(second < third);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(mark_outcome_finishes_a_received_message, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  for (const auto finalState : {MessageState::Processed, MessageState::Rejected, MessageState::Failed}) {
    BOOST_TEST_CONTEXT(finalState) {
      const MessageId id = fixture.persist("MSG-" + std::string(toString(finalState)));
      fixture.clock.advance(2s);
      BOOST_TEST(fixture.store().markOutcome(id, finalState, "AA; check done, code 0").isOk());
      const auto message = fixture.store().fetch(id);
      BOOST_REQUIRE(message.ok());
      BOOST_TEST((message->state == finalState));
      BOOST_TEST(message->outcome == "AA; check done, code 0");
      BOOST_TEST((message->finishedAt == fixture.clock.now()));
      BOOST_TEST(fixture.store().listUnfinished().value().empty());
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_finished_message_keeps_its_first_outcome, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId id = fixture.persist("MSG1");
  BOOST_TEST(fixture.store().markOutcome(id, MessageState::Rejected, "AR 101 PID-3").isOk());
  const Status again = fixture.store().markOutcome(id, MessageState::Processed, "AA");
  BOOST_TEST((again.code() == Status::Code::InvalidArgument));
  const auto message = fixture.store().fetch(id);
  BOOST_TEST((message->state == MessageState::Rejected));
  BOOST_TEST(message->outcome == "AR 101 PID-3");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_outcome_must_be_a_final_state, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId id = fixture.persist("MSG1");
  BOOST_TEST(
      (fixture.store().markOutcome(id, MessageState::Received, "").code() == Status::Code::InvalidArgument));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_unknown_id_is_not_found, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId id = fixture.persist("MSG1");
  const MessageId unknown = id + 1000;
  BOOST_TEST((fixture.store().fetch(unknown).error().code() == Status::Code::NotFound));
  BOOST_TEST((fixture.store().recordAck(unknown, "MSH|ACK").code() == Status::Code::NotFound));
  BOOST_TEST(
      (fixture.store().markOutcome(unknown, MessageState::Processed, "").code() == Status::Code::NotFound));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(the_last_ack_recorded_is_kept, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId id = fixture.persist("MSG1");
  const std::string acceptAck = "MSH|^~\\&|RCV|FAC|SND|FAC|20260101||ACK^A01|1|P|2.5\rMSA|CA|MSG1\r";
  const std::string applicationAck = std::string("MSH|^~\\&|RCV\rMSA|AA|MSG1\rZCP|1|FOUND|\xE9\r");
  BOOST_TEST(fixture.store().recordAck(id, acceptAck).isOk());
  BOOST_TEST(fixture.store().fetch(id)->ack.value() == acceptAck);
  fixture.clock.advance(1s);
  BOOST_TEST(fixture.store().recordAck(id, applicationAck).isOk());
  const auto message = fixture.store().fetch(id);
  BOOST_TEST(message->ack.value() == applicationAck);
  BOOST_TEST((message->ackedAt == fixture.clock.now()));
  BOOST_TEST((message->state == MessageState::Received));  // recording an ACK finishes nothing
}

BOOST_AUTO_TEST_CASE_TEMPLATE(incomplete_or_oversized_input_is_refused, Backend, StoreBackends) {
  CommonStoreOptions options;
  options.maxMessageBytes = 100;
  StoreFixture<Backend> fixture(options);
  const auto code = [](const auto& result) { return result.error().code(); };
  BOOST_TEST((code(fixture.store().persistInbound({"", "C1", "MSH|"})) == Status::Code::InvalidArgument));
  BOOST_TEST((code(fixture.store().persistInbound({"edsys", "", "MSH|"})) == Status::Code::InvalidArgument));
  BOOST_TEST((code(fixture.store().persistInbound({"edsys", "C1", ""})) == Status::Code::InvalidArgument));
  const std::string large(101, 'x');
  BOOST_TEST((code(fixture.store().persistInbound({"edsys", "C1", large})) == Status::Code::InvalidArgument));
  const MessageId id = fixture.persist("C1");
  BOOST_TEST((fixture.store().recordAck(id, "").code() == Status::Code::InvalidArgument));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_duplicate_within_the_window_gets_the_original_id_and_ack, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture(withWindow(1h));
  const MessageId original = fixture.persist("MSG1");
  const std::string ack = "MSH|^~\\&|RCV\rMSA|AA|MSG1\r";
  BOOST_REQUIRE(fixture.store().recordAck(original, ack).isOk());
  fixture.clock.advance(1h);  // the window's last instant still counts
  const std::string raw = messageBytes("MSG1");
  const auto again = fixture.store().persistInbound({"edsys", "MSG1", raw});
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->duplicate);
  BOOST_TEST(again->id == original);
  BOOST_TEST(again->originalAck.value() == ack);
  BOOST_TEST(fixture.store().fetch(original)->duplicatesReceived == 1U);
  // nothing new was stored (an id may have been set aside for the resend: ids increase, with gaps)
  BOOST_TEST(fixture.persist("MSG2") > original);
  BOOST_TEST(fixture.store().listUnfinished().value().size() == 2U);
}

// Hazard H1: another message under a stored message's MSH-10 (a sender's counter reset) is not a
// resend. It is told apart by its bytes (all but MSH-7, which a resend may stamp afresh), never
// given the original's ACK (about another attendance), and not stored.
BOOST_AUTO_TEST_CASE(a_message_sent_again_differs_at_most_in_msh7) {
  using cpis::store::sameMessageSentAgain;
  const std::string a = "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||1\r";
  BOOST_TEST(sameMessageSentAgain(a, a));
  BOOST_TEST(sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|202601011200||ADT^A04|M1|P|2.4\rPID|||1\r"));
  BOOST_TEST(sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|||ADT^A04|M1|P|2.4\rPID|||1\r"));
  BOOST_TEST(!sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A08|M1|P|2.4\rPID|||1\r"));
  BOOST_TEST(!sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||2\r"));
  BOOST_TEST(!sameMessageSentAgain(a, "MSH|^~\\&|SND|FAX|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||1\r"));
  // Another field separator; MSH-7 is still the field after the sixth.
  BOOST_TEST(sameMessageSentAgain("MSH#^~\\&#S#F#R#F#2026#x", "MSH#^~\\&#S#F#R#F#2027#x"));
  BOOST_TEST(!sameMessageSentAgain("MSH#^~\\&#S#F#R#F#2026#x", "MSH#^~\\&#S#F#R#F#2027#y"));
  // Read as the parser reads them: CR LF or LF for CR, a trailing newline, a byte-order mark or
  // blank lines before MSH change nothing.
  BOOST_TEST(sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260102||ADT^A04|M1|P|2.4\r\nPID|||1\r\n"));
  BOOST_TEST(sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\nPID|||1\n\n"));
  BOOST_TEST(sameMessageSentAgain("\xEF\xBB\xBF\r\n" + a, "MSH|^~\\&|SND|FAC|RCV|FAC|2027||ADT^A04|M1|P|2.4\rPID|||1"));
  BOOST_TEST(!sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\r\nPID|||2\r\n"));
  // What HL7 reads as nothing, added or dropped by an interface engine on the way: empty fields
  // at a segment's end, empty components and subcomponents at a field's end. Not a value.
  BOOST_TEST(sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4||\rPID|||1|\r"));
  BOOST_TEST(sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A04^|M1|P|2.4\rPID|||1^&\r"));
  BOOST_TEST(!sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||1|x\r"));
  BOOST_TEST(!sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||1^x\r"));
  BOOST_TEST(
      !sameMessageSentAgain(a, "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||1\rZZZ|\r"));
  // Only MSH-2's own characters are separators: with two ("^~"), the byte after MSH-2 is data,
  // and a value's last character is never taken for an empty subcomponent (hazard H1).
  const std::string shortEncoding = "MSH|^~|EPR|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||9434765911\r";
  BOOST_TEST(!sameMessageSentAgain(shortEncoding,
                                   "MSH|^~|EPR|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||943476591\r"));
  BOOST_TEST(!sameMessageSentAgain(shortEncoding,
                                   "MSH|^~|EPR|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||9434765911E\r"));
  BOOST_TEST(sameMessageSentAgain(shortEncoding,
                                  "MSH|^~|EPR|FAC|RCV|FAC|20260101||ADT^A04|M1|P|2.4\rPID|||9434765911^|\r"));
  // A header too short to have an MSH-7, or no header: the bytes alone.
  BOOST_TEST(!sameMessageSentAgain("MSH|^~\\&|A\r", "MSH|^~\\&|B\r"));
  BOOST_TEST(!sameMessageSentAgain("junk1", "junk2"));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(another_message_under_a_stored_msh10_is_not_a_duplicate, Backend, StoreBackends) {
  StoreFixture<Backend> fixture(withWindow(1h));
  const MessageId original = fixture.persist("MSG1");
  BOOST_REQUIRE(fixture.store().recordAck(original, "MSH|^~\\&|RCV\rMSA|AA|MSG1\r").isOk());
  std::string restamped = messageBytes("MSG1");
  const auto time = restamped.find("|20");
  BOOST_REQUIRE(time != std::string::npos);
  restamped.insert(time + 1, "2027");  // MSH-7 stamped afresh: still the message sent again
  const auto resend = fixture.store().persistInbound({"edsys", "MSG1", restamped});
  BOOST_REQUIRE(resend.ok());
  BOOST_TEST(resend->duplicate);
  BOOST_TEST(!resend->conflicting);
  BOOST_TEST(resend->originalAck.has_value());
  const auto other = fixture.store().persistInbound({"edsys", "MSG1", messageBytes("MSG1") + "PV1|1|E\r"});
  BOOST_REQUIRE(other.ok());
  BOOST_TEST(other->duplicate);  // not stored
  BOOST_TEST(other->conflicting);
  BOOST_TEST(!other->originalAck.has_value());  // never the other message's ACK
  // Counted as received again under its MSH-10, both (the refused one is in the log, not the store).
  BOOST_TEST(fixture.store().fetch(original)->duplicatesReceived == 2U);
}

// A message refused (AR, or AE: stored as rejected or failed), corrected, and sent again under
// its MSH-10, as an interface engine reprocesses an error: a message of its own, stored and
// answered on its own. It used to be AR 205 ("another message's MSH-10"), and the corrected
// attendance was never checked. The refused bytes sent again are still its duplicate.
BOOST_AUTO_TEST_CASE_TEMPLATE(a_corrected_message_under_a_refused_one_s_msh10_is_a_message_of_its_own,
                              Backend, StoreBackends) {
  StoreFixture<Backend> fixture(withWindow(1h));
  for (const MessageState refusal : {MessageState::Rejected, MessageState::Failed}) {
    const std::string id = refusal == MessageState::Rejected ? "AR1" : "AE1";
    const std::string refusedBytes = messageBytes(id) + "PV1|1|E\rPID|1\r";
    const std::string refusedAck = "MSH|^~\\&|RCV\rMSA|" +
                                   std::string(refusal == MessageState::Rejected ? "AR" : "AE") + "|" + id +
                                   "\r";
    const auto refused = fixture.store().persistInbound(
        {"edsys", id, refusedBytes, Completion{refusal, "refused", refusedAck}});
    BOOST_REQUIRE(refused.ok());
    BOOST_TEST(!refused->duplicate);
    const auto again = fixture.store().persistInbound({"edsys", id, refusedBytes});
    BOOST_REQUIRE(again.ok());
    BOOST_TEST(again->duplicate);  // the same bytes: its stored answer again
    BOOST_TEST(again->originalAck.value() == refusedAck);
    const std::string correctedBytes = messageBytes(id) + "PV1|1|E\r";
    const auto corrected = fixture.store().persistInbound({"edsys", id, correctedBytes});
    BOOST_REQUIRE(corrected.ok());
    BOOST_TEST(!corrected->duplicate);
    BOOST_TEST(!corrected->conflicting);
    BOOST_TEST(corrected->id != refused->id);
    BOOST_TEST(fixture.store().fetch(corrected->id)->raw.value() == correctedBytes);
    // The corrected message is now the original of its own resends, and of nothing else.
    const auto resent = fixture.store().persistInbound({"edsys", id, correctedBytes});
    BOOST_REQUIRE(resent.ok());
    BOOST_TEST(resent->duplicate);
    BOOST_TEST(resent->id == corrected->id);
    const auto other = fixture.store().persistInbound({"edsys", id, messageBytes(id) + "PV1|1|I\r"});
    BOOST_REQUIRE(other.ok());
    BOOST_TEST(other->conflicting);
    // The refused bytes sent again (an EPR replaying its log) are still the refused message's
    // resend, with its own answer, though another message has been stored since under its MSH-10.
    const auto replayed = fixture.store().persistInbound({"edsys", id, refusedBytes});
    BOOST_REQUIRE(replayed.ok());
    BOOST_TEST(replayed->duplicate);
    BOOST_TEST(!replayed->conflicting);
    BOOST_TEST(replayed->id == refused->id);
    BOOST_TEST(replayed->originalAck.value() == refusedAck);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_duplicate_of_a_message_not_yet_answered_has_no_ack, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId original = fixture.persist("MSG1");
  const std::string raw = messageBytes("MSG1");
  const auto again = fixture.store().persistInbound({"edsys", "MSG1", raw});
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->duplicate);
  BOOST_TEST(again->id == original);
  BOOST_TEST(!again->originalAck.has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_message_with_a_completion_is_stored_finished_with_its_ack_in_one_write,
                              Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const std::string raw = messageBytes("DONE1");
  const std::string ack = "MSH|^~\\&|RCV\rMSA|AA|DONE1\r";
  const auto writesBefore = fixture.stats().writes;
  const auto persisted = fixture.store().persistInbound(
      {"edsys", "DONE1", raw, Completion{MessageState::Processed, "accepted ADT^A01", ack}});
  BOOST_REQUIRE(persisted.ok());
  BOOST_TEST(fixture.stats().writes == writesBefore + 1);
  const auto message = fixture.store().fetch(persisted->id);
  BOOST_REQUIRE(message.ok());
  BOOST_TEST((message->state == MessageState::Processed));
  BOOST_TEST(message->ack.value() == ack);
  BOOST_TEST(message->outcome == "accepted ADT^A01");
  BOOST_TEST((message->finishedAt == fixture.clock.now()));
  BOOST_TEST((message->ackedAt == fixture.clock.now()));
  BOOST_TEST(fixture.store().listUnfinished().value().empty());
  // a resend is a duplicate that gets this ACK; its own completion is not stored
  const auto again = fixture.store().persistInbound(
      {"edsys", "DONE1", raw, Completion{MessageState::Rejected, "other", "OTHER ACK"}});
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->duplicate);
  BOOST_TEST(again->originalAck.value() == ack);
  BOOST_TEST((fixture.store().fetch(persisted->id)->state == MessageState::Processed));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_completion_needs_an_ack, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const std::string raw = messageBytes("BAD1");
  BOOST_TEST(!fixture.store()
                  .persistInbound({"edsys", "BAD1", raw, Completion{MessageState::Processed, "x", ""}})
                  .ok());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_received_completion_stores_the_ack_and_leaves_the_message_unfinished, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  const std::string raw = messageBytes("CA1");
  const auto persisted =
      fixture.store().persistInbound({"edsys", "CA1", raw, Completion{MessageState::Received, "", "CA ACK"}});
  BOOST_REQUIRE(persisted.ok());
  const auto stored = fixture.store().fetch(persisted->id);
  BOOST_TEST((stored->state == MessageState::Received));
  BOOST_TEST(stored->ack.value() == "CA ACK");
  BOOST_TEST(!stored->finishedAt.has_value());
  BOOST_TEST(fixture.store().listUnfinished().value() == std::vector<MessageId>{persisted->id});
  const auto again = fixture.store().persistInbound({"edsys", "CA1", raw});
  BOOST_TEST(again->originalAck.value() == "CA ACK");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_asynchronous_persist_answers_once_the_message_is_committed, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  const std::string raw = messageBytes("ASYNC1");
  std::mutex mutex;
  std::condition_variable answered;
  std::optional<cpis::core::Result<PersistOutcome>> outcome;
  fixture.store().persistInboundAsync(
      {"edsys", "ASYNC1", raw, Completion{MessageState::Processed, "ok", "AA"}},
      [&](cpis::core::Result<PersistOutcome> r) {
        const std::lock_guard lock(mutex);
        outcome = std::move(r);
        answered.notify_all();
      });
  std::unique_lock lock(mutex);
  BOOST_REQUIRE(answered.wait_for(lock, 10s, [&] { return outcome.has_value(); }));
  BOOST_REQUIRE(outcome->ok());
  BOOST_TEST(!outcome->value().duplicate);
  BOOST_TEST(fixture.store().fetch(outcome->value().id)->ack.value() == "AA");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_asynchronous_persist_after_close_is_refused_at_once, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  fixture.store().close();
  const std::string raw = messageBytes("ASYNC2");
  std::optional<cpis::core::Result<PersistOutcome>> outcome;
  fixture.store().persistInboundAsync({"edsys", "ASYNC2", raw},
                                      [&](cpis::core::Result<PersistOutcome> r) { outcome = std::move(r); });
  BOOST_REQUIRE(outcome.has_value());
  BOOST_TEST(!outcome->ok());
  BOOST_TEST(outcome->error().retryable());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(the_same_control_id_after_the_window_is_a_new_message, Backend, StoreBackends) {
  StoreFixture<Backend> fixture(withWindow(1h));
  const MessageId first = fixture.persist("MSG1");
  fixture.clock.advance(1h + 1us);
  const MessageId second = fixture.persist("MSG1");
  BOOST_TEST(second != first);
  // and the newest one is what a later duplicate repeats
  const std::string raw = messageBytes("MSG1");
  BOOST_TEST(fixture.store().persistInbound({"edsys", "MSG1", raw})->id == second);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(the_same_control_id_on_another_feed_is_a_new_message, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId first = fixture.persist("MSG1", "edsys");
  const MessageId second = fixture.persist("MSG1", "emis");
  BOOST_TEST(second != first);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_zero_window_turns_duplicate_detection_off, Backend, StoreBackends) {
  StoreFixture<Backend> fixture(withWindow(0s));
  const MessageId first = fixture.persist("MSG1");
  const MessageId second = fixture.persist("MSG1");
  BOOST_TEST(second != first);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(racing_identical_messages_have_exactly_one_original, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  constexpr int kThreads = 16;
  constexpr int kControlIds = 20;
  // outcomes[thread][n] for control id n; threads start together, each in its own order
  std::vector<std::vector<PersistOutcome>> outcomes(kThreads, std::vector<PersistOutcome>(kControlIds));
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int k = 0; k < kControlIds; ++k) {
        const int n = (k + t) % kControlIds;
        const std::string controlId = "RACE" + std::to_string(n);
        const std::string raw = messageBytes(controlId);
        auto outcome = fixture.store().persistInbound({"edsys", controlId, raw});
        if (!outcome.ok()) {
          ++failures;
          continue;
        }
        outcomes[static_cast<std::size_t>(t)][static_cast<std::size_t>(n)] = std::move(outcome).value();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_REQUIRE(failures == 0);
  for (std::size_t n = 0; n < kControlIds; ++n) {
    std::vector<MessageId> originals;
    std::set<MessageId> ids;
    for (std::size_t t = 0; t < kThreads; ++t) {
      if (!outcomes[t][n].duplicate) originals.push_back(outcomes[t][n].id);
      ids.insert(outcomes[t][n].id);
    }
    BOOST_TEST_REQUIRE(originals.size() == 1U);
    BOOST_TEST(ids.size() == 1U);  // every duplicate names that original
    BOOST_TEST(fixture.store().fetch(originals[0])->duplicatesReceived == kThreads - 1U);
  }
  BOOST_TEST(fixture.store().listUnfinished().value().size() == static_cast<std::size_t>(kControlIds));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(sixteen_threads_persist_everything_with_unique_ids, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  constexpr int kThreads = 16;
  constexpr int kPerThread = 100;
  std::vector<std::vector<MessageId>> ids(kThreads);
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        const std::string controlId = "T" + std::to_string(t) + "-" + std::to_string(i);
        const std::string raw = messageBytes(controlId);
        auto outcome = fixture.store().persistInbound({"edsys", controlId, raw});
        if (!outcome.ok() || outcome->duplicate) {
          ++failures;
          continue;
        }
        ids[static_cast<std::size_t>(t)].push_back(outcome->id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_REQUIRE(failures == 0);
  std::set<MessageId> unique;
  for (std::size_t t = 0; t < kThreads; ++t) {
    for (std::size_t i = 0; i < ids[t].size(); ++i) {
      unique.insert(ids[t][i]);
      const auto message = fixture.store().fetch(ids[t][i]);
      BOOST_REQUIRE(message.ok());
      const std::string controlId = "T" + std::to_string(t) + "-" + std::to_string(i);
      BOOST_TEST(message->controlId == controlId);
      BOOST_TEST(message->raw.value() == messageBytes(controlId));
    }
  }
  BOOST_TEST(unique.size() == static_cast<std::size_t>(kThreads * kPerThread));
  BOOST_TEST(fixture.store().listUnfinished().value().size() == unique.size());
  const auto stats = fixture.stats();
  BOOST_TEST(stats.writes == unique.size());
  BOOST_TEST(stats.transactions <= stats.writes);
  BOOST_TEST_MESSAGE(Backend::kName << ", 16 threads: " << stats.writes << " writes in " << stats.transactions
                                    << " transactions, largest batch " << stats.largestBatch);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(with_group_commit_off_every_write_is_its_own_transaction, Backend,
                              StoreBackends) {
  CommonStoreOptions options;
  options.maxBatchSize = 1;
  StoreFixture<Backend> fixture(options);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string controlId = "T" + std::to_string(t) + "-" + std::to_string(i);
        const std::string raw = messageBytes(controlId);
        if (!fixture.store().persistInbound({"edsys", controlId, raw}).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_TEST(failures == 0);
  const auto stats = fixture.stats();
  BOOST_TEST(stats.writes == 40U);
  BOOST_TEST(stats.transactions == 40U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(unfinished_messages_are_listed_oldest_first, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId a = fixture.persist("A");
  const MessageId b = fixture.persist("B");
  const MessageId c = fixture.persist("C");
  const MessageId d = fixture.persist("D");
  BOOST_REQUIRE(fixture.store().markOutcome(b, MessageState::Processed, "AA").isOk());
  BOOST_REQUIRE(fixture.store().markOutcome(d, MessageState::Failed, "CP-IS timeout").isOk());
  BOOST_REQUIRE(fixture.store().recordAck(c, "MSH|ACK").isOk());  // acknowledged is not finished
  BOOST_TEST(fixture.store().listUnfinished().value() == (std::vector<MessageId>{a, c}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(the_purge_drops_old_content_and_keeps_the_record, Backend, StoreBackends) {
  StoreFixture<Backend> fixture(withWindow(std::chrono::hours(24 * 60)));  // longer than the retention here
  const MessageId oldProcessed = fixture.persist("OLD1");
  const MessageId oldRejected = fixture.persist("OLD2");
  const MessageId oldUnfinished = fixture.persist("OLD3");
  BOOST_REQUIRE(fixture.store().recordAck(oldProcessed, "MSH|ACK1").isOk());
  BOOST_REQUIRE(fixture.store().markOutcome(oldProcessed, MessageState::Processed, "AA").isOk());
  BOOST_REQUIRE(fixture.store().markOutcome(oldRejected, MessageState::Rejected, "AR 102 PID-7").isOk());
  fixture.clock.advance(std::chrono::days(20));
  const MessageId recent = fixture.persist("NEW1");
  BOOST_REQUIRE(fixture.store().markOutcome(recent, MessageState::Processed, "AA").isOk());
  fixture.clock.advance(std::chrono::days(11));

  const auto purged = fixture.store().purgeContent(std::chrono::days(30));
  BOOST_REQUIRE(purged.ok());
  BOOST_TEST(purged.value() == 2U);

  const auto record = fixture.store().fetch(oldProcessed);
  BOOST_REQUIRE(record.ok());
  BOOST_TEST(!record->raw.has_value());
  BOOST_TEST(!record->ack.has_value());
  BOOST_TEST((record->purgedAt == fixture.clock.now()));
  BOOST_TEST(record->rawSize == messageBytes("OLD1").size());
  BOOST_TEST((record->state == MessageState::Processed));
  BOOST_TEST(record->outcome == "AA");
  BOOST_TEST(record->controlId == "OLD1");
  BOOST_TEST(record->ackedAt.has_value());
  BOOST_TEST(!fixture.store().fetch(oldRejected)->raw.has_value());
  // unfinished and recent messages keep their bytes
  BOOST_TEST(fixture.store().fetch(oldUnfinished)->raw.value() == messageBytes("OLD3"));
  BOOST_TEST(fixture.store().fetch(recent)->raw.value() == messageBytes("NEW1"));

  BOOST_TEST(fixture.store().purgeContent(std::chrono::days(30)).value() == 0U);
  BOOST_TEST((fixture.store().recordAck(oldProcessed, "MSH|ACK2").code() == Status::Code::InvalidArgument));
  // the record still answers duplicates, without the purged ACK
  const std::string raw = messageBytes("OLD1");
  const auto again = fixture.store().persistInbound({"edsys", "OLD1", raw});
  BOOST_TEST(again->duplicate);
  BOOST_TEST(again->id == oldProcessed);
  BOOST_TEST(!again->originalAck.has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_large_purge_runs_in_chunks, Backend, StoreBackends) {
  CommonStoreOptions options;
  options.purgeChunkSize = 3;
  StoreFixture<Backend> fixture(options);
  for (int i = 0; i < 10; ++i) {
    const MessageId id = fixture.persist("M" + std::to_string(i));
    BOOST_REQUIRE(fixture.store().markOutcome(id, MessageState::Processed, "AA").isOk());
  }
  fixture.clock.advance(std::chrono::days(2));
  const auto before = fixture.stats().transactions;
  BOOST_TEST(fixture.store().purgeContent(std::chrono::days(1)).value() == 10U);
  BOOST_TEST(fixture.stats().transactions - before == 5U);  // 3 + 3 + 3 + 1, and the memory rows
}

BOOST_AUTO_TEST_CASE_TEMPLATE(reopening_the_database_keeps_everything, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const std::string raw = binarySample();
  const MessageId finished = fixture.store().persistInbound({"edsys", "MSG1", raw})->id;
  BOOST_REQUIRE(fixture.store().recordAck(finished, "MSH|ACK\r").isOk());
  BOOST_REQUIRE(fixture.store().markOutcome(finished, MessageState::Processed, "AA").isOk());
  const MessageId unfinished = fixture.persist("MSG2");
  const auto before = fixture.store().fetch(finished).value();

  fixture.reopen();
  const auto after = fixture.store().fetch(finished);
  BOOST_REQUIRE(after.ok());
  BOOST_TEST(after->raw.value() == raw);
  BOOST_TEST(after->ack.value() == "MSH|ACK\r");
  BOOST_TEST((after->state == MessageState::Processed));
  BOOST_TEST((after->receivedAt == before.receivedAt));
  BOOST_TEST((after->finishedAt == before.finishedAt));
  BOOST_TEST(fixture.store().listUnfinished().value() == (std::vector<MessageId>{unfinished}));
  // duplicate detection spans the restart, and ids keep increasing
  const auto again = fixture.store().persistInbound({"edsys", "MSG1", raw});
  BOOST_TEST(again->duplicate);
  BOOST_TEST(again->id == finished);
  BOOST_TEST(fixture.persist("MSG3") > unfinished);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(after_close_writes_are_refused_and_reads_still_work, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId id = fixture.persist("MSG1");
  fixture.store().close();
  const std::string raw = messageBytes("MSG2");
  const auto refused = fixture.store().persistInbound({"edsys", "MSG2", raw});
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST((refused.error().code() == Status::Code::Unavailable));
  BOOST_TEST(
      (fixture.store().markOutcome(id, MessageState::Processed, "").code() == Status::Code::Unavailable));
  BOOST_TEST(fixture.store().fetch(id).ok());
  fixture.store().close();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_single_engine_claims_every_unfinished_message_at_start, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId a = fixture.persist("A");
  const MessageId b = fixture.persist("B");
  const MessageId c = fixture.persist("C");
  BOOST_REQUIRE(fixture.store().markOutcome(b, MessageState::Processed, "AA").isOk());
  // after a restart the engine claims what the previous run left, oldest first
  fixture.reopen();
  const auto claimed = fixture.store().claimUnfinished(100);
  BOOST_REQUIRE(claimed.ok());
  BOOST_TEST(claimed.value() == (std::vector<MessageId>{a, c}));
  BOOST_TEST(fixture.store().claimUnfinished(1).ok());
  // and finishes them
  BOOST_TEST(fixture.store().markOutcome(a, MessageState::Processed, "AA").isOk());
  BOOST_TEST(fixture.store().renewClaims().ok());
}

// The attendance memory's rows (MemoryRow): kept by (kind, feed, key), replaced, deleted,
// purged, and read back oldest first, bytes exact.
BOOST_AUTO_TEST_CASE_TEMPLATE(memory_rows_are_replaced_deleted_purged_and_read_back_oldest_first, Backend,
                              StoreBackends) {
  using cpis::store::MemoryRow;
  StoreFixture<Backend> fixture;
  const auto t0 = fixture.clock.now();
  const std::string binaryKey("V\0\xff" "1", 5);
  std::vector<MemoryRow> first{
      {"check", "ed", "V1", "{\"a\":1}", t0 + std::chrono::seconds(2)},
      {"outcome", "ed", "V1", "{\"b\":2}", t0 + std::chrono::seconds(1)},
      {"check", "ward", "V1", "{\"c\":3}", t0 + std::chrono::seconds(3)},
      {"merge", "", "9434765919", "{\"d\":4}", t0 + std::chrono::seconds(4)},
      {"check", "ed", binaryKey, std::string("\x01\x00\x02", 3), t0 + std::chrono::seconds(5)},
  };
  BOOST_REQUIRE(fixture.store().saveMemory(first, std::nullopt).isOk());
  auto loaded = fixture.store().loadMemory(t0);
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->size() == 5U);
  // oldest first
  BOOST_TEST(loaded->at(0).kind == "outcome");
  BOOST_TEST(loaded->at(1).body == "{\"a\":1}");
  BOOST_TEST(loaded->at(2).feed == "ward");
  BOOST_TEST(loaded->at(3).feed == "");
  BOOST_TEST(loaded->at(3).key == "9434765919");
  BOOST_TEST(loaded->at(4).key == binaryKey);
  BOOST_TEST(loaded->at(4).body == std::string("\x01\x00\x02", 3));
  BOOST_TEST((loaded->at(4).at == t0 + std::chrono::seconds(5)));

  // replaced (same kind, feed and key), deleted (empty body), the rest kept
  std::vector<MemoryRow> second{
      {"check", "ed", "V1", "{\"a\":9}", t0 + std::chrono::seconds(10)},
      {"check", "ward", "V1", "", t0 + std::chrono::seconds(10)},
  };
  BOOST_REQUIRE(fixture.store().saveMemory(second, std::nullopt).isOk());
  loaded = fixture.store().loadMemory(t0);
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->size() == 4U);
  // merge (4 s), the binary key (5 s), then ed V1's check and outcome, both at 10 s now (the
  // rows of one feed and key share their time)
  BOOST_TEST(loaded->at(0).kind == "merge");
  for (std::size_t i = 2; i < 4; ++i) {
    BOOST_TEST(loaded->at(i).key == "V1");
    BOOST_TEST((loaded->at(i).at == t0 + std::chrono::seconds(10)));
    if (loaded->at(i).kind == "check") BOOST_TEST(loaded->at(i).body == "{\"a\":9}");
  }
  // only rows at or after `since`
  loaded = fixture.store().loadMemory(t0 + std::chrono::seconds(5));
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(loaded->size() == 3U);

  // purged with the saving: rows older than purgeBefore go
  BOOST_REQUIRE(fixture.store().saveMemory({}, t0 + std::chrono::seconds(5)).isOk());
  loaded = fixture.store().loadMemory(t0);
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->size() == 3U);
  BOOST_TEST(loaded->front().key == binaryKey);

  // and with the content, by the store's retention
  fixture.clock.advance(std::chrono::days(31));
  BOOST_REQUIRE(fixture.store().purgeContent(std::chrono::days(30)).ok());
  loaded = fixture.store().loadMemory(t0);
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(loaded->empty());

  // kept across a reopen
  BOOST_REQUIRE(fixture.store().saveMemory(first, std::nullopt).isOk());
  fixture.reopen();
  loaded = fixture.store().loadMemory(t0);
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(loaded->size() == 5U);
}

// An attendance's rows age together: its outcome row, written at the check, is not purged
// while its check row is written again (an A03 days later), nor left out of a load.
BOOST_AUTO_TEST_CASE_TEMPLATE(the_memory_rows_of_one_attendance_share_their_time, Backend, StoreBackends) {
  using cpis::store::MemoryRow;
  StoreFixture<Backend> fixture;
  const auto t0 = fixture.clock.now();
  const std::vector<MemoryRow> checked{{"check", "ed", "V1", "c1", t0}, {"outcome", "ed", "V1", "o1", t0},
                                       {"outcome", "ed", "V2", "o2", t0}, {"outcome", "ward", "V1", "o3", t0}};
  BOOST_REQUIRE(fixture.store().saveMemory(checked, std::nullopt).isOk());
  const std::vector<MemoryRow> ended{{"check", "ed", "V1", "c2", t0 + std::chrono::days(25)}};
  BOOST_REQUIRE(fixture.store().saveMemory(ended, t0 + std::chrono::days(1)).isOk());
  const auto loaded = fixture.store().loadMemory(t0 + std::chrono::days(1));
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->size() == 2U);  // ed V1's two rows; V2 and the other feed's V1 were purged
  for (const MemoryRow& row : *loaded) {
    BOOST_TEST(row.feed == "ed");
    BOOST_TEST(row.key == "V1");
    BOOST_TEST((row.at == t0 + std::chrono::days(25)));
  }
}

// Staged rows are written in the order staged, before a write queued after them. A touch moves
// the time of the key's rows and rewrites no body.
BOOST_AUTO_TEST_CASE_TEMPLATE(staged_memory_rows_are_written_in_order, Backend,
                              StoreBackends) {
  using cpis::store::MemoryRow;
  StoreFixture<Backend> fixture;
  const auto t0 = fixture.clock.now();
  fixture.store().stageMemory({{"check", "ed", "V1", "first", t0}});
  fixture.store().stageMemory({{"check", "ed", "V1", "second", t0 + std::chrono::seconds(1)},
                               {"outcome", "ed", "V1", "o", t0 + std::chrono::seconds(1)}});
  fixture.store().stageMemory({});  // nothing: nothing written, nothing failed
  MemoryRow touch{"check", "ed", "V1", "", t0 + std::chrono::minutes(5)};
  touch.touch = true;
  fixture.store().stageMemory({touch});
  fixture.store().stageMemory({{"check", "ed", "V2", "v2", t0}, {"check", "ed", "V2", "", t0}});  // written, deleted
  const MessageId id = fixture.persist("M1");  // a message's transaction, queued after them
  BOOST_TEST(id > 0);
  BOOST_REQUIRE(fixture.store().saveMemory({}, std::nullopt).isOk());
  const auto loaded = fixture.store().loadMemory(t0);
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->size() == 2U);
  for (const MemoryRow& row : *loaded) {
    BOOST_TEST(row.key == "V1");
    BOOST_TEST((row.at == t0 + std::chrono::minutes(5)));
    if (row.kind == "check") BOOST_TEST(row.body == "second");
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_closed_store_refuses_memory_rows, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  fixture.store().close();
  const std::vector<cpis::store::MemoryRow> rows{{"check", "ed", "V1", "{}", fixture.clock.now()}};
  BOOST_TEST((fixture.store().saveMemory(rows, std::nullopt).code() == Status::Code::Unavailable));
  BOOST_TEST(fixture.store().loadMemory(fixture.clock.now()).ok());  // reads still work
}

BOOST_AUTO_TEST_SUITE_END()

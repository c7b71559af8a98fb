// sink_mllp, loaded with the engine's plugin loader, sending to a receiver built on the
// engine's own MLLP listener (engine/mllp, port 0, plain and TLS): the ORU^R01 as received and
// read by the engine's HL7 v2 parser, MSH-10 from the idempotency key, and what each ACK means.
#define BOOST_TEST_MODULE sink_mllp
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "engine/hl7v2/message.h"
#include "engine/mllp/frame_handler.h"
#include "engine/mllp/mllp_server.h"
#include "engine/plugin/plugin_error.h"
#include "plugins/sink_mllp/hl7_notification.h"
#include "tests/support/sink_plugins.h"
#include "tests/support/ssl_guard.h"
#include "tests/support/test_pki.h"

using cpis::test::SslGuard;
BOOST_TEST_GLOBAL_FIXTURE(SslGuard);

namespace {

using cpis::plugin::DeliveryResult;
using cpis::plugin::NotificationFields;
using cpis::plugin::PluginSettings;
using cpis::plugin::SinkPlugin;

std::unique_ptr<SinkPlugin> makeSink(const PluginSettings& settings) {
  return cpis::test::loadSinkPlugin("mllp", settings);
}

const cpis::test::TestPki& pki() { return cpis::test::sharedPki(); }

NotificationFields planFound(const std::string& key = "plan-found:rzz:A1:1") {
  return {{"kind", "plan-found"},
          {"idempotency_key", key},
          {"feed", "rzz-ed"},
          {"occurred_at", "2025-06-12T13:30:05Z"},
          {"status", "FOUND"},
          {"care_setting", "ED"},
          {"plan_count", "2"},
          {"plan_types", "CPP,LAC"},
          {"la_name", "Exampleshire | North & South"},
          {"visit_number", "A1"}};
}

// A receiving system: answers each frame with an ACK whose MSA-1 the test sets (MSA-2 quotes
// the frame's MSH-10 unless told otherwise), or with nothing at all.
class Receiver : public cpis::mllp::FrameHandler {
 public:
  explicit Receiver(bool tls = false) {
    cpis::mllp::ListenerSettings settings;
    settings.name = "notification-receiver";
    settings.ioThreads = 1;
    if (tls) {
      cpis::mllp::TlsSettings server;
      server.certificateFile = pki().serverCertificate();
      server.privateKeyFile = pki().serverKey();
      settings.tls = server;
    }
    server_ = std::make_unique<cpis::mllp::MllpServer>(settings, *this);
    server_->start();
  }
  ~Receiver() override { server_->stop(std::chrono::milliseconds(2000)); }

  std::uint16_t port() const { return server_->port(); }
  void answer(std::string code, std::string quotedControlId = {}) {
    const std::lock_guard lock(mutex_);
    code_ = std::move(code);
    quotedControlId_ = std::move(quotedControlId);
  }
  std::vector<std::string> received() const {
    const std::lock_guard lock(mutex_);
    return received_;
  }

  std::string onFrame(std::string_view payload, const cpis::mllp::PeerInfo&) override {
    const std::lock_guard lock(mutex_);
    received_.emplace_back(payload);
    if (code_.empty()) return {};  // silence: the sender times out
    auto parsed = cpis::hl7v2::parse(payload);
    const std::string controlId =
        !quotedControlId_.empty() ? quotedControlId_ : parsed.ok() ? parsed.value().controlId() : std::string();
    return "MSH|^~\\&|SAFEGUARDING|RZZ|CPIS-ENGINE||20250612133006+0000||ACK^R01^ACK|ACK" + controlId +
           "|P|2.5\rMSA|" + code_ + "|" + controlId + "\r";
  }
  std::string onOversized(std::string_view, std::size_t, const cpis::mllp::PeerInfo&) override { return {}; }

 private:
  mutable std::mutex mutex_;
  std::string code_ = "AA";
  std::string quotedControlId_;
  std::vector<std::string> received_;
  std::unique_ptr<cpis::mllp::MllpServer> server_;
};

PluginSettings settingsFor(const Receiver& receiver) {
  return {{"host", "127.0.0.1"},
          {"port", std::to_string(receiver.port())},
          {"sending_facility", "RZZ"},
          {"receiving_application", "SAFEGUARDING"},
          {"receiving_facility", "RZZ"},
          {"timeout_ms", "5000"}};
}

cpis::hl7v2::Message parsed(const std::string& text) {
  auto result = cpis::hl7v2::parse(text);
  BOOST_REQUIRE_MESSAGE(result.ok(), "the sink's message does not parse");
  return std::move(result).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery)

BOOST_AUTO_TEST_CASE(sends_an_oru_r01_with_one_obx_per_field_and_msh10_the_idempotency_key) {
  Receiver receiver;
  const auto sink = makeSink(settingsFor(receiver));
  const DeliveryResult result = sink->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Delivered), result.text);
  BOOST_REQUIRE_EQUAL(receiver.received().size(), 1u);

  const cpis::hl7v2::Message message = parsed(receiver.received()[0]);
  BOOST_TEST(message.controlId() == "plan-found:rzz:A1:1");  // 20 characters or fewer: as it is
  BOOST_TEST(message.messageCode() == "ORU");
  BOOST_TEST(message.triggerEvent() == "R01");
  BOOST_TEST(message.messageStructure() == "ORU_R01");
  BOOST_TEST(message.version() == "2.5");
  BOOST_TEST(message.get("MSH-3") == "CPIS-ENGINE");
  BOOST_TEST(message.get("MSH-4") == "RZZ");
  BOOST_TEST(message.get("MSH-5") == "SAFEGUARDING");
  BOOST_TEST(message.get("MSH-11") == "P");
  BOOST_TEST(message.get("MSH-7").size() == 19u);  // YYYYMMDDHHMMSS+0000
  BOOST_TEST(message.occurrences("PID") == 0u);    // no NHS number given: no PID
  BOOST_TEST(message.get("OBR-4.1") == "plan-found");
  BOOST_TEST(message.get("OBR-4.3") == "CPISN");
  BOOST_TEST(message.get("OBR-7") == "20250612133005+0000");
  BOOST_TEST(message.get("OBR-25") == "F");

  const NotificationFields given = planFound();
  BOOST_REQUIRE_EQUAL(message.occurrences("OBX"), given.size());
  NotificationFields seen;
  for (std::size_t i = 1; i <= given.size(); ++i) {
    const std::string obx = "OBX(" + std::to_string(i) + ")";
    BOOST_TEST(message.get(obx + "-1") == std::to_string(i));
    BOOST_TEST(message.get(obx + "-2") == "ST");
    BOOST_TEST(message.get(obx + "-3.3") == "CPISN");
    BOOST_TEST(message.get(obx + "-11") == "F");
    seen[message.get(obx + "-3.1")] = message.get(obx + "-5");
  }
  BOOST_TEST(seen == given);  // delimiters in values (la_name) escaped and decoded back
}

BOOST_AUTO_TEST_CASE(patient_fields_fill_pid_and_each_plan_gets_its_obx) {
  Receiver receiver;
  const auto sink = makeSink(settingsFor(receiver));
  NotificationFields fields = planFound();
  fields["nhs_number"] = "9990000018";
  fields["family_name"] = "TESTCHILD";
  fields["given_name"] = "Alex";
  fields["birth_date"] = "2015-04-03";
  fields["plans"] = "CPP|20240101||A1B2C|Exampleshire|0100 000 0000\nLAC|20240301||A1B2C|Exampleshire|0100 000 0001";
  BOOST_TEST((sink->deliver(fields).kind == DeliveryResult::Kind::Delivered));
  const cpis::hl7v2::Message message = parsed(receiver.received().at(0));
  BOOST_TEST(message.get("PID-3.1") == "9990000018");
  BOOST_TEST(message.get("PID-3.4") == "NHS");
  BOOST_TEST(message.get("PID-3.5") == "NH");
  BOOST_TEST(message.get("PID-5.1") == "TESTCHILD");
  BOOST_TEST(message.get("PID-5.2") == "Alex");
  BOOST_TEST(message.get("PID-7") == "20150403");
  const std::size_t count = message.occurrences("OBX");
  BOOST_REQUIRE_GE(count, 2u);
  const std::string last = "OBX(" + std::to_string(count) + ")";
  const std::string before = "OBX(" + std::to_string(count - 1) + ")";
  BOOST_TEST(message.get(before + "-3.1") == "plans");
  BOOST_TEST(message.get(before + "-4") == "1");
  BOOST_TEST(message.get(before + "-5") == "CPP|20240101||A1B2C|Exampleshire|0100 000 0000");
  BOOST_TEST(message.get(last + "-4") == "2");
  BOOST_TEST(message.get(last + "-5") == "LAC|20240301||A1B2C|Exampleshire|0100 000 0001");
}

BOOST_AUTO_TEST_CASE(a_key_too_long_for_msh10_is_shortened_with_a_stable_hash) {
  Receiver receiver;
  const auto sink = makeSink(settingsFor(receiver));
  const std::string key = "check-abandoned:rzz-emergency-department:A250612001:17";
  BOOST_TEST((sink->deliver(planFound(key)).kind == DeliveryResult::Kind::Delivered));
  BOOST_TEST((sink->deliver(planFound(key)).kind == DeliveryResult::Kind::Delivered));
  BOOST_TEST((sink->deliver(planFound(key + "8")).kind == DeliveryResult::Kind::Delivered));
  const auto received = receiver.received();
  BOOST_REQUIRE_EQUAL(received.size(), 3u);
  const std::string first = parsed(received[0]).controlId();
  BOOST_TEST(first.size() == 20u);
  BOOST_TEST(first.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == std::string::npos);
  BOOST_TEST(parsed(received[1]).controlId() == first);  // a redelivery carries the same MSH-10
  BOOST_TEST(parsed(received[2]).controlId() != first);
  BOOST_TEST(parsed(received[0]).get("OBX(2)-5") == key);  // the whole key still travels

  PluginSettings longer = settingsFor(receiver);
  longer["control_id_max_length"] = "199";
  BOOST_TEST((makeSink(longer)->deliver(planFound(key)).kind == DeliveryResult::Kind::Delivered));
  BOOST_TEST(parsed(receiver.received().back()).controlId() == key);
}

struct AckCase {
  std::string code;
  DeliveryResult::Kind expected;
};
std::ostream& operator<<(std::ostream& os, const AckCase& c) { return os << c.code; }

BOOST_AUTO_TEST_CASE(aa_and_ca_deliver_ae_and_ce_retry_ar_and_cr_fail) {
  const std::vector<AckCase> cases{{"AA", DeliveryResult::Kind::Delivered}, {"CA", DeliveryResult::Kind::Delivered},
                                   {"AE", DeliveryResult::Kind::Retry},     {"CE", DeliveryResult::Kind::Retry},
                                   {"AR", DeliveryResult::Kind::Failed},    {"CR", DeliveryResult::Kind::Failed},
                                   {"ZZ", DeliveryResult::Kind::Retry}};
  Receiver receiver;
  const auto sink = makeSink(settingsFor(receiver));
  for (const AckCase& c : cases) {
    BOOST_TEST_CONTEXT("MSA-1 " << c.code) {
      receiver.answer(c.code);
      const DeliveryResult result = sink->deliver(planFound());
      BOOST_TEST((result.kind == c.expected), result.text);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_ack_for_another_message_is_retried) {
  Receiver receiver;
  receiver.answer("AA", "SOMETHING-ELSE");
  const DeliveryResult result = makeSink(settingsFor(receiver))->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Retry), result.text);
  BOOST_TEST(result.text.find("another message") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_ack_in_time_is_retried) {
  Receiver receiver;
  receiver.answer("");  // never answers
  PluginSettings settings = settingsFor(receiver);
  settings["timeout_ms"] = "300";
  const auto started = std::chrono::steady_clock::now();
  const DeliveryResult result = makeSink(settings)->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Retry), result.text);
  BOOST_TEST(result.text.find("no ACK") != std::string::npos, result.text);
  BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(5)));
  BOOST_TEST(receiver.received().size() == 1u);
}

BOOST_AUTO_TEST_CASE(nobody_listening_is_retried) {
  std::uint16_t port = 0;
  {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    port = probe.address().port();
  }
  const DeliveryResult result =
      makeSink({{"host", "127.0.0.1"}, {"port", std::to_string(port)}, {"timeout_ms", "2000"}})->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Retry), result.text);
}

BOOST_AUTO_TEST_CASE(sends_over_tls_to_a_receiver_whose_certificate_chains_to_ca_file) {
  Receiver receiver(/*tls=*/true);
  PluginSettings settings = settingsFor(receiver);
  settings["tls"] = "true";
  settings["ca_file"] = pki().caCertificate();
  const DeliveryResult result = makeSink(settings)->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Delivered), result.text);
  BOOST_TEST(receiver.received().size() == 1u);

  settings["ca_file"] = pki().clientCertificate("rogue");
  const DeliveryResult untrusted = makeSink(settings)->deliver(planFound());
  BOOST_TEST((untrusted.kind == DeliveryResult::Kind::Retry), untrusted.text);
  BOOST_TEST(receiver.received().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hl7)

BOOST_AUTO_TEST_CASE(control_ids_keep_short_plain_keys_and_hash_the_rest) {
  using cpis::sinks::mllp::controlIdFor;
  BOOST_TEST(controlIdFor("plan-found:f:A1:1", 20) == "plan-found:f:A1:1");
  BOOST_TEST(controlIdFor("a|b", 20).size() == 20u);  // a delimiter: hashed, even when short
  BOOST_TEST(controlIdFor(std::string(50, 'k'), 20) == controlIdFor(std::string(50, 'k'), 20));
  BOOST_TEST(controlIdFor(std::string(50, 'k'), 30).size() == 30u);
  BOOST_TEST(controlIdFor(std::string(250, 'k'), 199).size() == 51u);  // all 256 bits
  BOOST_TEST(controlIdFor(std::string(50, 'k'), 30).substr(0, 20) == controlIdFor(std::string(50, 'k'), 20));
  BOOST_TEST(controlIdFor("a|bc", 20) != controlIdFor("abc", 20));
  // known answer: base32(SHA-256("aaa...a", 21 characters)), first 20 characters
  BOOST_TEST(controlIdFor(std::string(21, 'a'), 20) == "PX4OFGOIGTPBTDRGJQ7D");
}

BOOST_AUTO_TEST_CASE(acks_are_read_with_their_own_separators) {
  using cpis::sinks::mllp::parseAck;
  const auto ack = parseAck("MSH#^~\\&#R##S##20250612##ACK#1#P#2.5\rMSA#AE#X1\r");
  BOOST_REQUIRE(ack.has_value());
  BOOST_TEST(ack->code == "AE");
  BOOST_TEST(ack->controlId == "X1");
  BOOST_TEST(!parseAck("MSH|^~\\&|R\r").has_value());
  BOOST_TEST(!parseAck("garbage").has_value());
  BOOST_TEST(cpis::sinks::mllp::toHl7Time("2025-06-12T13:30:05.123Z") == "20250612133005+0000");
  BOOST_TEST(cpis::sinks::mllp::toHl7Time("yesterday").empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(configuration)

BOOST_AUTO_TEST_CASE(bad_settings_stop_start_up) {
  auto refused = [](const PluginSettings& settings, const std::string& expected) {
    try {
      (void)makeSink(settings);
    } catch (const cpis::plugin::PluginError& e) {
      return std::string(e.what()).find(expected) != std::string::npos;
    }
    return false;
  };
  BOOST_TEST(refused({{"host", "127.0.0.1"}}, "port"));
  BOOST_TEST(refused({{"host", "127.0.0.1"}, {"port", "0"}}, "port"));
  BOOST_TEST(refused({{"host", "127.0.0.1"}, {"port", "2575"}, {"ca_file", "/x"}}, "tls=true"));
  BOOST_TEST(refused({{"host", "127.0.0.1"}, {"port", "2575"}, {"control_id_max_length", "8"}},
                     "control_id_max_length"));
}

BOOST_AUTO_TEST_SUITE_END()

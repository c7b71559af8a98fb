// sink_webhook, loaded with the engine's plugin loader, posting to a real HTTP(S) receiver on
// port 0: the body, the headers and the signature (recomputed here), https with the test PKI
// and mutual TLS, the status code mapping, and time-outs.
#define BOOST_TEST_MODULE sink_webhook
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/X509Certificate.h>
#include <Poco/DigestEngine.h>
#include <Poco/Event.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/SHA2Engine.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>

#include "engine/notify/notification.h"
#include "engine/plugin/plugin_error.h"
#include "plugins/common/notification_fields.h"
#include "tests/support/sink_plugins.h"
#include "tests/support/ssl_guard.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

using cpis::test::SslGuard;
BOOST_TEST_GLOBAL_FIXTURE(SslGuard);

namespace {

using cpis::plugin::DeliveryResult;
using cpis::plugin::NotificationFields;
using cpis::plugin::PluginSettings;
using cpis::plugin::SinkPlugin;

const std::string kSecret = "s3cret-signing-key-for-tests";

std::unique_ptr<SinkPlugin> makeSink(const PluginSettings& settings) {
  return cpis::test::loadSinkPlugin("webhook", settings);
}

const cpis::test::TestPki& pki() { return cpis::test::sharedPki(); }

NotificationFields planFound() {
  return {{"kind", "plan-found"},
          {"idempotency_key", "plan-found:rzz-ed:A250612001:1"},
          {"feed", "rzz-ed"},
          {"occurred_at", "2025-06-12T13:30:05Z"},
          {"check_id", "6c1e2f0a-2f55-4a39-9d0c-3f0f6f1a2b3c"},
          {"status", "FOUND"},
          {"care_setting", "ED"},
          {"site_ods", "RZZ01"},
          {"plan_count", "1"},
          {"plan_types", "CPP"},
          {"la_ods", "A1B2C"},
          {"la_name", "Exampleshire \"North\" Council"},
          {"visit_number", "A250612001"}};
}

// HMAC-SHA256 written out from its definition (RFC 2104) over POCO's SHA-256, so the test does
// not share the sink's HMAC code.
std::string hmacSha256Hex(const std::string& key, const std::string& message) {
  constexpr std::size_t kBlock = 64;
  std::string k = key;
  if (k.size() > kBlock) {
    Poco::SHA2Engine h;
    h.update(k);
    const auto d = h.digest();
    k.assign(d.begin(), d.end());
  }
  k.resize(kBlock, '\0');
  std::string inner(kBlock, '\0'), outer(kBlock, '\0');
  for (std::size_t i = 0; i < kBlock; ++i) {
    inner[i] = static_cast<char>(k[i] ^ 0x36);
    outer[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  Poco::SHA2Engine first;
  first.update(inner + message);
  const auto innerDigest = first.digest();
  Poco::SHA2Engine second;
  second.update(outer + std::string(innerDigest.begin(), innerDigest.end()));
  return Poco::DigestEngine::digestToHex(second.digest());
}

struct Request {
  std::string method, uri, body;
  std::uint16_t clientPort = 0;  // one per connection
  std::map<std::string, std::string> headers;
};

// What the receiver shares with its handlers.
struct ReceiverState {
  std::mutex mutex;
  std::vector<Request> requests;
  int status = 200;
  bool hold = false;  // answer only once released
  Poco::Event released{Poco::Event::EVENT_MANUALRESET};
};

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(std::shared_ptr<ReceiverState> state) : state_(std::move(state)) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    Request seen;
    seen.method = request.getMethod();
    seen.uri = request.getURI();
    seen.clientPort = request.clientAddress().port();
    for (const auto& [name, value] : request) seen.headers[name] = value;
    Poco::StreamCopier::copyToString(request.stream(), seen.body);
    int status = 0;
    bool hold = false;
    {
      const std::lock_guard lock(state_->mutex);
      state_->requests.push_back(seen);
      status = state_->status;
      hold = state_->hold;
    }
    if (hold) state_->released.tryWait(10'000);
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    response.setContentLength(2);
    response.send() << "{}";
  }

 private:
  std::shared_ptr<ReceiverState> state_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(std::shared_ptr<ReceiverState> state) : state_(std::move(state)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(state_);
  }

 private:
  std::shared_ptr<ReceiverState> state_;
};

// A webhook receiver on 127.0.0.1, port 0: plain HTTP, or HTTPS with the test PKI's server
// certificate (and, with requireClientCertificate, mutual TLS against the test CA).
class Receiver {
 public:
  enum class Mode { Http, Https, MutualTls };
  explicit Receiver(Mode mode = Mode::Http, bool keepAlive = false, std::uint16_t port = 0)
      : state_(std::make_shared<ReceiverState>()) {
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(keepAlive);
    const Poco::Net::SocketAddress address("127.0.0.1", port);
    if (mode == Mode::Http) {
      Poco::Net::ServerSocket socket(address);
      server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(state_), *pool_, socket, params);
    } else {
      Poco::Net::Context::Params tls;
      tls.caLocation = pki().caCertificate();
      tls.verificationMode =
          mode == Mode::MutualTls ? Poco::Net::Context::VERIFY_STRICT : Poco::Net::Context::VERIFY_NONE;
      tls.loadDefaultCAs = false;
      Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, tls);
      context->enableExtendedCertificateVerification(false);
      context->useCertificate(Poco::Crypto::X509Certificate(pki().serverCertificate()));
      context->usePrivateKey(Poco::Crypto::EVPPKey("", pki().serverKey(), ""));
      Poco::Net::SecureServerSocket socket(address, 64, context);
      server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(state_), *pool_, socket, params);
    }
    server_->start();
  }
  ~Receiver() {
    state_->released.set();
    server_->stopAll(true);
    server_.reset();
    pool_->joinAll();  // its threads end here, with OpenSSL's per-thread state
  }

  std::uint16_t port() const { return server_->port(); }
  std::string url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port()) + "/hooks/cpis?team=safeguarding";
  }
  void answer(int status) {
    const std::lock_guard lock(state_->mutex);
    state_->status = status;
  }
  void holdAnswers() {
    const std::lock_guard lock(state_->mutex);
    state_->hold = true;
  }
  std::vector<Request> requests() const {
    const std::lock_guard lock(state_->mutex);
    return state_->requests;
  }

 private:
  std::shared_ptr<ReceiverState> state_;
  // The receiver's own threads (not POCO's default pool, which lives until exit).
  std::unique_ptr<Poco::ThreadPool> pool_ = std::make_unique<Poco::ThreadPool>(2, 8);
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

// The secret in a file, as a deployment keeps it.
class SecretFile {
 public:
  explicit SecretFile(const std::string& secret) {
    std::ofstream(dir_.file("webhook.secret")) << secret << "\n";
  }
  std::string path() const { return dir_.file("webhook.secret"); }

 private:
  cpis::test::TempDir dir_{"cpis-webhook"};
};

PluginSettings settingsFor(const std::string& url, const SecretFile& secret) {
  return {{"url", url}, {"secret_file", secret.path()}, {"timeout_ms", "5000"}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery)

BOOST_AUTO_TEST_CASE(posts_every_field_as_json_with_idempotency_key_and_a_signature_the_receiver_can_check) {
  Receiver receiver;
  const SecretFile secret(kSecret);
  const auto sink = makeSink(settingsFor(receiver.url(), secret));
  const DeliveryResult result = sink->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Delivered), result.text);

  const auto requests = receiver.requests();
  BOOST_REQUIRE_EQUAL(requests.size(), 1u);
  const Request& request = requests[0];
  BOOST_TEST(request.method == "POST");
  BOOST_TEST(request.uri == "/hooks/cpis?team=safeguarding");
  BOOST_TEST(request.headers.at("Content-Type") == "application/json; charset=utf-8");
  BOOST_TEST(request.headers.at("Idempotency-Key") == "plan-found:rzz-ed:A250612001:1");

  // the body: exactly the fields given, each a string
  Poco::JSON::Parser parser;
  const auto object = parser.parse(request.body).extract<Poco::JSON::Object::Ptr>();
  const NotificationFields given = planFound();
  BOOST_TEST(object->size() == given.size());
  for (const auto& [key, value] : given) {
    BOOST_TEST_CONTEXT(key) {
      BOOST_TEST(object->has(key));
      BOOST_TEST(object->getValue<std::string>(key) == value);
    }
  }
  BOOST_TEST(!object->has("nhs_number"));  // not given (data level minimal): not invented

  // the signature: HMAC-SHA256 over "<timestamp>.<body>" with the secret from the file
  const std::string timestamp = request.headers.at("X-Cpis-Timestamp");
  const auto sentAt = std::chrono::seconds(std::stoll(timestamp));
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  BOOST_TEST(std::chrono::abs(now - sentAt).count() < 60);
  BOOST_TEST(request.headers.at("X-Cpis-Signature") == "sha256=" + hmacSha256Hex(kSecret, timestamp + "." + request.body));
  BOOST_TEST(request.headers.at("X-Cpis-Signature") !=
             "sha256=" + hmacSha256Hex("another secret", timestamp + "." + request.body));
}

BOOST_AUTO_TEST_CASE(a_receiver_that_keeps_connections_alive_gets_one_connection_for_many_notifications) {
  Receiver receiver(Receiver::Mode::Http, /*keepAlive=*/true);
  const SecretFile secret(kSecret);
  const auto sink = makeSink(settingsFor(receiver.url(), secret));
  for (int i = 0; i < 3; ++i) BOOST_TEST((sink->deliver(planFound()).kind == DeliveryResult::Kind::Delivered));
  const auto requests = receiver.requests();
  BOOST_REQUIRE_EQUAL(requests.size(), 3u);
  BOOST_TEST(requests[1].clientPort == requests[0].clientPort);
  BOOST_TEST(requests[2].clientPort == requests[0].clientPort);
}

BOOST_AUTO_TEST_CASE(a_kept_alive_connection_the_receiver_closed_is_replaced_and_the_notification_still_goes) {
  const SecretFile secret(kSecret);
  auto first = std::make_unique<Receiver>(Receiver::Mode::Http, /*keepAlive=*/true);
  const std::uint16_t port = first->port();
  const auto sink = makeSink(settingsFor(first->url(), secret));
  BOOST_TEST((sink->deliver(planFound()).kind == DeliveryResult::Kind::Delivered));
  first.reset();  // closes its connections, the sink's idle one among them
  Receiver second(Receiver::Mode::Http, /*keepAlive=*/true, port);
  const DeliveryResult result = sink->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Delivered), result.text);
  BOOST_TEST(second.requests().size() == 1u);
}

BOOST_AUTO_TEST_CASE(patient_fields_go_only_when_the_engine_passes_them) {
  Receiver receiver;
  const SecretFile secret(kSecret);
  const auto sink = makeSink(settingsFor(receiver.url(), secret));
  NotificationFields fields = planFound();
  fields["nhs_number"] = "9990000018";
  fields["plans"] = "CPP|20240101||A1B2C|Exampleshire|0100 000 0000\nLAC|20240301||A1B2C|Exampleshire|0100 000 0000";
  BOOST_TEST((sink->deliver(fields).kind == DeliveryResult::Kind::Delivered));
  Poco::JSON::Parser parser;
  const auto object = parser.parse(receiver.requests().at(0).body).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(object->getValue<std::string>("nhs_number") == "9990000018");
  BOOST_TEST(object->getValue<std::string>("plans") == fields["plans"]);
  BOOST_TEST(!object->has("family_name"));
}

BOOST_AUTO_TEST_CASE(the_sink_asks_for_every_key_the_engine_defines) {
  namespace n = cpis::notify;
  const std::vector<std::string_view> engineKeys{
      n::kKeyKind,       n::kKeyIdempotencyKey, n::kKeyFeed,     n::kKeyOccurredAt,  n::kKeyCheckId,
      n::kKeyStatus,     n::kKeyReason,         n::kKeyCareSetting, n::kKeySiteOds,  n::kKeyPlanCount,
      n::kKeyPlanTypes,  n::kKeyLaOds,          n::kKeyLaName,   n::kKeyVisitNumber, n::kKeyNhsNumber,
      n::kKeyFamilyName, n::kKeyGivenName,      n::kKeyBirthDate, n::kKeyPlans};
  const std::vector<std::string_view> sinkKeys(cpis::sinks::kFieldKeys.begin(), cpis::sinks::kFieldKeys.end());
  BOOST_TEST(sinkKeys == engineKeys, boost::test_tools::per_element());

  // and each one reaches the receiver when given
  Receiver receiver;
  const SecretFile secret(kSecret);
  const auto sink = makeSink(settingsFor(receiver.url(), secret));
  NotificationFields all;
  for (std::string_view key : engineKeys) all[std::string(key)] = "value of " + std::string(key);
  BOOST_TEST((sink->deliver(all).kind == DeliveryResult::Kind::Delivered));
  Poco::JSON::Parser parser;
  const auto object = parser.parse(receiver.requests().at(0).body).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(object->size() == engineKeys.size());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(status_codes)

struct StatusCase {
  int status;
  DeliveryResult::Kind expected;
};
std::ostream& operator<<(std::ostream& os, const StatusCase& c) { return os << c.status; }

BOOST_AUTO_TEST_CASE(two_hundreds_deliver_408_429_and_5xx_retry_other_4xx_fail) {
  const std::vector<StatusCase> cases{
      {200, DeliveryResult::Kind::Delivered}, {201, DeliveryResult::Kind::Delivered},
      {202, DeliveryResult::Kind::Delivered}, {204, DeliveryResult::Kind::Delivered},
      {408, DeliveryResult::Kind::Retry},     {429, DeliveryResult::Kind::Retry},
      {500, DeliveryResult::Kind::Retry},     {502, DeliveryResult::Kind::Retry},
      {503, DeliveryResult::Kind::Retry},     {504, DeliveryResult::Kind::Retry},
      {400, DeliveryResult::Kind::Failed},    {401, DeliveryResult::Kind::Failed},
      {403, DeliveryResult::Kind::Failed},    {404, DeliveryResult::Kind::Failed},
      {409, DeliveryResult::Kind::Failed},    {422, DeliveryResult::Kind::Failed},
      {301, DeliveryResult::Kind::Failed}};
  Receiver receiver;
  const SecretFile secret(kSecret);
  const auto sink = makeSink(settingsFor(receiver.url(), secret));
  for (const StatusCase& c : cases) {
    BOOST_TEST_CONTEXT("HTTP " << c.status) {
      receiver.answer(c.status);
      const DeliveryResult result = sink->deliver(planFound());
      BOOST_TEST((result.kind == c.expected), result.text);
      if (result.kind != DeliveryResult::Kind::Delivered) {
        BOOST_TEST(result.text.find(std::to_string(c.status)) != std::string::npos);
        BOOST_TEST(result.text.find(kSecret) == std::string::npos);
      }
    }
  }
  BOOST_TEST(receiver.requests().size() == cases.size());
}

BOOST_AUTO_TEST_CASE(a_receiver_that_does_not_answer_in_time_is_retried) {
  Receiver receiver;
  receiver.holdAnswers();
  const SecretFile secret(kSecret);
  PluginSettings settings = settingsFor(receiver.url(), secret);
  settings["timeout_ms"] = "300";
  const auto sink = makeSink(settings);
  const auto started = std::chrono::steady_clock::now();
  const DeliveryResult result = sink->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Retry), result.text);
  BOOST_TEST(result.text.find("300 ms") != std::string::npos, result.text);
  BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(5)));
}

BOOST_AUTO_TEST_CASE(nobody_listening_is_retried) {
  std::uint16_t port = 0;
  {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    port = probe.address().port();
  }  // closed: connections to it are refused
  const SecretFile secret(kSecret);
  const auto sink = makeSink(settingsFor("http://127.0.0.1:" + std::to_string(port) + "/", secret));
  const DeliveryResult result = sink->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Retry), result.text);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(https)

BOOST_AUTO_TEST_CASE(posts_over_tls_to_a_server_whose_certificate_chains_to_ca_file) {
  Receiver receiver(Receiver::Mode::Https);
  const SecretFile secret(kSecret);
  PluginSettings settings = settingsFor(receiver.url("https"), secret);
  settings["ca_file"] = pki().caCertificate();
  const auto sink = makeSink(settings);
  const DeliveryResult result = sink->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Delivered), result.text);
  BOOST_REQUIRE_EQUAL(receiver.requests().size(), 1u);
  const Request request = receiver.requests()[0];
  BOOST_TEST(request.headers.at("X-Cpis-Signature") ==
             "sha256=" + hmacSha256Hex(kSecret, request.headers.at("X-Cpis-Timestamp") + "." + request.body));
}

BOOST_AUTO_TEST_CASE(a_server_certificate_from_another_ca_is_not_trusted) {
  Receiver receiver(Receiver::Mode::Https);
  const SecretFile secret(kSecret);
  PluginSettings settings = settingsFor(receiver.url("https"), secret);
  settings["ca_file"] = pki().clientCertificate("rogue");  // a certificate that is not the server's CA
  const auto sink = makeSink(settings);
  const DeliveryResult result = sink->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Retry), result.text);
  BOOST_TEST(receiver.requests().empty());
}

BOOST_AUTO_TEST_CASE(mutual_tls_presents_the_client_certificate) {
  Receiver receiver(Receiver::Mode::MutualTls);
  const SecretFile secret(kSecret);
  PluginSettings settings = settingsFor(receiver.url("https"), secret);
  settings["ca_file"] = pki().caCertificate();
  {
    const auto withoutCertificate = makeSink(settings);
    BOOST_TEST((withoutCertificate->deliver(planFound()).kind == DeliveryResult::Kind::Retry));
    BOOST_TEST(receiver.requests().empty());
  }
  settings["cert_file"] = pki().clientCertificate("epr01");
  settings["key_file"] = pki().clientKey("epr01");
  const auto sink = makeSink(settings);
  const DeliveryResult result = sink->deliver(planFound());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Delivered), result.text);
  BOOST_TEST(receiver.requests().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(configuration)

bool refusedFor(const PluginSettings& settings, const std::string& expected) {
  try {
    (void)makeSink(settings);
  } catch (const cpis::plugin::PluginError& e) {
    const std::string what = e.what();
    BOOST_TEST_MESSAGE(what);
    return what.find(expected) != std::string::npos && what.find(kSecret) == std::string::npos;
  }
  return false;
}

BOOST_AUTO_TEST_CASE(bad_settings_stop_start_up_without_showing_the_secret) {
  const SecretFile secret(kSecret);
  BOOST_TEST(refusedFor({{"url", "ftp://127.0.0.1/"}, {"secret_file", secret.path()}}, "http or https"));
  BOOST_TEST(refusedFor({{"url", "http://127.0.0.1/"}, {"secret_file", "/nonexistent/secret"}},
                        "secret_file: cannot read"));
  BOOST_TEST(refusedFor({{"url", "http://127.0.0.1/"}}, "secret_file"));
  BOOST_TEST(refusedFor({{"url", "http://127.0.0.1/"}, {"secret_file", secret.path()}, {"ca_file", "/x"}},
                        "need an https url"));
  BOOST_TEST(refusedFor({{"url", "https://127.0.0.1/"}, {"secret_file", secret.path()}, {"cert_file", "/x"}},
                        "go together"));
  BOOST_TEST(refusedFor({{"url", "http://127.0.0.1/"}, {"secret_file", secret.path()}, {"timeout_ms", "0"}},
                        "timeout_ms"));
}

BOOST_AUTO_TEST_SUITE_END()

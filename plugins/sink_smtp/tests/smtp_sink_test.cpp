// sink_smtp, loaded with the engine's plugin loader, delivering to a small real SMTP server in
// this test (POCO sockets on port 0) that offers STARTTLS with the test PKI and AUTH LOGIN:
// the mail as delivered, refused and deferred recipients, and never sending in clear when
// STARTTLS is required.
#define BOOST_TEST_MODULE sink_smtp
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Base64Decoder.h>
#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/X509Certificate.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>

#include "engine/plugin/plugin_error.h"
#include "tests/support/sink_plugins.h"
#include "tests/support/ssl_guard.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

using cpis::test::SslGuard;
BOOST_TEST_GLOBAL_FIXTURE(SslGuard);

namespace {

using cpis::plugin::DeliveryResult;
using cpis::plugin::NotificationFields;
using cpis::plugin::PluginSettings;
using cpis::plugin::SinkPlugin;

const std::string kPassword = "relay-password-for-tests";

std::unique_ptr<SinkPlugin> makeSink(const PluginSettings& settings) {
  return cpis::test::loadSinkPlugin("smtp", settings);
}

const cpis::test::TestPki& pki() { return cpis::test::sharedPki(); }

NotificationFields checkFailed() {
  return {{"kind", "check-failed"},
          {"idempotency_key", "check-failed:rzz-ed:A250612001:1"},
          {"feed", "rzz-ed"},
          {"occurred_at", "2025-06-12T13:30:05Z"},
          {"check_id", "6c1e2f0a-2f55-4a39-9d0c-3f0f6f1a2b3c"},
          {"status", "CHECK_FAILED"},
          {"reason", "TIMEOUT"},
          {"care_setting", "ED"},
          {"site_ods", "RZZ01"},
          {"visit_number", "A250612001"}};
}

std::string base64Decode(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  std::string out;
  Poco::StreamCopier::copyToString(decoder, out);
  return out;
}

// One mail as the server took it.
struct Mail {
  std::string from;
  std::vector<std::string> to;
  std::string data;  // headers and body, dot-unstuffed, CRLF line ends
  bool overTls = false;
  std::string user;  // who authenticated, or ""
};

struct ServerOptions {
  bool offerStartTls = true;
  bool requireAuth = false;
  std::string user = "cpis";
  std::string password = kPassword;
  std::set<std::string> refusedRecipients;  // 550
  std::set<std::string> deferredRecipients;  // 450
};

// A small SMTP server (RFC 5321 as far as these tests need it): EHLO/HELO, STARTTLS with the
// test PKI's server certificate, AUTH LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. One connection
// at a time, on 127.0.0.1 port 0.
class SmtpServer {
 public:
  explicit SmtpServer(ServerOptions options = {})
      : options_(std::move(options)), socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;
    params.loadDefaultCAs = false;
    context_ = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    context_->useCertificate(Poco::Crypto::X509Certificate(pki().serverCertificate()));
    context_->usePrivateKey(Poco::Crypto::EVPPKey("", pki().serverKey(), ""));
    thread_ = std::thread([this] { run(); });
  }
  ~SmtpServer() {
    stop_ = true;
    thread_.join();
  }

  std::uint16_t port() const { return socket_.address().port(); }
  std::vector<Mail> mails() const {
    const std::lock_guard lock(mutex_);
    return mails_;
  }
  std::vector<std::string> commands() const {  // every command line received, AUTH data masked
    const std::lock_guard lock(mutex_);
    return commands_;
  }

 private:
  void run() {
    while (!stop_) {
      if (!socket_.poll(Poco::Timespan(0, 20'000), Poco::Net::Socket::SELECT_READ)) continue;
      try {
        Poco::Net::StreamSocket connection = socket_.acceptConnection();
        connection.setReceiveTimeout(Poco::Timespan(10, 0));
        serve(connection);
      } catch (const Poco::Exception&) {  // a client that went away or failed its handshake
      }
    }
  }

  class Lines {
   public:
    explicit Lines(Poco::Net::StreamSocket& socket) : socket_(&socket) {}
    void reset(Poco::Net::StreamSocket& socket) {
      socket_ = &socket;
      buffer_.clear();
    }
    // A line without its CRLF; false when the peer closed.
    bool read(std::string& line) {
      for (;;) {
        const auto end = buffer_.find("\r\n");
        if (end != std::string::npos) {
          line = buffer_.substr(0, end);
          buffer_.erase(0, end + 2);
          return true;
        }
        char chunk[4096];
        const int n = socket_->receiveBytes(chunk, sizeof chunk);
        if (n <= 0) return false;
        buffer_.append(chunk, static_cast<std::size_t>(n));
      }
    }
    void write(const std::string& text) {
      const std::string out = text + "\r\n";
      socket_->sendBytes(out.data(), static_cast<int>(out.size()));
    }

   private:
    Poco::Net::StreamSocket* socket_;
    std::string buffer_;
  };

  static std::string address(const std::string& argument) {
    const auto open = argument.find('<');
    const auto close = argument.find('>');
    return open == std::string::npos || close == std::string::npos ? argument
                                                                     : argument.substr(open + 1, close - open - 1);
  }

  void record(const std::string& command) {
    const std::lock_guard lock(mutex_);
    commands_.push_back(command);
  }

  void serve(Poco::Net::StreamSocket connection) {
    Poco::Net::StreamSocket socket = connection;
    Lines io(socket);
    bool tls = false;
    std::string user;
    Mail mail;
    io.write("220 mail.test.invalid ESMTP");
    std::string line;
    while (io.read(line)) {
      const std::string upper = Poco::toUpper(line);
      record(upper.rfind("AUTH", 0) == 0 ? "AUTH LOGIN" : line);
      if (upper.rfind("EHLO", 0) == 0) {
        io.write("250-mail.test.invalid");
        if (options_.offerStartTls && !tls) io.write("250-STARTTLS");
        if (tls) io.write("250-AUTH LOGIN");
        io.write("250 8BITMIME");
      } else if (upper.rfind("HELO", 0) == 0) {
        io.write("250 mail.test.invalid");
      } else if (upper == "STARTTLS") {
        if (!options_.offerStartTls || tls) {
          io.write("502 5.5.1 not here");
          continue;
        }
        io.write("220 2.0.0 ready to start TLS");
        Poco::Net::SecureStreamSocket secure = Poco::Net::SecureStreamSocket::attach(socket, context_);
        secure.completeHandshake();
        socket = secure;
        io.reset(socket);
        tls = true;
        user.clear();
      } else if (upper == "AUTH LOGIN") {
        io.write("334 VXNlcm5hbWU6");  // "Username:"
        std::string name, password;
        if (!io.read(name)) return;
        io.write("334 UGFzc3dvcmQ6");  // "Password:"
        if (!io.read(password)) return;
        if (base64Decode(name) == options_.user && base64Decode(password) == options_.password) {
          user = options_.user;
          io.write("235 2.7.0 authenticated");
        } else {
          io.write("535 5.7.8 authentication failed");
        }
      } else if (upper.rfind("MAIL FROM:", 0) == 0) {
        if (options_.requireAuth && user.empty()) {
          io.write("530 5.7.0 authentication required");
          continue;
        }
        mail = Mail{};
        mail.from = address(line.substr(10));
        mail.overTls = tls;
        mail.user = user;
        io.write("250 2.1.0 ok");
      } else if (upper.rfind("RCPT TO:", 0) == 0) {
        const std::string to = address(line.substr(8));
        if (options_.refusedRecipients.count(to) != 0) {
          io.write("550 5.1.1 no such mailbox");
        } else if (options_.deferredRecipients.count(to) != 0) {
          io.write("450 4.2.1 mailbox busy, try later");
        } else {
          mail.to.push_back(to);
          io.write("250 2.1.5 ok");
        }
      } else if (upper == "DATA") {
        io.write("354 end with <CRLF>.<CRLF>");
        std::string data;
        while (io.read(line) && line != ".") {
          if (!line.empty() && line[0] == '.') line.erase(0, 1);
          data += line + "\r\n";
        }
        mail.data = data;
        {
          const std::lock_guard lock(mutex_);
          mails_.push_back(mail);
        }
        io.write("250 2.0.0 queued");
      } else if (upper == "RSET" || upper == "NOOP") {
        io.write("250 2.0.0 ok");
      } else if (upper == "QUIT") {
        io.write("221 2.0.0 bye");
        return;
      } else {
        io.write("500 5.5.2 what?");
      }
    }
  }

  ServerOptions options_;
  Poco::Net::ServerSocket socket_;
  Poco::Net::Context::Ptr context_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Mail> mails_;
  std::vector<std::string> commands_;
  std::thread thread_;
};

class PasswordFile {
 public:
  PasswordFile() { std::ofstream(dir_.file("relay.password")) << kPassword << "\n"; }
  std::string path() const { return dir_.file("relay.password"); }

 private:
  cpis::test::TempDir dir_{"cpis-smtp"};
};

PluginSettings settingsFor(const SmtpServer& server) {
  return {{"host", "127.0.0.1"},
          {"port", std::to_string(server.port())},
          {"ca_file", pki().caCertificate()},
          {"from", "cpis-engine@rzz.nhs.test"},
          {"to", "safeguarding@rzz.nhs.test, named.nurse@rzz.nhs.test"},
          {"helo_name", "cpis-engine.rzz.nhs.test"},
          {"timeout_ms", "5000"}};
}

std::unique_ptr<Poco::Net::MailMessage> parseMail(const std::string& data) {
  std::istringstream in(data);
  auto message = std::make_unique<Poco::Net::MailMessage>();
  message->read(in);
  return message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery)

BOOST_AUTO_TEST_CASE(mails_the_notification_over_starttls_to_every_recipient) {
  SmtpServer server;
  const auto sink = makeSink(settingsFor(server));
  const DeliveryResult result = sink->deliver(checkFailed());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Delivered), result.text);

  const auto mails = server.mails();
  BOOST_REQUIRE_EQUAL(mails.size(), 1u);
  const Mail& mail = mails[0];
  BOOST_TEST(mail.overTls);
  BOOST_TEST(mail.from == "cpis-engine@rzz.nhs.test");
  BOOST_TEST(mail.to == (std::vector<std::string>{"safeguarding@rzz.nhs.test", "named.nurse@rzz.nhs.test"}),
             boost::test_tools::per_element());

  const auto parsedMail = parseMail(mail.data);
  const Poco::Net::MailMessage& message = *parsedMail;
  BOOST_TEST(message.getSubject() == "[CP-IS] CP-IS check failed (feed rzz-ed)");
  BOOST_TEST(message.get("X-Cpis-Idempotency-Key") == "check-failed:rzz-ed:A250612001:1");
  const std::string messageId = message.get("Message-ID");
  BOOST_TEST(messageId.size() == 2 + 32 + 1 + std::string("rzz.nhs.test").size());
  BOOST_TEST(messageId.front() == '<');
  BOOST_TEST(messageId.find("@rzz.nhs.test>") != std::string::npos);
  BOOST_TEST(message.getContentType().find("text/plain") != std::string::npos);
  const std::string body = message.getContent();
  BOOST_TEST(body.find("kind: check-failed") != std::string::npos, body);
  BOOST_TEST(body.find("reason: TIMEOUT") != std::string::npos);
  BOOST_TEST(body.find("visit_number: A250612001") != std::string::npos);
  BOOST_TEST(body.find("nhs_number") == std::string::npos);  // not given, not invented

  // EHLO again after STARTTLS, as RFC 3207 asks
  const auto commands = server.commands();
  BOOST_TEST(std::count(commands.begin(), commands.end(), "EHLO cpis-engine.rzz.nhs.test") == 2);
}

BOOST_AUTO_TEST_CASE(the_same_notification_keeps_its_message_id_another_gets_another) {
  SmtpServer server;
  const auto sink = makeSink(settingsFor(server));
  NotificationFields other = checkFailed();
  other["idempotency_key"] = "check-failed:rzz-ed:A250612001:2";
  BOOST_TEST((sink->deliver(checkFailed()).kind == DeliveryResult::Kind::Delivered));
  BOOST_TEST((sink->deliver(checkFailed()).kind == DeliveryResult::Kind::Delivered));
  BOOST_TEST((sink->deliver(other).kind == DeliveryResult::Kind::Delivered));
  const auto mails = server.mails();
  BOOST_REQUIRE_EQUAL(mails.size(), 3u);
  const std::string first = parseMail(mails[0].data)->get("Message-ID");
  BOOST_TEST(parseMail(mails[1].data)->get("Message-ID") == first);
  BOOST_TEST(parseMail(mails[2].data)->get("Message-ID") != first);
}

BOOST_AUTO_TEST_CASE(patient_fields_appear_only_when_the_engine_passes_them) {
  SmtpServer server;
  const auto sink = makeSink(settingsFor(server));
  NotificationFields fields = checkFailed();
  fields["kind"] = "plan-found";
  fields["nhs_number"] = "9990000018";
  fields["family_name"] = "TESTCHILD";
  fields["plans"] = "CPP|20240101||A1B2C|Exampleshire|0100 000 0000\nLAC|20240301||A1B2C|Exampleshire|0100 000 0001";
  BOOST_TEST((sink->deliver(fields).kind == DeliveryResult::Kind::Delivered));
  const auto parsedMail = parseMail(server.mails().at(0).data);
  const Poco::Net::MailMessage& message = *parsedMail;
  const std::string body = message.getContent();
  BOOST_TEST(body.find("nhs_number: 9990000018") != std::string::npos, body);
  BOOST_TEST(body.find("family_name: TESTCHILD") != std::string::npos);
  BOOST_TEST(body.find("  LAC|20240301||A1B2C|Exampleshire|0100 000 0001") != std::string::npos);
  // never in the subject, which mail systems log
  BOOST_TEST(message.getSubject() == "[CP-IS] child protection information found (feed rzz-ed)");
}

BOOST_AUTO_TEST_CASE(authenticates_with_auth_login_and_the_password_file) {
  ServerOptions options;
  options.requireAuth = true;
  SmtpServer server(options);
  const PasswordFile password;
  PluginSettings settings = settingsFor(server);
  settings["username"] = "cpis";
  settings["password_file"] = password.path();
  const auto sink = makeSink(settings);
  const DeliveryResult result = sink->deliver(checkFailed());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Delivered), result.text);
  BOOST_REQUIRE_EQUAL(server.mails().size(), 1u);
  BOOST_TEST(server.mails()[0].user == "cpis");
  BOOST_TEST(server.mails()[0].overTls);
}

BOOST_AUTO_TEST_CASE(a_wrong_password_is_refused_not_retried) {
  ServerOptions options;
  options.requireAuth = true;
  options.password = "another password";
  SmtpServer server(options);
  const PasswordFile password;
  PluginSettings settings = settingsFor(server);
  settings["username"] = "cpis";
  settings["password_file"] = password.path();
  const DeliveryResult result = makeSink(settings)->deliver(checkFailed());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Failed), result.text);
  BOOST_TEST(result.text.find("535") != std::string::npos, result.text);
  BOOST_TEST(result.text.find(kPassword) == std::string::npos);
  BOOST_TEST(server.mails().empty());
}

BOOST_AUTO_TEST_CASE(a_refused_recipient_fails_a_deferred_one_is_retried) {
  ServerOptions options;
  options.refusedRecipients = {"named.nurse@rzz.nhs.test"};
  SmtpServer server(options);
  const DeliveryResult refused = makeSink(settingsFor(server))->deliver(checkFailed());
  BOOST_TEST((refused.kind == DeliveryResult::Kind::Failed), refused.text);
  BOOST_TEST(refused.text.find("550") != std::string::npos, refused.text);

  ServerOptions later;
  later.deferredRecipients = {"named.nurse@rzz.nhs.test"};
  SmtpServer busy(later);
  const DeliveryResult deferred = makeSink(settingsFor(busy))->deliver(checkFailed());
  BOOST_TEST((deferred.kind == DeliveryResult::Kind::Retry), deferred.text);
  BOOST_TEST(deferred.text.find("450") != std::string::npos, deferred.text);
  BOOST_TEST(server.mails().empty());
  BOOST_TEST(busy.mails().empty());
}

BOOST_AUTO_TEST_CASE(starttls_required_but_not_offered_sends_nothing_in_clear) {
  ServerOptions options;
  options.offerStartTls = false;
  SmtpServer server(options);
  const DeliveryResult result = makeSink(settingsFor(server))->deliver(checkFailed());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Failed), result.text);
  BOOST_TEST(result.text.find("STARTTLS") != std::string::npos);
  BOOST_TEST(server.mails().empty());
  for (const std::string& command : server.commands()) {
    BOOST_TEST(command.rfind("MAIL", 0) != 0, command);  // not even the envelope
  }
}

BOOST_AUTO_TEST_CASE(starttls_none_sends_in_clear_when_configured_so) {
  ServerOptions options;
  options.offerStartTls = false;
  SmtpServer server(options);
  PluginSettings settings = settingsFor(server);
  settings["starttls"] = "none";
  settings.erase("ca_file");
  const DeliveryResult result = makeSink(settings)->deliver(checkFailed());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Delivered), result.text);
  BOOST_REQUIRE_EQUAL(server.mails().size(), 1u);
  BOOST_TEST(!server.mails()[0].overTls);
}

BOOST_AUTO_TEST_CASE(a_relay_certificate_from_another_ca_is_not_trusted) {
  SmtpServer server;
  PluginSettings settings = settingsFor(server);
  settings["ca_file"] = pki().clientCertificate("rogue");
  const DeliveryResult result = makeSink(settings)->deliver(checkFailed());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Retry), result.text);
  BOOST_TEST(server.mails().empty());
}

BOOST_AUTO_TEST_CASE(nobody_listening_is_retried) {
  std::uint16_t port = 0;
  {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    port = probe.address().port();
  }
  PluginSettings settings{{"host", "127.0.0.1"}, {"port", std::to_string(port)}, {"from", "a@b.test"},
                          {"to", "c@d.test"}, {"timeout_ms", "2000"}};
  const DeliveryResult result = makeSink(settings)->deliver(checkFailed());
  BOOST_TEST((result.kind == DeliveryResult::Kind::Retry), result.text);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(configuration)

bool refusedFor(const PluginSettings& settings, const std::string& expected) {
  try {
    (void)makeSink(settings);
  } catch (const cpis::plugin::PluginError& e) {
    const std::string what = e.what();
    BOOST_TEST_MESSAGE(what);
    return what.find(expected) != std::string::npos && what.find(kPassword) == std::string::npos;
  }
  return false;
}

BOOST_AUTO_TEST_CASE(bad_settings_stop_start_up) {
  const PasswordFile password;
  const PluginSettings base{{"host", "127.0.0.1"}, {"from", "a@b.test"}, {"to", "c@d.test"}};
  auto with = [&](std::initializer_list<std::pair<const std::string, std::string>> extra) {
    PluginSettings s = base;
    for (const auto& [k, v] : extra) s[k] = v;
    return s;
  };
  BOOST_TEST(refusedFor(with({{"starttls", "optional"}}), "starttls"));
  BOOST_TEST(refusedFor(with({{"to", "  ,  "}}), "no recipient"));
  BOOST_TEST(refusedFor(with({{"to", "c@d.test, not an address"}}), "not a mail address"));
  BOOST_TEST(refusedFor(with({{"from", "nobody"}}), "from"));
  BOOST_TEST(refusedFor(with({{"username", "cpis"}}), "go together"));
  BOOST_TEST(refusedFor(with({{"username", "cpis"}, {"password_file", password.path()}, {"starttls", "none"}}),
                        "no password in clear"));
  BOOST_TEST(refusedFor(with({{"username", "cpis"}, {"password_file", "/nonexistent"}}), "password_file"));
  BOOST_TEST(refusedFor(with({{"port", "70000"}}), "port"));
}

BOOST_AUTO_TEST_SUITE_END()

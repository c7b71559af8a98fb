#include "plugins/sink_smtp/smtp_sink.h"

#include <stdexcept>
#include <string_view>

#include <Poco/Environment.h>
#include <Poco/Exception.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <Poco/Timespan.h>
#include <Poco/Timestamp.h>

namespace cpis::sinks::smtp {
namespace {

Poco::Timespan span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// An address as the settings give it: no spaces, angle brackets or line ends, one '@'.
bool plausibleAddress(std::string_view address) {
  const auto at = address.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
         address.find('@', at + 1) == std::string_view::npos &&
         address.find_first_of(" \t\r\n<>,;") == std::string_view::npos;
}

std::vector<std::string> splitAddresses(const std::string& list) {
  std::vector<std::string> out;
  std::string_view rest = list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string item = trim(rest.substr(0, comma));
    if (!item.empty()) {
      if (!plausibleAddress(item)) throw std::runtime_error("to: one of the addresses is not a mail address");
      out.push_back(std::move(item));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (out.empty()) throw std::runtime_error("to: no recipient");
  return out;
}

// Header values come from the engine; a line end in one would start a header of its own.
std::string oneLine(std::string_view text) {
  std::string out;
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

std::string_view describe(std::string_view kind) {
  if (kind == "plan-found") return "child protection information found";
  if (kind == "check-failed") return "CP-IS check failed";
  if (kind == "deferred-check") return "CP-IS check deferred";
  if (kind == "late-result") return "late CP-IS result";
  if (kind == "cancelled") return "attendance cancelled";
  if (kind == "check-abandoned") return "CP-IS check abandoned";
  return "notification";
}

// SMTPClientSession with STARTTLS that keeps the relay's host name for the certificate check
// (SecureSMTPClientSession keeps it only when it opens the connection itself, without a
// connect time-out).
class Session : public Poco::Net::SMTPClientSession {
 public:
  using Poco::Net::SMTPClientSession::SMTPClientSession;
  using Poco::Net::SMTPClientSession::login;  // with the EHLO reply too (protected in POCO)

  // False when the relay refuses STARTTLS.
  bool startTls(const std::string& host, Poco::Net::Context::Ptr context, Poco::Timespan timeout) {
    std::string response;
    if (!isPositiveCompletion(sendCommand("STARTTLS", response))) return false;
    Poco::Net::SecureStreamSocket secure = Poco::Net::SecureStreamSocket::attach(socket(), host, context);
    secure.setReceiveTimeout(timeout);
    secure.setSendTimeout(timeout);
    secure.completeHandshake();
    socket() = secure;
    return true;
  }
};

// The EHLO reply's extension lines (250-STARTTLS, 250 AUTH LOGIN PLAIN) name a keyword.
bool offers(const std::string& ehloReply, std::string_view keyword) {
  return Poco::toUpper(ehloReply).find(std::string(keyword)) != std::string::npos;
}

}  // namespace

SmtpSink::SmtpSink(const sdk::Config& config)
    : host_(config.getString("host")),
      startTls_(true),
      from_(trim(config.getString("from"))),
      to_(splitAddresses(config.getString("to"))),
      username_(config.getString("username")),
      heloName_(config.getString("helo_name")),
      subjectPrefix_(oneLine(config.getString("subject_prefix"))),
      timeout_(config.getInt("timeout_ms")) {
  if (host_.empty()) throw std::runtime_error("host: empty");
  const std::int64_t port = config.getInt("port");
  if (port < 1 || port > 65535) throw std::runtime_error("port: not a TCP port");
  port_ = static_cast<std::uint16_t>(port);
  if (timeout_.count() <= 0) throw std::runtime_error("timeout_ms: must be positive");
  if (!plausibleAddress(from_)) throw std::runtime_error("from: not a mail address");
  const std::string starttls = config.getString("starttls");
  if (starttls == "required") {
    startTls_ = true;
  } else if (starttls == "none") {
    startTls_ = false;
  } else {
    throw std::runtime_error("starttls: 'required' or 'none'");
  }
  const std::string passwordFile = config.getString("password_file");
  if (username_.empty() != passwordFile.empty()) {
    throw std::runtime_error("username and password_file go together (AUTH LOGIN)");
  }
  if (!username_.empty()) {
    if (!startTls_) throw std::runtime_error("AUTH LOGIN needs starttls=required (no password in clear)");
    password_ = readSecretFile(passwordFile, "password_file");
  }
  if (heloName_.empty()) heloName_ = Poco::Environment::nodeName();
  const std::string caFile = config.getString("ca_file");
  if (startTls_) {
    context_ = makeClientContext(caFile, "", "");
  } else if (!caFile.empty()) {
    throw std::runtime_error("ca_file needs starttls=required");
  }
}

MailText SmtpSink::compose(const Fields& fields, const std::string& subjectPrefix) {
  const std::string_view kind = fieldValue(fields, "kind");
  const std::string_view feed = fieldValue(fields, "feed");
  MailText mail;
  mail.subject = subjectPrefix.empty() ? std::string() : subjectPrefix + " ";
  mail.subject += std::string(describe(kind));
  if (!feed.empty()) mail.subject += " (feed " + oneLine(feed) + ")";

  mail.body = "cpis-engine: " + std::string(describe(kind)) + ".\r\n\r\n";
  for (const auto& [key, value] : fields) {
    if (key == "plans") continue;
    mail.body += key + ": " + oneLine(value) + "\r\n";
  }
  const std::string_view plans = fieldValue(fields, "plans");
  if (!plans.empty()) {
    mail.body += "\r\nplans (type|start|end|la_ods|la_name|phone):\r\n";
    std::string_view rest = plans;
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      std::string line = oneLine(rest.substr(0, end));
      if (!line.empty() && line.back() == ' ') line.pop_back();  // a CRLF's CR
      if (!line.empty()) mail.body += "  " + line + "\r\n";
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  mail.body += "\r\nThis message was sent by cpis-engine. The same notification may arrive more than once; "
               "its idempotency_key (and Message-ID) tell repeats apart.\r\n";
  return mail;
}

std::string SmtpSink::messageId(const std::string& idempotencyKey, const std::string& domain) {
  return "<" + sha256Hex(idempotencyKey).substr(0, 32) + "@" + domain + ">";
}

sdk::DeliveryResult SmtpSink::classify(int replyCode, const std::string& what) {
  const std::string text = what + (replyCode > 0 ? " (SMTP " + std::to_string(replyCode) + ")" : "");
  if (replyCode >= 400 && replyCode < 500) return sdk::DeliveryResult::retry("mail relay: " + text);
  return sdk::DeliveryResult::error("mail relay refused: " + text);
}

sdk::DeliveryResult SmtpSink::deliver(const sdk::Notification& notification) const {
  const Fields fields = readFields(notification);
  const std::string key(fieldValue(fields, "idempotency_key"));
  const MailText text = compose(fields, subjectPrefix_);

  Poco::Net::MailMessage mail;
  mail.setSender(from_);
  mail.setDate(Poco::Timestamp());
  for (const std::string& address : to_) {
    mail.addRecipient(Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, address));
  }
  mail.setSubject(Poco::Net::MailMessage::encodeWord(text.subject, "UTF-8"));
  mail.setContentType("text/plain; charset=UTF-8");
  mail.setContent(text.body, Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
  mail.set("Message-ID", messageId(key, from_.substr(from_.find('@') + 1)));
  mail.set("X-Cpis-Idempotency-Key", oneLine(key));
  mail.set("X-Cpis-Kind", oneLine(fieldValue(fields, "kind")));

  const Poco::Timespan timeout = span(timeout_);
  try {
    Poco::Net::StreamSocket socket;
    socket.connect(Poco::Net::SocketAddress(host_, port_), timeout);
    socket.setReceiveTimeout(timeout);
    socket.setSendTimeout(timeout);
    Session session(socket);
    std::string ehlo;
    session.login(heloName_, ehlo);
    if (startTls_) {
      // Never in clear: a relay that does not offer STARTTLS (or a stripped offer) is refused
      // for a person to see, rather than retried in the hope it comes back.
      if (!offers(ehlo, "STARTTLS") || !session.startTls(host_, context_, timeout)) {
        return sdk::DeliveryResult::error("mail relay does not offer STARTTLS (starttls=required): not sent");
      }
      if (!username_.empty()) {
        session.login(heloName_, Poco::Net::SMTPClientSession::AUTH_LOGIN, username_, password_);
      } else {
        session.login(heloName_, ehlo);
      }
    }
    session.sendMessage(mail);  // the relay has taken the mail once its reply to the data is 250
    try {
      session.close();
    } catch (const Poco::Exception&) {  // a QUIT that fails changes nothing: the mail is sent
    }
    return sdk::DeliveryResult::ok();
  } catch (const Poco::Net::SMTPException& e) {
    // e.message() quotes the relay's reply, which may echo addresses: keep only POCO's step
    return classify(e.code(), e.message().substr(0, e.message().find(':')));
  } catch (const Poco::TimeoutException&) {
    return sdk::DeliveryResult::retry("mail relay did not answer within " + std::to_string(timeout_.count()) +
                                      " ms");
  } catch (const Poco::Exception& e) {
    return sdk::DeliveryResult::retry("mail relay unreachable: " + e.displayText());
  }
}

}  // namespace cpis::sinks::smtp

CPIS_EXPORT_SINK(cpis::sinks::smtp::SmtpSink, "smtp", "1.0.0",
                 cpis::sdk::requiredKey("host", CPIS_CONFIG_STRING, "the mail relay's host name or address"),
                 cpis::sdk::intKey("port", "25", "the mail relay's port (25 or 587)"),
                 cpis::sdk::stringKey("starttls", "required",
                                      "required: STARTTLS before anything is sent, or no mail; none: plain"),
                 cpis::sdk::stringKey("ca_file", "", "CA bundle the relay's certificate must chain to "
                                                     "(empty: the system's CAs)"),
                 cpis::sdk::stringKey("username", "", "AUTH LOGIN user name (empty: no AUTH)"),
                 cpis::sdk::stringKey("password_file", "", "file holding the AUTH LOGIN password (one line)"),
                 cpis::sdk::requiredKey("from", CPIS_CONFIG_STRING, "the sender address"),
                 cpis::sdk::requiredKey("to", CPIS_CONFIG_STRING, "recipient addresses, comma-separated"),
                 cpis::sdk::stringKey("subject_prefix", "[CP-IS]", "put before every subject"),
                 cpis::sdk::stringKey("helo_name", "", "the name given in EHLO (empty: this host's name)"),
                 cpis::sdk::intKey("timeout_ms", "10000", "connect and per-reply time-out, in milliseconds"))

#pragma once

// What the notification sinks in plugins/sink_<name>/ share: the field keys a notification can
// carry, reading them, secrets from files, and a TLS client context. Header-only and compiled
// into each sink (a plugin sees nothing of the engine but the SDK); it uses POCO, which the
// engine's host process already has.

#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/X509Certificate.h>
#include <Poco/DigestEngine.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/SHA2Engine.h>

#include <cpis/plugin.hpp>

#include "plugins/common/notification_fields.h"

namespace cpis::sinks {

// The notification's fields, in kFieldKeys order, those present only (copied: the engine's
// texts live only for the call).
inline Fields readFields(const sdk::Notification& notification) {
  Fields fields;
  for (std::string_view key : kFieldKeys) {
    if (const auto value = notification.find(key)) fields.emplace_back(std::string(key), std::string(*value));
  }
  return fields;
}

// A secret kept in a file (one line; a final line end is dropped). The text of the error names
// the setting, never the content.
inline std::string readSecretFile(const std::string& path, std::string_view setting) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(setting) + ": cannot read the file it names");
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) throw std::runtime_error(std::string(setting) + ": the file it names is empty");
  return secret;
}

inline std::string toHex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0x0f];
  }
  return out;
}

inline std::string sha256Hex(std::string_view text) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(text.data(), static_cast<unsigned>(text.size()));
  return Poco::DigestEngine::digestToHex(engine.digest());
}

// POCO's OpenSSL set-up, held by each sink instance (reference-counted by POCO, so the
// engine's own set-up and the sinks' nest).
class SslLibrary {
 public:
  SslLibrary() { Poco::Net::initializeSSL(); }
  ~SslLibrary() { Poco::Net::uninitializeSSL(); }
  SslLibrary(const SslLibrary&) = delete;
  SslLibrary& operator=(const SslLibrary&) = delete;
};

// A TLS client context: TLS 1.2 or later, the server's chain checked against caFile (the
// system's CAs when empty) and its name against the host (except for loopback addresses, as
// POCO's relaxed mode does), and a client certificate for mutual TLS when certFile is set.
inline Poco::Net::Context::Ptr makeClientContext(const std::string& caFile, const std::string& certFile,
                                                 const std::string& keyFile) {
  if (certFile.empty() != keyFile.empty()) {
    throw std::runtime_error("cert_file and key_file go together (mutual TLS)");
  }
  Poco::Net::Context::Params params;
  params.caLocation = caFile;
  params.loadDefaultCAs = caFile.empty();
  params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
  params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
  context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  if (!certFile.empty()) {
    context->useCertificate(Poco::Crypto::X509Certificate(certFile));
    context->usePrivateKey(Poco::Crypto::EVPPKey("", keyFile, ""));
  }
  return context;
}

}  // namespace cpis::sinks

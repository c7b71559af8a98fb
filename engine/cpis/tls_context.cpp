#include "engine/cpis/tls_context.h"

#include <Poco/Crypto/X509Certificate.h>
#include <Poco/Net/SecureServerSocket.h>

#include "engine/mllp/private_key.h"

namespace cpis::cpis {

namespace {
constexpr const char* kCiphers = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
}

Poco::Net::Context::Ptr makeClientContext(const ClientTlsSettings& tls) {
  Poco::Net::Context::Params params;
  params.caLocation = tls.caFile;
  params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;  // the server must present a valid chain
  params.loadDefaultCAs = tls.caFile.empty();
  params.cipherList = kCiphers;
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
  context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  if (!tls.certificateFile.empty()) {
    context->useCertificate(Poco::Crypto::X509Certificate(tls.certificateFile));
    context->usePrivateKey(mllp::loadPrivateKey(tls.privateKeyFile, tls.privateKeyPassphrase));
  }
  return context;
}

Poco::Net::Context::Ptr makeServerContext(const ServerTlsSettings& tls) {
  Poco::Net::Context::Params params;
  params.caLocation = tls.caFile;
  params.verificationMode = tls.requireClientCertificate ? Poco::Net::Context::VERIFY_STRICT
                            : tls.caFile.empty()         ? Poco::Net::Context::VERIFY_NONE
                                                         : Poco::Net::Context::VERIFY_RELAXED;
  params.loadDefaultCAs = false;
  params.cipherList = kCiphers;
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
  context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  context->enableExtendedCertificateVerification(false);  // no host names to match on a server
  context->useCertificate(Poco::Crypto::X509Certificate(tls.certificateFile));
  context->usePrivateKey(mllp::loadPrivateKey(tls.privateKeyFile, tls.privateKeyPassphrase));
  return context;
}

Poco::Net::ServerSocket listenOn(const Poco::Net::SocketAddress& address, int backlog,
                                 const Poco::Net::Context::Ptr& tls) {
  if (tls) {
    Poco::Net::SecureServerSocket secure(tls);
    secure.bind(address, true, false);
    secure.listen(backlog);
    return secure;
  }
  Poco::Net::ServerSocket plain;
  plain.bind(address, true, false);
  plain.listen(backlog);
  return plain;
}

}  // namespace cpis::cpis

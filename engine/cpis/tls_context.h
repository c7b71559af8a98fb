#pragma once

#include <string>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "engine/cpis/https_transport.h"

namespace cpis::cpis {

// The server side of (mutual) TLS: the reply endpoint for asynchronous CP-IS replies, and the
// Spine simulator.
struct ServerTlsSettings {
  std::string certificateFile;       // PEM, the server's chain
  std::string privateKeyFile;        // PEM
  std::string privateKeyPassphrase;  // secret: never logged
  std::string caFile;                // PEM bundle client certificates must chain to
  bool requireClientCertificate = false;  // mutual TLS; needs caFile
  // Client certificate subjects allowed (mllp::subjectAllowed); empty: the CA alone decides.
  // Checked by the asynchronous reply endpoint for each request; needs requireClientCertificate.
  std::vector<std::string> allowedSubjects{};
};

// TLS 1.2 or later, strong ciphers only. Throw Poco::Exception when a file cannot be used.
Poco::Net::Context::Ptr makeClientContext(const ClientTlsSettings& tls);
Poco::Net::Context::Ptr makeServerContext(const ServerTlsSettings& tls);

// A listening socket on `address` (TLS when `tls` is set): SO_REUSEADDR, so a restart binds at
// once, but never SO_REUSEPORT, which POCO's own constructors set: with it a second process on
// the same port starts without a word and takes half the connections (half of Spine's replies).
// Throws Poco::Exception ("Address already in use") as a bind does.
Poco::Net::ServerSocket listenOn(const Poco::Net::SocketAddress& address, int backlog,
                                 const Poco::Net::Context::Ptr& tls = {});

}  // namespace cpis::cpis

#pragma once

#include <string>
#include <vector>

#include <Poco/Net/Context.h>

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

}  // namespace cpis::cpis

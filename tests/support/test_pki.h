#pragma once

#include <string>

#include "tests/support/temp_dir.h"

namespace cpis::test {

// A throw-away PKI made with the openssl command: a CA, a server certificate for 127.0.0.1
// and localhost, two client certificates from that CA (CN epr01 and epr02), and a client
// certificate from a second, untrusted CA. Keys are unencrypted except serverKeyEncrypted.
class TestPki {
 public:
  TestPki();

  std::string caCertificate() const { return dir_.file("ca.pem"); }
  std::string serverCertificate() const { return dir_.file("server.pem"); }
  std::string serverKey() const { return dir_.file("server.key"); }
  std::string serverKeyEncrypted() const { return dir_.file("server-enc.key"); }
  static constexpr const char* kServerKeyPassphrase = "test-passphrase";
  std::string clientCertificate(const std::string& name) const { return dir_.file(name + ".pem"); }
  std::string clientKey(const std::string& name) const { return dir_.file(name + ".key"); }
  // "epr01", "epr02" (trusted CA) and "rogue" (untrusted CA)

 private:
  void run(const std::string& command) const;
  void issue(const std::string& name, const std::string& subject, const std::string& ca,
             const std::string& extensions) const;
  TempDir dir_{"cpis-pki"};
};

}  // namespace cpis::test

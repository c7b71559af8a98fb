#include "tests/support/test_pki.h"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace cpis::test {

void TestPki::run(const std::string& command) const {
  const std::string full = "cd '" + dir_.path().string() + "' && " + command + " >openssl.log 2>&1";
  if (std::system(full.c_str()) != 0) {
    std::ifstream log(dir_.file("openssl.log"));
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    throw std::runtime_error("openssl failed: " + command + "\n" + text);
  }
}

void TestPki::issue(const std::string& name, const std::string& subject, const std::string& ca,
                    const std::string& extensions) const {
  std::ofstream(dir_.file(name + ".ext")) << extensions;
  run("openssl req -new -newkey rsa:2048 -nodes -keyout " + name + ".key -subj '" + subject + "' -out " +
      name + ".csr");
  run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
      ".key -CAcreateserial -days 2 -out " + name + ".pem -extfile " + name + ".ext");
}

TestPki::TestPki() {
  const auto makeCa = [&](const std::string& name, const std::string& cn) {
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout " + name +
        ".key -subj '/O=cpis-engine tests/CN=" + cn + "' -out " + name +
        ".pem -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign");
  };
  makeCa("ca", "Test CA");
  makeCa("rogue-ca", "Rogue CA");
  issue("server", "/O=cpis-engine tests/CN=localhost", "ca",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  run("openssl pkey -in server.key -aes256 -passout pass:" + std::string(kServerKeyPassphrase) +
      " -out server-enc.key");
  issue("epr01", "/C=GB/O=Example Trust/CN=epr01", "ca", "extendedKeyUsage=clientAuth\n");
  issue("epr02", "/C=GB/O=Example Trust/CN=epr02", "ca", "extendedKeyUsage=clientAuth\n");
  issue("rogue", "/C=GB/O=Example Trust/CN=epr01", "rogue-ca", "extendedKeyUsage=clientAuth\n");
  // One attribute each, a CN whose text is another subject written out: in the one-line form
  // (slashes escaped for -subj) and in the RFC 2253 form.
  issue("crafted", "/CN=epr01\\/C=GB\\/O=Example Trust", "ca", "extendedKeyUsage=clientAuth\n");
  issue("crafted-dn", "/CN=CN=epr01,O=Example Trust,C=GB", "ca", "extendedKeyUsage=clientAuth\n");
}

}  // namespace cpis::test

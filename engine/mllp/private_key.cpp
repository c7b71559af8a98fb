#include "engine/mllp/private_key.h"

#include <cstring>
#include <memory>

#include <Poco/Exception.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace cpis::mllp {
namespace {

// OpenSSL's passphrase callback: the configured passphrase, or none (then an encrypted key
// fails to load instead of prompting).
int passphraseOf(char* buffer, int size, int /*rwflag*/, void* user) {
  const auto* passphrase = static_cast<const std::string*>(user);
  if (passphrase == nullptr || passphrase->empty() || size <= 0) return 0;
  const int n = static_cast<int>(std::min<std::size_t>(passphrase->size(), static_cast<std::size_t>(size)));
  std::memcpy(buffer, passphrase->data(), static_cast<std::size_t>(n));
  return n;
}

std::string openSslReason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "not a PEM private key";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(code);
}

}  // namespace

Poco::Crypto::EVPPKey loadPrivateKey(const std::string& file, const std::string& passphrase) {
  ERR_clear_error();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(file.c_str(), "r"), &BIO_free);
  if (!bio) {
    ERR_clear_error();
    throw Poco::OpenFileException("private key " + file + ": cannot be opened");
  }
  std::string copy = passphrase;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, &passphraseOf, &copy);
  if (key == nullptr) {
    const std::string reason = openSslReason();
    throw Poco::DataFormatException("private key " + file + ": cannot be read (" + reason + ")" +
                                    (passphrase.empty() ? "; if it is encrypted, name its passphrase file" : ""));
  }
  Poco::Crypto::EVPPKey out(key);  // duplicates it
  EVP_PKEY_free(key);
  return out;
}

}  // namespace cpis::mllp

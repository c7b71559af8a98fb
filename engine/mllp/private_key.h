#pragma once

#include <string>

#include <Poco/Crypto/EVPPKey.h>

namespace cpis::mllp {

// The private key of a TLS certificate, from a PEM file, decrypted with `passphrase` when it is
// encrypted. Never asks on a terminal: OpenSSL's default (an empty passphrase given) is to
// prompt, which blocks a daemon's start for ever. Throws Poco::Exception whose text names the
// file and OpenSSL's own reason (its error queue is cleared first, so an earlier, unrelated
// error is not reported instead); never the passphrase.
Poco::Crypto::EVPPKey loadPrivateKey(const std::string& file, const std::string& passphrase);

}  // namespace cpis::mllp

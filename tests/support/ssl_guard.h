#pragma once

#include <Poco/Net/SSLManager.h>

namespace cpis::test {

// POCO's OpenSSL set-up for a test module that uses TLS: declare it once per module with
// `using cpis::test::SslGuard;` then BOOST_TEST_GLOBAL_FIXTURE(SslGuard) (it takes a plain name).
struct SslGuard {
  SslGuard() { Poco::Net::initializeSSL(); }
  ~SslGuard() { Poco::Net::uninitializeSSL(); }
};

}  // namespace cpis::test

#pragma once

#include <string>
#include <vector>

#include <Poco/Net/X509Certificate.h>

namespace cpis::mllp {

// Whether a client certificate's subject is on an allow-list (`<allowedSubject>`): an empty
// list allows every certificate (the CA alone decides). An entry with attributes, in OpenSSL's
// one-line form ("/C=GB/O=Example Trust/CN=epr01") or RFC 2253's ("CN=epr01,O=Example
// Trust,C=GB"), must equal the whole subject, compared attribute by attribute with the
// certificate's own entries (a value holding '/' or ',' stays one value; a backslash escapes a
// separator in an entry). An entry without '=' ("epr01") names the certificate's common name.
// Used by the MLLP listeners and the CP-IS asynchronous reply endpoint.
bool subjectAllowed(const std::vector<std::string>& allowed, const Poco::Net::X509Certificate& certificate);

}  // namespace cpis::mllp

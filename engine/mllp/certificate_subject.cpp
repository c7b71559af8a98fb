#include "engine/mllp/certificate_subject.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

namespace cpis::mllp {
namespace {

// A distinguished name as its (attribute, value) pairs, attributes upper-cased, sorted: so that
// OpenSSL's one-line form ("/C=GB/O=Example Trust/CN=epr01") and the RFC 2253 form
// ("CN=epr01,O=Example Trust,C=GB") of one name compare equal.
using NameParts = std::vector<std::pair<std::string, std::string>>;

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(' ');
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(' ') - first + 1));
}

// A configured name. A backslash escapes a separator (or anything) inside a value.
NameParts configuredName(std::string_view subject) {
  const char separator = !subject.empty() && subject.front() == '/' ? '/' : ',';
  NameParts parts;
  std::string part;
  std::size_t equals = std::string::npos;  // the first unescaped '=' of `part`
  const auto flush = [&] {
    if (equals != std::string::npos) {
      parts.emplace_back(upper(trimmed(std::string_view(part).substr(0, equals))),
                         trimmed(std::string_view(part).substr(equals + 1)));
    } else if (!trimmed(part).empty()) {
      parts.emplace_back(std::string(), trimmed(part));  // no attribute: matches nothing
    }
    part.clear();
    equals = std::string::npos;
  };
  for (std::size_t i = 0; i < subject.size(); ++i) {
    if (subject[i] == '\\' && i + 1 < subject.size()) {
      part.push_back(subject[++i]);
    } else if (subject[i] == separator) {
      flush();
    } else {
      if (subject[i] == '=' && equals == std::string::npos) equals = part.size();
      part.push_back(subject[i]);
    }
  }
  flush();
  std::sort(parts.begin(), parts.end());
  return parts;
}

// The certificate's subject, read entry by entry from the certificate itself: a value holding
// '/' or ',' stays one value, and nothing is cut (POCO's subjectName() is OpenSSL's one-line
// text, cut at 256 bytes). An entry that cannot be read makes a name no allowed entry equals.
NameParts certificateName(const Poco::Net::X509Certificate& certificate) {
  NameParts parts;
  const X509_NAME* name = X509_get_subject_name(certificate.certificate());
  for (int i = 0; name != nullptr && i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    const char* shortName = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (shortName == nullptr || length < 0) {
      parts.emplace_back("?", "?");
    } else {
      parts.emplace_back(upper(shortName),
                         std::string(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length)));
    }
    OPENSSL_free(utf8);
  }
  std::sort(parts.begin(), parts.end());
  return parts;
}

}  // namespace

// An allowed entry with an attribute (CN=..., /C=...) must equal the whole subject; one without
// (a bare "epr01") names the certificate's common name.
bool subjectAllowed(const std::vector<std::string>& allowed, const Poco::Net::X509Certificate& certificate) {
  if (allowed.empty()) return true;
  const NameParts subject = certificateName(certificate);
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& entry) {
    if (entry.find('=') == std::string::npos) {
      const std::string commonName = trimmed(entry);
      return std::any_of(subject.begin(), subject.end(),
                         [&](const auto& part) { return part.first == "CN" && part.second == commonName; });
    }
    return configuredName(entry) == subject;
  });
}

}  // namespace cpis::mllp

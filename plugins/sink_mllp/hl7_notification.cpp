#include "plugins/sink_mllp/hl7_notification.h"

#include <algorithm>
#include <vector>

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

namespace cpis::sinks::mllp {
namespace {

constexpr std::string_view kCodingSystem = "CPISN";  // local coding system of the field keys

bool isDelimiter(char c) {
  return c == '|' || c == '^' || c == '~' || c == '\\' || c == '&';
}

bool plainCharacter(char c) {
  return c > 0x20 && c < 0x7f && !isDelimiter(c);
}

std::string_view describe(std::string_view kind) {
  if (kind == "plan-found") return "Child protection information found";
  if (kind == "check-failed") return "CP-IS check failed";
  if (kind == "deferred-check") return "CP-IS check deferred";
  if (kind == "late-result") return "Late CP-IS result";
  if (kind == "cancelled") return "Attendance cancelled";
  if (kind == "check-abandoned") return "CP-IS check abandoned";
  return "CP-IS notification";
}

std::string digitsOnly(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

std::string obx(int setId, std::string_view key, std::string_view subId, std::string_view value) {
  return "OBX|" + std::to_string(setId) + "|ST|" + std::string(key) + "^^" + std::string(kCodingSystem) + "|" +
         std::string(subId) + "|" + escape(value) + "||||||F\r";
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = text.find(separator);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

}  // namespace

std::string controlIdFor(std::string_view key, std::size_t maxLength) {
  bool plain = !key.empty() && key.size() <= maxLength;
  for (char c : key) plain = plain && plainCharacter(c);
  if (plain) return std::string(key);
  // SHA-256 in base32 (RFC 4648 letters and digits, no delimiters): 5 bits a character, so
  // 20 characters keep 100 bits and collisions stay out of reach however many notifications.
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(key.data(), static_cast<unsigned>(key.size()));
  const Poco::DigestEngine::Digest& digest = engine.digest();
  const std::size_t length = std::min<std::size_t>(maxLength, digest.size() * 8 / 5);
  std::string id;
  for (std::size_t i = 0; i < length; ++i) {
    const std::size_t bit = i * 5;
    const unsigned high = digest[bit / 8];
    const unsigned low = bit / 8 + 1 < digest.size() ? digest[bit / 8 + 1] : 0u;
    id += kAlphabet[(((high << 8) | low) >> (11 - bit % 8)) & 0x1f];
  }
  return id;
}

std::string escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '|': out += "\\F\\"; break;
      case '^': out += "\\S\\"; break;
      case '&': out += "\\T\\"; break;
      case '~': out += "\\R\\"; break;
      case '\\': out += "\\E\\"; break;
      case '\r': out += "\\X0D\\"; break;
      case '\n': out += "\\X0A\\"; break;
      default: out += c;
    }
  }
  return out;
}

std::string toHl7Time(std::string_view iso) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (iso.size() < 20 || iso[4] != '-' || iso[7] != '-' || (iso[10] != 'T' && iso[10] != ' ') ||
      iso[13] != ':' || iso[16] != ':' || iso.back() != 'Z') {
    return {};
  }
  const std::string digits = digitsOnly(iso.substr(0, 19));
  if (digits.size() != 14) return {};
  return digits + "+0000";
}

std::string composeMessage(const Fields& fields, const MessageHeader& header, const std::string& controlId,
                           const std::string& now) {
  std::string out = "MSH|^~\\&|" + escape(header.sendingApplication) + "|" + escape(header.sendingFacility) + "|" +
                    escape(header.receivingApplication) + "|" + escape(header.receivingFacility) + "|" + now +
                    "||ORU^R01^ORU_R01|" + controlId + "|" + escape(header.processingId) + "|" +
                    escape(header.version) + "\r";

  const std::string_view nhsNumber = fieldValue(fields, "nhs_number");
  if (!nhsNumber.empty()) {
    std::string pid = "PID|1||" + escape(nhsNumber) + "^^^NHS^NH||";
    const std::string_view family = fieldValue(fields, "family_name");
    const std::string_view given = fieldValue(fields, "given_name");
    if (!family.empty() || !given.empty()) pid += escape(family) + "^" + escape(given);
    pid += "||" + digitsOnly(fieldValue(fields, "birth_date"));
    while (pid.back() == '|') pid.pop_back();
    out += pid + "\r";
  }

  const std::string_view kind = fieldValue(fields, "kind");
  out += "OBR|1|||" + escape(kind) + "^" + std::string(describe(kind)) + "^" + std::string(kCodingSystem) + "|||" +
         toHl7Time(fieldValue(fields, "occurred_at")) + "||||||||||||||||||F\r";

  int setId = 0;
  for (const auto& [key, value] : fields) {
    if (key != "plans") {
      out += obx(++setId, key, "", value);
      continue;
    }
    int plan = 0;
    for (std::string_view line : split(value, '\n')) {
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      out += obx(++setId, key, std::to_string(++plan), line);
    }
  }
  return out;
}

std::optional<Ack> parseAck(std::string_view message) {
  if (message.size() < 8 || message.substr(0, 3) != "MSH") return std::nullopt;
  const char field = message[3];
  std::string_view rest = message;
  while (!rest.empty()) {
    const auto end = rest.find_first_of("\r\n");
    const std::string_view segment = rest.substr(0, end);
    if (segment.size() > 4 && segment.substr(0, 3) == "MSA" && segment[3] == field) {
      const auto values = split(segment, field);
      Ack ack;
      ack.code = std::string(values.size() > 1 ? values[1] : std::string_view());
      ack.controlId = std::string(values.size() > 2 ? values[2] : std::string_view());
      return ack;
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return std::nullopt;
}

}  // namespace cpis::sinks::mllp

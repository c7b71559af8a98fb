#include "engine/cpis/spine_wire.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

namespace cpis::cpis::wire {
namespace {

using namespace std::chrono;

bool isAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string trim(std::string_view text) {
  while (!text.empty() && isAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isAsciiSpace(text.back())) text.remove_suffix(1);
  return std::string(text);
}

// Reads `count` digits at `pos`; nullopt if any is not a digit or the text ends.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

void appendHex(std::string& out, std::uint64_t value, int nibbles) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int i = nibbles - 1; i >= 0; --i) out += kHex[(value >> (4 * i)) & 0xF];
}

std::string formatUuid(std::uint64_t high, std::uint64_t low) {
  high = (high & ~0xF000ULL) | 0x4000ULL;                         // version 4
  low = (low & ~(0xC000ULL << 48)) | (0x8000ULL << 48);           // RFC 4122 variant
  std::string out;
  out.reserve(36);
  appendHex(out, high >> 32, 8);
  out += '-';
  appendHex(out, (high >> 16) & 0xFFFF, 4);
  out += '-';
  appendHex(out, high & 0xFFFF, 4);
  out += '-';
  appendHex(out, low >> 48, 4);
  out += '-';
  appendHex(out, low & 0xFFFFFFFFFFFFULL, 12);
  return out;
}

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash) {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001B3ULL;
  }
  return hash;
}

// splitmix64's finaliser: spreads every input bit over the whole word.
std::uint64_t mix(std::uint64_t value) {
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

}  // namespace

// ---- text -------------------------------------------------------------------------------

std::string xmlSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      if (lead >= 0x20 || lead == '\t' || lead == '\n' || lead == '\r') out += static_cast<char>(lead);
      ++i;
      continue;
    }
    std::size_t length = 0;
    char32_t cp = 0;
    if (lead >= 0xC2 && lead <= 0xDF) length = 2, cp = lead & 0x1F;
    else if (lead >= 0xE0 && lead <= 0xEF) length = 3, cp = lead & 0x0F;
    else if (lead >= 0xF0 && lead <= 0xF4) length = 4, cp = lead & 0x07;
    bool valid = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) valid = false;
      cp = (cp << 6) | (next & 0x3F);
    }
    // No overlong forms, surrogates, U+FFFE/U+FFFF or code points past U+10FFFF.
    if (valid && ((length == 3 && cp < 0x800) || (length == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                  (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)) {
      valid = false;
    }
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

std::string logSafe(std::string_view text, std::size_t limit) {
  std::string out;
  out.reserve(std::min(text.size(), limit) + 3);
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      std::size_t end = i;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
      if (end - i >= 8) out.append(end - i, '*');
      else out.append(text.substr(i, end - i));
      i = end;
      continue;
    }
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    ++i;
  }
  out = trim(out);
  if (out.size() > limit) {
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // a whole character
    out.resize(cut);
    out += "...";
  }
  return out;
}

// ---- times ------------------------------------------------------------------------------

std::string formatTimestamp(domain::Instant at) {
  const auto secs = floor<seconds>(at);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02u%02d%02d%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buffer;
}

std::string formatDate(domain::Date date) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

std::optional<domain::Date> parseDate(std::string_view text) {
  const auto year = digits(text, 0, 4);
  const auto month = digits(text, 4, 2);
  const auto day = digits(text, 6, 2);
  if (!year || !month || !day) return std::nullopt;
  const domain::Date date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                          std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::optional<domain::Instant> parseTimestamp(std::string_view text) {
  const auto date = parseDate(text);
  if (!date) return std::nullopt;
  std::size_t pos = 8;
  int fields[3] = {0, 0, 0};  // hours, minutes, seconds
  for (int& field : fields) {
    if (pos == text.size() || text[pos] == '+' || text[pos] == '-') break;
    const auto value = digits(text, pos, 2);
    if (!value) return std::nullopt;
    field = *value;
    pos += 2;
  }
  if (fields[0] > 23 || fields[1] > 59 || fields[2] > 59) return std::nullopt;
  milliseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    if (pos != 14) return std::nullopt;  // a fraction only after the seconds
    ++pos;
    const std::size_t start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += milliseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  minutes offset{0};
  if (pos < text.size()) {
    const char sign = text[pos];
    if (sign != '+' && sign != '-') return std::nullopt;
    const auto hh = digits(text, pos + 1, 2);
    if (!hh) return std::nullopt;
    const auto mm = text.size() == pos + 5 ? digits(text, pos + 3, 2) : std::optional<int>(0);
    if (!mm || (text.size() != pos + 3 && text.size() != pos + 5) || *hh > 14 || *mm > 59) return std::nullopt;
    offset = hours(*hh) + minutes(*mm);
    if (sign == '-') offset = -offset;
  }
  const auto local = sys_days(*date) + hours(fields[0]) + minutes(fields[1]) + seconds(fields[2]) + fraction;
  return time_point_cast<milliseconds>(local - offset);
}

// ---- ids --------------------------------------------------------------------------------

std::string randomUuid() {
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  const std::uint64_t high = generator();
  return formatUuid(high, generator());
}

std::string derivedUuid(std::string_view seed, std::uint64_t index) {
  const std::string indexText = std::to_string(index);
  const std::uint64_t high = mix(fnv1a(indexText, fnv1a(seed, 0xCBF29CE484222325ULL)));
  const std::uint64_t low = mix(fnv1a(seed, fnv1a(indexText, 0x84222325CBF29CE4ULL)) ^ high);
  return formatUuid(high, low);
}

bool isUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string stripUuidPrefix(std::string_view text) {
  std::string id = trim(text);
  if (id.size() >= 5 && (id.compare(0, 5, "uuid:") == 0 || id.compare(0, 5, "UUID:") == 0)) id.erase(0, 5);
  for (char& c : id) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return id;
}

}  // namespace cpis::cpis::wire

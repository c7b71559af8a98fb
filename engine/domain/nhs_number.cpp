#include "engine/domain/nhs_number.h"

#include <algorithm>
#include <variant>

namespace cpis::domain {
namespace {

std::variant<std::array<char, 10>, NhsNumberError> normalise(std::string_view text) {
  std::array<char, 10> digits{};
  std::size_t count = 0;
  bool any = false;
  for (const char c : text) {
    if (c == ' ' || c == '-') continue;
    any = true;
    if (c < '0' || c > '9') return NhsNumberError::InvalidCharacter;
    if (count == digits.size()) return NhsNumberError::WrongLength;
    digits[count++] = c;
  }
  if (!any) return NhsNumberError::Empty;
  if (count != digits.size()) return NhsNumberError::WrongLength;
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (digits[static_cast<std::size_t>(i)] - '0') * (10 - i);
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  if (check == 10) return NhsNumberError::CheckDigitTen;
  if (check != digits[9] - '0') return NhsNumberError::CheckDigitMismatch;
  return digits;
}

}  // namespace

std::string_view describe(NhsNumberError error) {
  switch (error) {
    case NhsNumberError::Empty: return "no NHS number";
    case NhsNumberError::InvalidCharacter: return "NHS number holds characters other than digits";
    case NhsNumberError::WrongLength: return "NHS number is not ten digits";
    case NhsNumberError::CheckDigitTen: return "NHS number fails modulus 11 (check value 10 is never issued)";
    case NhsNumberError::CheckDigitMismatch: return "NHS number fails modulus 11 (wrong check digit)";
  }
  return "invalid NHS number";
}

std::optional<NhsNumber> NhsNumber::parse(std::string_view text) {
  auto result = normalise(text);
  if (const auto* digits = std::get_if<std::array<char, 10>>(&result)) return NhsNumber(*digits);
  return std::nullopt;
}

std::optional<NhsNumberError> NhsNumber::check(std::string_view text) {
  auto result = normalise(text);
  if (const auto* error = std::get_if<NhsNumberError>(&result)) return *error;
  return std::nullopt;
}

std::string NhsNumber::display() const {
  const std::string_view d = reveal();
  std::string out;
  out.reserve(12);
  out.append(d.substr(0, 3)).append(" ").append(d.substr(3, 3)).append(" ").append(d.substr(6));
  return out;
}

bool NhsNumber::isTestRange() const noexcept {
  return reveal().substr(0, 3) == "999";
}

bool NhsNumber::isPlaceholder() const noexcept {
  return std::all_of(digits_.begin(), digits_.end(), [&](char c) { return c == digits_[0]; });
}

std::ostream& operator<<(std::ostream& os, const NhsNumber&) {
  return os << "NhsNumber(***)";
}

RefusedNhsNumber::RefusedNhsNumber(std::string_view text) {
  if (text.size() > kMaxLength) {
    std::size_t cut = kMaxLength;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // a whole character
    text = text.substr(0, cut);
  }
  text_ = std::string(text);
}

std::ostream& operator<<(std::ostream& os, const RefusedNhsNumber&) {
  return os << "RefusedNhsNumber(***)";
}

}  // namespace cpis::domain

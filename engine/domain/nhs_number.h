#pragma once

#include <array>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace cpis::domain {

// Why a text is not an NHS number. The reason never quotes the text: it may be logged.
enum class NhsNumberError {
  Empty,
  InvalidCharacter,  // something other than digits, spaces and dashes
  WrongLength,       // not ten digits
  CheckDigitTen,     // modulus 11 gives 10: never issued
  CheckDigitMismatch,
};
std::string_view describe(NhsNumberError error);

// A valid NHS number: ten digits whose tenth is the modulus 11 check digit of the first nine
// (weights 10..2; 11 means 0, 10 means invalid). This is patient data: it prints as
// NhsNumber(***) and only the audit trail and the wire formats call reveal() or display().
class NhsNumber {
 public:
  // Accepts the digits with spaces or dashes between them ("943 476 5919", "943-476-5919").
  static std::optional<NhsNumber> parse(std::string_view text);
  // The reason parse() would refuse `text`, or nullopt when it would accept it.
  static std::optional<NhsNumberError> check(std::string_view text);

  std::string_view reveal() const noexcept { return {digits_.data(), digits_.size()}; }  // 10 digits
  std::string display() const;                                                           // "943 476 5919"

  // 999 000 0000 - 999 999 9999: reserved for test data, never issued.
  bool isTestRange() const noexcept;
  // Ten copies of one digit (0000000000, 3333333333): valid checksums used as placeholders.
  bool isPlaceholder() const noexcept;

  friend bool operator==(const NhsNumber&, const NhsNumber&) = default;

 private:
  explicit NhsNumber(const std::array<char, 10>& digits) : digits_(digits) {}
  std::array<char, 10> digits_;
};

std::ostream& operator<<(std::ostream& os, const NhsNumber& number);  // NhsNumber(***)

// A value sent as an NHS number and refused (not ten digits, a wrong check digit): patient
// data all the same, kept only to be echoed to its sender in ZCP-13 (CPIS.md §5: empty only
// with NO_NHS_NUMBER), so that staff can see the mistyped number. At most kMaxLength bytes are
// kept (cut at a character boundary). It prints as RefusedNhsNumber(***).
class RefusedNhsNumber {
 public:
  static constexpr std::size_t kMaxLength = 20;
  explicit RefusedNhsNumber(std::string_view text);

  std::string_view reveal() const noexcept { return text_; }

  friend bool operator==(const RefusedNhsNumber&, const RefusedNhsNumber&) = default;

 private:
  std::string text_;
};

std::ostream& operator<<(std::ostream& os, const RefusedNhsNumber& number);  // RefusedNhsNumber(***)

}  // namespace cpis::domain

#include "engine/hl7v2/path.h"

namespace cpis::hl7v2 {
namespace {

class PathReader {
 public:
  explicit PathReader(std::string_view text) : text_(text) {}

  bool atEnd() const { return pos_ == text_.size(); }
  bool accept(char c) {
    if (!atEnd() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  // A positive number of at most six digits, or 0 when there is none.
  std::uint32_t number() {
    std::uint32_t value = 0;
    std::size_t digits = 0;
    while (!atEnd() && text_[pos_] >= '0' && text_[pos_] <= '9' && digits < 7) {
      value = value * 10 + static_cast<std::uint32_t>(text_[pos_] - '0');
      ++pos_;
      ++digits;
    }
    return digits == 0 || digits > 6 ? 0 : value;
  }
  // "(n)" or "(*)" after a segment id or field number; `value` stays as it is without one.
  bool repetition(std::uint32_t& value, std::string& error, std::string_view what) {
    if (!accept('(')) return true;
    if (accept('*')) {
      value = Path::kAll;
    } else {
      value = number();
      if (value == 0) {
        error = std::string(what) + " repetition must be a number from 1 or '*'";
        return false;
      }
    }
    if (!accept(')')) {
      error = "expected ')' after the " + std::string(what) + " repetition";
      return false;
    }
    return true;
  }
  std::string_view take(std::size_t n) {
    const auto part = text_.substr(pos_, n);
    pos_ += part.size();
    return part;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool segmentIdChar(char c, bool first) {
  return (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

}  // namespace

std::string Path::toString() const {
  // appended piece by piece: g++ 12 warns (-Wrestrict) on chains of operator+
  std::string out = segmentId;
  const auto rep = [&](std::uint32_t r) {
    if (r == kAll) {
      out.append("(*)");
    } else if (r != 1) {
      out.push_back('(');
      out.append(std::to_string(r));
      out.push_back(')');
    }
  };
  rep(segmentRepetition);
  out.push_back('-');
  out.append(std::to_string(field));
  rep(fieldRepetition);
  if (component > 0) {
    out.push_back('.');
    out.append(std::to_string(component));
    if (subComponent > 0) {
      out.push_back('.');
      out.append(std::to_string(subComponent));
    }
  }
  return out;
}

core::Result<Path, std::string> parsePath(std::string_view text) {
  PathReader in(text);
  Path path;
  std::string error;
  const std::string_view id = in.take(3);
  if (id.size() != 3 || !segmentIdChar(id[0], true) || !segmentIdChar(id[1], false) ||
      !segmentIdChar(id[2], false)) {
    return std::string("a path starts with a three-character segment id such as PID");
  }
  path.segmentId = std::string(id);
  if (!in.repetition(path.segmentRepetition, error, "segment")) return error;
  if (!in.accept('-')) return std::string("expected '-' and a field number after the segment id");
  path.field = in.number();
  if (path.field == 0) return std::string("the field number must be a number from 1");
  if (!in.repetition(path.fieldRepetition, error, "field")) return error;
  if (in.accept('.')) {
    path.component = in.number();
    if (path.component == 0) return std::string("the component number must be a number from 1");
    if (in.accept('.')) {
      path.subComponent = in.number();
      if (path.subComponent == 0) {
        return std::string("the sub-component number must be a number from 1");
      }
    }
  }
  if (!in.atEnd()) return std::string("unexpected text after the path");
  return path;
}

}  // namespace cpis::hl7v2

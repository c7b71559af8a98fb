#include "engine/plugin/alert_segments.h"

#include <array>
#include <utility>

#include "engine/hl7v2/escaping.h"

namespace cpis::plugin {
namespace {

bool validSegmentId(std::string_view id) {
  if (id.size() != 3) return false;
  if (id[0] < 'A' || id[0] > 'Z') return false;
  for (const char c : id.substr(1)) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// The segments the ACK itself writes, and batch envelopes: an alert must never forge them.
constexpr std::array<std::string_view, 7> kReserved{"MSH", "MSA", "ERR", "BHS", "BTS", "FHS", "FTS"};

template <typename T>
T& grow(std::vector<T>& parts, std::uint32_t oneBased) {
  if (parts.size() < oneBased) parts.resize(oneBased);
  return parts[oneBased - 1];
}

// The last non-empty part + 1: trailing empty components, repetitions and fields are not sent.
template <typename T, typename IsEmpty>
std::size_t usedLength(const std::vector<T>& parts, IsEmpty isEmpty) {
  std::size_t n = parts.size();
  while (n > 0 && isEmpty(parts[n - 1])) --n;
  return n;
}

}  // namespace

core::Result<std::size_t> AlertSegments::add(std::string_view segmentId) {
  if (!validSegmentId(segmentId)) {
    return core::Status::invalidArgument("an alert segment id is three upper-case letters or digits");
  }
  for (const std::string_view reserved : kReserved) {
    if (segmentId == reserved) {
      return core::Status::invalidArgument("alert segments cannot be " + std::string(reserved));
    }
  }
  if (segments_.size() >= kMaxSegments) {
    return core::Status::invalidArgument("more than " + std::to_string(kMaxSegments) + " alert segments");
  }
  Segment segment;
  segment.id = std::string(segmentId);
  segments_.push_back(std::move(segment));
  return segments_.size() - 1;
}

core::Status AlertSegments::set(std::size_t segment, std::uint32_t field, std::uint32_t repetition,
                                std::uint32_t component, std::uint32_t subComponent, std::string_view utf8) {
  if (segment >= segments_.size() || segments_[segment].preEncoded) {
    return core::Status::invalidArgument("no such alert segment");
  }
  repetition = repetition == 0 ? 1 : repetition;
  component = component == 0 ? 1 : component;
  subComponent = subComponent == 0 ? 1 : subComponent;
  if (field == 0 || field > kMaxField || repetition > kMaxPart || component > kMaxPart ||
      subComponent > kMaxPart) {
    return core::Status::invalidArgument("alert field position out of range");
  }
  if ((repetition > 1 && delimiters_.repetition == '\0') ||
      (component > 1 && delimiters_.component == '\0') ||
      (subComponent > 1 && delimiters_.subComponent == '\0')) {
    return core::Status::invalidArgument("the message's encoding characters have no such separator");
  }
  if (hl7v2::firstInvalidByte(utf8, hl7v2::Charset::Utf8)) {
    return core::Status::invalidArgument("alert value is not UTF-8");
  }
  auto& repetitions = grow(segments_[segment].fields, field);
  auto& components = grow(repetitions, repetition);
  auto& subComponents = grow(components, component);
  grow(subComponents, subComponent) = std::string(utf8);
  return core::Status::ok();
}

core::Status AlertSegments::addEncoded(std::string segment) {
  if (segment.size() < 3 || !validSegmentId(std::string_view(segment).substr(0, 3)) ||
      (segment.size() > 3 && segment[3] != delimiters_.field)) {
    return core::Status::invalidArgument("an encoded alert segment starts with its id and a field separator");
  }
  if (segment.find_first_of("\r\n") != std::string::npos) {
    return core::Status::invalidArgument("an encoded alert segment holds a segment terminator");
  }
  auto added = add(std::string_view(segment).substr(0, 3));
  if (!added.ok()) return added.error();
  segments_[added.value()].preEncoded = true;
  segments_[added.value()].encoded = std::move(segment);
  return core::Status::ok();
}

core::Status AlertSegments::addSerialized(std::string_view segments) {
  const std::size_t before = segments_.size();
  while (!segments.empty()) {
    const std::size_t end = segments.find('\r');
    core::Status added = addEncoded(std::string(segments.substr(0, end)));
    if (!added.isOk()) {
      truncate(before);
      return added;
    }
    segments = end == std::string_view::npos ? std::string_view() : segments.substr(end + 1);
  }
  return core::Status::ok();
}

std::string_view AlertSegments::segmentId(std::size_t index) const {
  return segments_.at(index).id;
}

std::string AlertSegments::encodeValue(std::string_view utf8) const {
  // Characters the message's set cannot hold become '?': an alert must not be lost because an
  // LA name has a character a Latin-1 feed cannot carry.
  return hl7v2::escapeText(utf8, delimiters_, charset_);
}

std::string AlertSegments::encode(std::size_t index) const {
  const Segment& segment = segments_.at(index);
  if (segment.preEncoded) return segment.encoded;
  std::string out = segment.id;
  const auto emptyText = [](const std::string& s) { return s.empty(); };
  const auto emptyComponent = [&](const std::vector<std::string>& subs) {
    return usedLength(subs, emptyText) == 0;
  };
  const auto emptyRepetition = [&](const Components& c) { return usedLength(c, emptyComponent) == 0; };
  const auto emptyField = [&](const std::vector<Components>& r) {
    return usedLength(r, emptyRepetition) == 0;
  };
  const std::size_t fields = usedLength(segment.fields, emptyField);
  for (std::size_t f = 0; f < fields; ++f) {
    out += delimiters_.field;
    const auto& repetitions = segment.fields[f];
    const std::size_t reps = usedLength(repetitions, emptyRepetition);
    for (std::size_t r = 0; r < reps; ++r) {
      if (r > 0) out += delimiters_.repetition;
      const std::size_t comps = usedLength(repetitions[r], emptyComponent);
      for (std::size_t c = 0; c < comps; ++c) {
        if (c > 0) out += delimiters_.component;
        const auto& subs = repetitions[r][c];
        const std::size_t n = usedLength(subs, emptyText);
        for (std::size_t s = 0; s < n; ++s) {
          if (s > 0) out += delimiters_.subComponent;
          out += encodeValue(subs[s]);
        }
      }
    }
  }
  return out;
}

std::string AlertSegments::serialize() const {
  std::string out;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    out += encode(i);
    out += '\r';
  }
  return out;
}

void AlertSegments::truncate(std::size_t count) {
  if (count < segments_.size()) segments_.resize(count);
}

}  // namespace cpis::plugin

#include "engine/cli/hl7_json.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "engine/hl7v2/escaping.h"

namespace cpis::cli {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::vector<std::string_view> split(std::string_view text, char delim) {
  std::vector<std::string_view> parts;
  if (delim == '\0') {
    parts.push_back(text);
    return parts;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(delim, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

class JsonWriter {
 public:
  explicit JsonWriter(const hl7v2::Message& m) : m_(m), d_(m.delimiters()) {}

  Poco::Dynamic::Var primitive(std::string_view raw) const {
    if (raw == "\"\"") return Poco::Dynamic::Var();  // explicit null
    std::string text;
    (void)hl7v2::decodeValue(raw, d_, m_.charset(), text);
    return text;
  }

  // Splits on `delims[0]`; the parts split again on the remaining delimiters.
  // `delims` holds the component and sub-component separators still to split on.
  Poco::Dynamic::Var composite(std::string_view raw, std::string_view delims) const {
    if (delims.empty()) return primitive(raw);
    const auto parts = split(raw, delims.front());
    const std::string_view rest = delims.substr(1);
    // One part here: read it a level down, unless that level splits. A single component with
    // sub-components stays component "1", or its sub-components would read as components.
    if (parts.size() == 1 && (rest.empty() || split(raw, rest.front()).size() == 1)) {
      return composite(raw, rest);
    }
    Object::Ptr object = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (!parts[i].empty()) object->set(std::to_string(i + 1), composite(parts[i], rest));
    }
    return object;
  }

  Poco::Dynamic::Var field(std::string_view raw) const {
    const auto reps = split(raw, d_.repetition);
    const char below[2] = {d_.component, d_.subComponent};
    const std::string_view delims(below, 2);
    if (reps.size() == 1) return composite(raw, delims);
    Array::Ptr array = new Array;
    for (const auto rep : reps) array->add(composite(rep, delims));
    return array;
  }

  Object::Ptr message() const {
    Object::Ptr root = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    root->set("version", m_.version());
    root->set("type", m_.messageCode() + (m_.triggerEvent().empty() ? "" : "^" + m_.triggerEvent()));
    root->set("charset", m_.charset() == hl7v2::Charset::Ascii    ? "ASCII"
                         : m_.charset() == hl7v2::Charset::Latin1 ? "8859/1"
                                                                  : "UNICODE UTF-8");
    Array::Ptr segments = new Array;
    for (std::size_t i = 0; i < m_.segmentCount(); ++i) {
      Object::Ptr segment = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
      const std::string id(m_.segmentId(i));
      segment->set("segment", id);
      Object::Ptr fields = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
      const bool header = id == "MSH" || id == "BHS" || id == "FHS";
      for (std::uint32_t f = 1; f <= m_.fieldCount(i); ++f) {
        const std::string_view raw = m_.fieldRaw(i, f);
        if (raw.empty()) continue;
        const std::string key = id + "-" + std::to_string(f);
        if (header && f <= 2) {
          fields->set(key, std::string(raw));
        } else {
          fields->set(key, field(raw));
        }
      }
      segment->set("fields", fields);
      segments->add(segment);
    }
    root->set("segments", segments);
    return root;
  }

 private:
  const hl7v2::Message& m_;
  const hl7v2::Delimiters& d_;
};

}  // namespace

void writeJson(const hl7v2::Message& message, std::ostream& out) {
  JsonWriter(message).message()->stringify(out, 2);
  out << '\n';
}

}  // namespace cpis::cli

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpis::config {

// An element of a schema-valid document, in UTF-8, with where it is: the small tree the
// mapper reads instead of Xerces's DOM, so positions travel with the values and no XMLCh
// reaches the mapping code.
struct XmlElement {
  std::string name;  // local name; the namespace is the schema's (validation guarantees it)
  std::vector<std::pair<std::string, std::string>> attributes;  // as specified, in file order
  std::string text;  // character content, untrimmed (meaningful for simple-content elements)
  // Just past the start tag, as Xerces's locator reports it: the same place Xerces's own
  // validation messages point to.
  std::uint64_t line = 0;
  std::uint64_t column = 0;
  // Just past the end tag (for <a/>, the same as the start): where Xerces reports problems
  // with the element's content.
  std::uint64_t endLine = 0;
  std::uint64_t endColumn = 0;
  std::vector<XmlElement> children;

  const std::string* attribute(std::string_view attributeName) const noexcept {
    for (const auto& [key, value] : attributes) {
      if (key == attributeName) return &value;
    }
    return nullptr;
  }
  const XmlElement* child(std::string_view childName) const noexcept {
    for (const auto& element : children) {
      if (element.name == childName) return &element;
    }
    return nullptr;
  }
  std::vector<const XmlElement*> childrenNamed(std::string_view childName) const {
    std::vector<const XmlElement*> found;
    for (const auto& element : children) {
      if (element.name == childName) found.push_back(&element);
    }
    return found;
  }
};

}  // namespace cpis::config

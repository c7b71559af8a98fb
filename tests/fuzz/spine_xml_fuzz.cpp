// Fuzzes the XML reader that every CP-IS reply and query goes through before it is validated:
// any bytes as a document. Beyond "no crash, no hang, no out-of-bounds read" it checks that the
// tree hangs together (each element inside its parent, its text a part of its parent's, its
// span inside the input) and that each element, cut from the input or serialised on its own,
// reads back with the same name, namespace, attributes and text (what Xerces-C++ validates is
// what the engine then reads), and that the tree's size stays within a bound of the input's.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/cpis/spine_wire.h"

namespace {

namespace wire = cpis::cpis::wire;

// Aborts (a finding for libFuzzer) naming the check that failed.
#define require(condition) \
  do {                                                                     \
    if (!(condition)) {                                                    \
      std::fprintf(stderr, "spine_xml_fuzz.cpp:%d: %s\n", __LINE__, #condition); \
      std::abort();                                                        \
    }                                                                      \
  } while (false)

bool sameAttributes(wire::Node a, wire::Node b) {
  if (a->attributes.size() != b->attributes.size()) return false;
  for (std::size_t i = 0; i < a->attributes.size(); ++i) {
    const auto& x = a->attributes[i];
    const auto& y = b->attributes[i];
    if (x.name != y.name || x.ns != y.ns || x.value != y.value) return false;
  }
  return true;
}

// `text` read as a document whose root is `element` again.
void readsBackAs(const std::string& text, wire::Node element) {
  std::string error;
  const auto again = wire::XmlDocument::parse(text, error);
  if (!again) std::fprintf(stderr, "%s\n---\n%s\n---\n", error.c_str(), text.c_str());
  require(again.has_value());
  const wire::Node root = again->root();
  require(root->name == element->name && root->ns == element->ns);
  require(root->text == element->text);
  require(sameAttributes(root, element));
}

// `utf8`: the input is read as it is (no conversion from another encoding), so that the spans
// of elements nest as the elements do.
void check(std::string_view input, const wire::XmlDocument& document, wire::Node element, int depth, bool utf8) {
  require(depth < 1000);
  const auto span = document.span(element);
  if (span) require(span->first < span->second && span->second <= input.size() && input[span->first] == '<');
  for (const auto& a : element->attributes) {
    if (a.ns.empty()) require(wire::attribute(element, std::string(a.name).c_str()) == a.value);
  }
  if (const auto cut = wire::cut(input, document, element)) readsBackAs(*cut, element);
  readsBackAs(wire::serialise(element), element);
  const char* textEnd = element->text.data() + element->text.size();
  for (wire::Node child = element->firstChild; child != nullptr; child = child->nextSibling) {
    require(child->parent == element);
    require(child->text.data() >= element->text.data() && child->text.data() + child->text.size() <= textEnd);
    if (span && utf8) {
      const auto inner = document.span(child);
      require(inner.has_value() && inner->first > span->first && inner->second <= span->second);
    }
    check(input, document, child, depth + 1, utf8);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto document = wire::XmlDocument::parse(input, error);
  if (!document) {
    require(!error.empty());
    return 0;
  }
  // The tree's strings stay within a bound of the input whatever its shape or encoding.
  require(document->size() <= 4 * input.size() + 64);
  const wire::Node root = document->root();
  require(root != nullptr && root->parent == nullptr);
  check(input, *document, root, 0, wire::cut(input, *document, root).has_value());
  return 0;
}

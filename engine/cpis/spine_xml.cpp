#include "engine/cpis/spine_wire.h"

#include <climits>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "engine/core/assert.h"

// The XML half of spine_wire.h: writing through xmlTextWriter, reading libxml2 trees.
namespace cpis::cpis::wire {
namespace {

void ensureLibxml() {
  static const bool initialised = (xmlInitParser(), true);
  (void)initialised;
}

const xmlChar* x(const char* text) { return reinterpret_cast<const xmlChar*>(text); }

bool isAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string trim(std::string_view text) {
  while (!text.empty() && isAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isAsciiSpace(text.back())) text.remove_suffix(1);
  return std::string(text);
}

std::string asString(xmlChar* owned) {
  if (owned == nullptr) return {};
  std::string result(reinterpret_cast<const char*>(owned));
  xmlFree(owned);
  return result;
}

}  // namespace

// ---- writing ----------------------------------------------------------------------------

XmlWriter::XmlWriter() {
  ensureLibxml();
  buffer_ = xmlBufferCreate();
  CPIS_ASSERT(buffer_ != nullptr);
  writer_ = xmlNewTextWriterMemory(buffer_, 0);
  CPIS_ASSERT(writer_ != nullptr);
  CPIS_ASSERT(xmlTextWriterSetIndent(writer_, 1) >= 0);
  CPIS_ASSERT(xmlTextWriterSetIndentString(writer_, x("  ")) >= 0);
  CPIS_ASSERT(xmlTextWriterStartDocument(writer_, "1.0", "UTF-8", nullptr) >= 0);
}

XmlWriter::~XmlWriter() {
  if (writer_ != nullptr) xmlFreeTextWriter(writer_);
  xmlBufferFree(buffer_);
}

XmlWriter& XmlWriter::start(const char* name) {
  CPIS_ASSERT(xmlTextWriterStartElement(writer_, x(name)) >= 0);
  return *this;
}

XmlWriter& XmlWriter::attribute(const char* name, std::string_view value) {
  const std::string safe = xmlSafe(value);
  CPIS_ASSERT(xmlTextWriterWriteAttribute(writer_, x(name), x(safe.c_str())) >= 0);
  return *this;
}

XmlWriter& XmlWriter::text(std::string_view value) {
  const std::string safe = xmlSafe(value);
  if (!safe.empty()) CPIS_ASSERT(xmlTextWriterWriteString(writer_, x(safe.c_str())) >= 0);
  return *this;
}

XmlWriter& XmlWriter::end() {
  CPIS_ASSERT(xmlTextWriterEndElement(writer_) >= 0);
  return *this;
}

XmlWriter& XmlWriter::element(const char* name, std::string_view textValue) {
  return start(name).text(textValue).end();
}

XmlWriter& XmlWriter::empty(const char* name,
                            std::initializer_list<std::pair<const char*, std::string_view>> attributes) {
  start(name);
  for (const auto& [attributeName, value] : attributes) attribute(attributeName, value);
  return end();
}

std::string XmlWriter::finish() {
  CPIS_ASSERT(xmlTextWriterEndDocument(writer_) >= 0);
  xmlFreeTextWriter(writer_);  // flushes into buffer_
  writer_ = nullptr;
  return {reinterpret_cast<const char*>(xmlBufferContent(buffer_)), static_cast<std::size_t>(xmlBufferLength(buffer_))};
}

// ---- reading ----------------------------------------------------------------------------

std::optional<XmlDocument> XmlDocument::parse(std::string_view text, std::string& error) {
  ensureLibxml();
  if (text.size() > static_cast<std::size_t>(INT_MAX)) {
    error = "reply too large";
    return std::nullopt;
  }
  xmlParserCtxtPtr context = xmlNewParserCtxt();
  CPIS_ASSERT(context != nullptr);
  xmlDocPtr doc = xmlCtxtReadMemory(context, text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
  if (doc == nullptr) {
    const xmlError* last = xmlCtxtGetLastError(context);
    error = "not well-formed XML";
    if (last != nullptr && last->line > 0) error += " at line " + std::to_string(last->line);
    xmlFreeParserCtxt(context);
    return std::nullopt;
  }
  xmlFreeParserCtxt(context);
  XmlDocument document(doc);
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    error = "the document has a DTD (SOAP forbids them)";
    return std::nullopt;
  }
  if (xmlDocGetRootElement(doc) == nullptr) {
    error = "the document has no root element";
    return std::nullopt;
  }
  return document;
}

XmlDocument::XmlDocument(XmlDocument&& other) noexcept : doc_(other.doc_) { other.doc_ = nullptr; }

XmlDocument& XmlDocument::operator=(XmlDocument&& other) noexcept {
  if (this != &other) {
    if (doc_ != nullptr) xmlFreeDoc(doc_);
    doc_ = other.doc_;
    other.doc_ = nullptr;
  }
  return *this;
}

XmlDocument::~XmlDocument() {
  if (doc_ != nullptr) xmlFreeDoc(doc_);
}

Node XmlDocument::root() const { return xmlDocGetRootElement(doc_); }

std::string_view localName(Node node) {
  return node == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(node->name));
}

bool isElement(Node node, const char* ns, std::string_view name) {
  if (node == nullptr || node->type != XML_ELEMENT_NODE || localName(node) != name) return false;
  if (ns == nullptr) return true;
  return node->ns != nullptr && node->ns->href != nullptr &&
         std::string_view(reinterpret_cast<const char*>(node->ns->href)) == ns;
}

Node firstChild(Node parent) {
  if (parent == nullptr) return nullptr;
  for (Node node = parent->children; node != nullptr; node = node->next) {
    if (node->type == XML_ELEMENT_NODE) return node;
  }
  return nullptr;
}

Node child(Node parent, std::string_view name, const char* ns) {
  if (parent == nullptr) return nullptr;
  for (Node node = parent->children; node != nullptr; node = node->next) {
    if (isElement(node, ns, name)) return node;
  }
  return nullptr;
}

std::vector<Node> children(Node parent, std::string_view name, const char* ns) {
  std::vector<Node> found;
  if (parent == nullptr) return found;
  for (Node node = parent->children; node != nullptr; node = node->next) {
    if (isElement(node, ns, name)) found.push_back(node);
  }
  return found;
}

Node path(Node from, std::initializer_list<std::string_view> names) {
  Node node = from;
  for (const auto name : names) node = child(node, name);
  return node;
}

std::string attribute(Node node, const char* name) {
  if (node == nullptr) return {};
  return asString(xmlGetNoNsProp(node, x(name)));
}

std::string text(Node node) {
  if (node == nullptr) return {};
  return trim(asString(xmlNodeGetContent(node)));
}

std::string personName(Node name) {
  if (name == nullptr) return {};
  std::vector<std::string> parts;
  for (const char* part : {"prefix", "given", "family", "suffix"}) {
    for (const Node node : children(name, part)) {
      if (auto value = text(node); !value.empty()) parts.push_back(std::move(value));
    }
  }
  if (parts.empty()) return text(name);
  std::string joined;
  for (const auto& part : parts) {
    if (!joined.empty()) joined += ' ';
    joined += part;
  }
  return joined;
}

std::string serialise(Node element) {
  xmlDocPtr doc = xmlNewDoc(x("1.0"));
  CPIS_ASSERT(doc != nullptr);
  // Copying reaches back into the original tree for namespaces declared above `element` and
  // declares them on the copy's root.
  xmlNodePtr copy = xmlDocCopyNode(const_cast<xmlNodePtr>(element), doc, 1);
  CPIS_ASSERT(copy != nullptr);
  xmlDocSetRootElement(doc, copy);
  xmlChar* memory = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(doc, &memory, &size, "UTF-8");
  std::string result(reinterpret_cast<const char*>(memory), static_cast<std::size_t>(size));
  xmlFree(memory);
  xmlFreeDoc(doc);
  return result;
}

}  // namespace cpis::cpis::wire

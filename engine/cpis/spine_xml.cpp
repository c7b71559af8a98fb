#include "engine/cpis/spine_wire.h"

#include <algorithm>
#include <climits>
#include <functional>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>
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

// libxml2's own record of element positions (record_info) has each element's end right but
// not the start of one with content (2.9.14), so the start is taken here: when the start tag
// has been read, the parser stands on its closing '>' (or "/>"), and the '<' that opened it is
// the last one before (a start tag cannot hold a raw '<').
struct StartRecorder {
  std::vector<std::pair<const xmlNode*, std::size_t>> starts;  // element, offset of its '>'
};

void recordStart(void* context, const xmlChar* localName, const xmlChar* prefix, const xmlChar* uri,
                 int namespaceCount, const xmlChar** namespaces, int attributeCount, int defaultedCount,
                 const xmlChar** attributes) {
  xmlSAX2StartElementNs(context, localName, prefix, uri, namespaceCount, namespaces, attributeCount, defaultedCount,
                        attributes);
  const auto* parser = static_cast<xmlParserCtxtPtr>(context);
  auto* recorder = static_cast<StartRecorder*>(parser->_private);
  if (recorder == nullptr || parser->node == nullptr || parser->input == nullptr || parser->input->cur == nullptr ||
      parser->input->base == nullptr) {
    return;
  }
  recorder->starts.emplace_back(parser->node, static_cast<std::size_t>(parser->input->consumed) +
                                                  static_cast<std::size_t>(parser->input->cur - parser->input->base));
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
  xmlParserCtxtPtr context = xmlCreateMemoryParserCtxt(text.data(), static_cast<int>(text.size()));
  if (context == nullptr) {  // empty text (or no memory)
    error = "not well-formed XML";
    return std::nullopt;
  }
  xmlCtxtUseOptions(context, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
  // Each element's byte offsets, for cut(): ends from libxml2, starts from recordStart().
  StartRecorder recorder;
  context->record_info = 1;
  context->_private = &recorder;
  if (context->sax != nullptr && context->sax->initialized == XML_SAX2_MAGIC) context->sax->startElementNs = recordStart;
  xmlParseDocument(context);
  context->_private = nullptr;
  xmlDocPtr doc = context->myDoc;
  context->myDoc = nullptr;
  if (doc == nullptr || context->wellFormed == 0) {
    if (doc != nullptr) xmlFreeDoc(doc);
    const xmlError* last = xmlCtxtGetLastError(context);
    error = "not well-formed XML";
    if (last != nullptr && last->line > 0) error += " at line " + std::to_string(last->line);
    xmlClearNodeInfoSeq(&context->node_seq);  // xmlFreeParserCtxt() leaves it
    xmlFreeParserCtxt(context);
    return std::nullopt;
  }
  XmlDocument document(doc);
  document.spans_.reserve(recorder.starts.size());
  for (const auto& [node, tagEnd] : recorder.starts) {
    if (tagEnd >= text.size()) continue;
    const auto open = text.rfind('<', tagEnd);
    const xmlParserNodeInfo* info = xmlParserFindNodeInfo(context, const_cast<xmlNodePtr>(node));
    if (open == std::string_view::npos || info == nullptr || info->end_pos <= tagEnd || info->end_pos > text.size()) {
      continue;
    }
    document.spans_.push_back({node, open, static_cast<std::size_t>(info->end_pos)});
  }
  std::sort(document.spans_.begin(), document.spans_.end(),
            [](const Span& a, const Span& b) { return std::less<Node>()(a.node, b.node); });
  xmlClearNodeInfoSeq(&context->node_seq);
  xmlFreeParserCtxt(context);
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

XmlDocument::XmlDocument(XmlDocument&& other) noexcept : doc_(other.doc_), spans_(std::move(other.spans_)) {
  other.doc_ = nullptr;
}

XmlDocument& XmlDocument::operator=(XmlDocument&& other) noexcept {
  if (this != &other) {
    if (doc_ != nullptr) xmlFreeDoc(doc_);
    doc_ = other.doc_;
    spans_ = std::move(other.spans_);
    other.doc_ = nullptr;
  }
  return *this;
}

XmlDocument::~XmlDocument() {
  if (doc_ != nullptr) xmlFreeDoc(doc_);
}

std::optional<std::pair<std::size_t, std::size_t>> XmlDocument::span(Node element) const {
  const auto at = std::lower_bound(spans_.begin(), spans_.end(), element,
                                   [](const Span& s, Node node) { return std::less<Node>()(s.node, node); });
  if (at == spans_.end() || at->node != element) return std::nullopt;
  return std::make_pair(at->begin, at->end);
}

std::string_view XmlDocument::declaredEncoding() const {
  return doc_ == nullptr || doc_->encoding == nullptr ? std::string_view()
                                                       : std::string_view(reinterpret_cast<const char*>(doc_->encoding));
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

namespace {

bool isNameEnd(char c) { return isAsciiSpace(c) || c == '/' || c == '>'; }

void appendEscaped(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '"': out += "&quot;"; break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      default: out += c;
    }
  }
}

}  // namespace

std::optional<std::string> cut(std::string_view text, const XmlDocument& document, Node element) {
  if (element == nullptr || element->type != XML_ELEMENT_NODE) return std::nullopt;
  // Cut bytes are read as UTF-8 (they carry no declaration): only a UTF-8 document is cut.
  const std::string_view encoding = document.declaredEncoding();
  if (!encoding.empty() && xmlStrcasecmp(reinterpret_cast<const xmlChar*>(std::string(encoding).c_str()),
                                         x("UTF-8")) != 0) {
    return std::nullopt;
  }
  if (text.size() >= 2 && (static_cast<unsigned char>(text[0]) == 0xFE || static_cast<unsigned char>(text[0]) == 0xFF)) {
    return std::nullopt;  // UTF-16 by its byte-order mark
  }
  const auto span = document.span(element);
  if (!span) return std::nullopt;
  const std::string_view bytes = text.substr(span->first, span->second - span->first);
  // The span must be this element: '<' and its qualified name, and its own end.
  std::string name;
  if (element->ns != nullptr && element->ns->prefix != nullptr) {
    name = std::string(reinterpret_cast<const char*>(element->ns->prefix)) + ":";
  }
  name += reinterpret_cast<const char*>(element->name);
  if (bytes.size() < name.size() + 3 || bytes.front() != '<' || bytes.compare(1, name.size(), name) != 0 ||
      !isNameEnd(bytes[name.size() + 1]) || bytes.back() != '>') {
    return std::nullopt;
  }
  std::string_view beforeClose = bytes.substr(0, bytes.size() - 1);
  while (!beforeClose.empty() && isAsciiSpace(beforeClose.back())) beforeClose.remove_suffix(1);
  const std::string endTag = "</" + name;
  const bool endsOwnTag = beforeClose.size() >= endTag.size() &&
                          beforeClose.compare(beforeClose.size() - endTag.size(), endTag.size(), endTag) == 0;
  const bool emptyTag = beforeClose.size() >= 1 && beforeClose.back() == '/' && element->children == nullptr &&
                        bytes.find('>') == bytes.size() - 1;
  if (!endsOwnTag && !emptyTag) return std::nullopt;

  // The namespaces in scope that the element does not declare itself.
  std::string declarations;
  xmlNsPtr* inScope = xmlGetNsList(element->doc, element);
  for (xmlNsPtr* ns = inScope; ns != nullptr && *ns != nullptr; ++ns) {
    bool own = false;
    for (xmlNsPtr def = element->nsDef; def != nullptr && !own; def = def->next) own = def == *ns;
    if (own || (*ns)->href == nullptr) continue;
    if ((*ns)->prefix != nullptr && xmlStrEqual((*ns)->prefix, x("xml"))) continue;
    declarations += (*ns)->prefix == nullptr ? std::string(" xmlns=\"")
                                             : " xmlns:" + std::string(reinterpret_cast<const char*>((*ns)->prefix)) + "=\"";
    appendEscaped(declarations, reinterpret_cast<const char*>((*ns)->href));
    declarations += '"';
  }
  if (inScope != nullptr) xmlFree(inScope);

  std::string result;
  result.reserve(bytes.size() + declarations.size());
  result.append(bytes.substr(0, name.size() + 1));
  result += declarations;
  result.append(bytes.substr(name.size() + 1));
  return result;
}

}  // namespace cpis::cpis::wire

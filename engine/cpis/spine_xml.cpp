#include "engine/cpis/spine_wire.h"

#include <climits>
#include <cstdint>
#include <mutex>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include "engine/core/assert.h"

// The XML half of spine_wire.h: writing into a string, reading libxml2 trees.
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

// Each element's byte offsets in the text, for cut(). No record_info (libxml2 keeps that one
// sorted with a search and a memmove per element): the SAX2 element callbacks are wrapped and
// read the input cursor, which stands on the start tag's closing '>' (or the '/' of "/>") when
// the start is reported, and just past the end tag's '>' (or the "/>") when the end is. The
// '<' that opened the start tag is the last one before its '>' (a start tag cannot hold a raw
// '<'). Only positions in the document's own text are taken (not inside an entity's).
struct SpanRecorder {
  std::vector<XmlDocument::Span>* spans;
};

std::optional<std::size_t> cursor(const xmlParserCtxt* parser) {
  if (parser->inputNr != 1 || parser->input == nullptr || parser->input->cur == nullptr ||
      parser->input->base == nullptr || parser->input->cur < parser->input->base) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(parser->input->consumed) +
         static_cast<std::size_t>(parser->input->cur - parser->input->base);
}

void recordStart(void* context, const xmlChar* localName, const xmlChar* prefix, const xmlChar* uri,
                 int namespaceCount, const xmlChar** namespaces, int attributeCount, int defaultedCount,
                 const xmlChar** attributes) {
  xmlSAX2StartElementNs(context, localName, prefix, uri, namespaceCount, namespaces, attributeCount, defaultedCount,
                        attributes);
  auto* parser = static_cast<xmlParserCtxtPtr>(context);
  const auto* recorder = static_cast<const SpanRecorder*>(parser->_private);
  const auto at = cursor(parser);
  if (recorder == nullptr || parser->node == nullptr || parser->node->_private != nullptr || !at) return;
  recorder->spans->push_back({parser->node, *at, 0});  // the '>' for now; the '<' once parsed
  parser->node->_private = reinterpret_cast<void*>(static_cast<std::uintptr_t>(recorder->spans->size()));
}

void recordEnd(void* context, const xmlChar* localName, const xmlChar* prefix, const xmlChar* uri) {
  auto* parser = static_cast<xmlParserCtxtPtr>(context);
  const auto* recorder = static_cast<const SpanRecorder*>(parser->_private);
  const xmlNode* node = parser->node;  // xmlSAX2EndElementNs() pops it
  if (recorder != nullptr && node != nullptr && node->_private != nullptr) {
    const auto index = reinterpret_cast<std::uintptr_t>(node->_private) - 1;
    if (const auto at = cursor(parser); at && index < recorder->spans->size() && (*recorder->spans)[index].node == node) {
      (*recorder->spans)[index].end = *at;
    }
  }
  xmlSAX2EndElementNs(context, localName, prefix, uri);
}

}  // namespace

// ---- writing ----------------------------------------------------------------------------

namespace {

constexpr std::string_view kIndent = "  ";

// What libxml2's xmlTextWriter writes for text (xmlEncodeSpecialChars).
void appendText(std::string& out, std::string_view value) {
  std::size_t plain = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char* entity = nullptr;
    switch (value[i]) {
      case '<': entity = "&lt;"; break;
      case '>': entity = "&gt;"; break;
      case '&': entity = "&amp;"; break;
      case '"': entity = "&quot;"; break;
      case '\r': entity = "&#13;"; break;
      default: continue;
    }
    out.append(value.substr(plain, i - plain));
    out += entity;
    plain = i + 1;
  }
  out.append(value.substr(plain));
}

// What it writes for an attribute value (xmlBufAttrSerializeTxtContent, the document being
// UTF-8): markup, tab, line feed and carriage return as references.
void appendAttributeValue(std::string& out, std::string_view value) {
  std::size_t plain = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char* entity = nullptr;
    switch (value[i]) {
      case '\n': entity = "&#10;"; break;
      case '\r': entity = "&#13;"; break;
      case '\t': entity = "&#9;"; break;
      case '"': entity = "&quot;"; break;
      case '<': entity = "&lt;"; break;
      case '>': entity = "&gt;"; break;
      case '&': entity = "&amp;"; break;
      default: continue;
    }
    out.append(value.substr(plain, i - plain));
    out += entity;
    plain = i + 1;
  }
  out.append(value.substr(plain));
}

// Whether xmlSafe() would return `value` as it is: printable ASCII, tab, line feed, carriage
// return (most values are), so that the copy it makes can be skipped.
bool isPlainAscii(std::string_view value) {
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t' && u != '\n' && u != '\r') || u >= 0x7F) return false;
  }
  return true;
}

}  // namespace

XmlWriter::XmlWriter() {
  out_.reserve(8192);
  names_.reserve(512);
  open_.reserve(24);
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
}

void XmlWriter::indent(std::size_t depth) {
  for (std::size_t i = 0; i < depth; ++i) out_ += kIndent;
}

XmlWriter& XmlWriter::start(const char* name) {
  if (!open_.empty() && open_.back().startTagOpen) {
    out_ += ">\n";
    open_.back().startTagOpen = false;
  }
  const std::string_view qualified(name);
  open_.push_back({names_.size(), qualified.size(), true});
  names_ += qualified;
  indent(open_.size() - 1);
  out_ += '<';
  out_ += qualified;
  return *this;
}

XmlWriter& XmlWriter::attribute(const char* name, std::string_view value) {
  CPIS_ASSERT(!open_.empty() && open_.back().startTagOpen);
  out_ += ' ';
  out_ += name;
  out_ += "=\"";
  if (isPlainAscii(value)) appendAttributeValue(out_, value);
  else appendAttributeValue(out_, xmlSafe(value));
  out_ += '"';
  return *this;
}

XmlWriter& XmlWriter::text(std::string_view value) {
  CPIS_ASSERT(!open_.empty());
  std::string safe;
  if (!isPlainAscii(value)) {
    safe = xmlSafe(value);
    value = safe;
  }
  if (value.empty()) return *this;
  if (open_.back().startTagOpen) {
    out_ += '>';
    open_.back().startTagOpen = false;
  }
  indentEndTag_ = false;
  appendText(out_, value);
  return *this;
}

XmlWriter& XmlWriter::end() {
  CPIS_ASSERT(!open_.empty());
  const Open element = open_.back();
  if (element.startTagOpen) {
    out_ += "/>";
  } else {
    if (indentEndTag_) indent(open_.size() - 1);
    out_ += "</";
    out_.append(names_, element.nameAt, element.nameSize);
    out_ += '>';
  }
  indentEndTag_ = true;
  out_ += '\n';
  open_.pop_back();
  names_.resize(element.nameAt);
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
  while (!open_.empty()) end();
  return std::move(out_);
}

// ---- reading ----------------------------------------------------------------------------

// A libxml2 parser context kept by one thread. Its dictionary holds the names of every tree
// parsed with it (each tree holds a reference to it), so a tree must not be freed while the
// context parses: the mutex is held for both. A context whose dictionary has grown past
// kMaxNames (names are the sender's choice) is replaced; trees keep the old dictionary alive.
struct XmlDocument::Parser {
  static constexpr std::size_t kMaxNames = 20'000;

  std::mutex mutex;
  xmlParserCtxtPtr context = nullptr;

  Parser() = default;
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  ~Parser() {
    if (context != nullptr) xmlFreeParserCtxt(context);
  }

  static const std::shared_ptr<Parser>& forThisThread() {
    thread_local const std::shared_ptr<Parser> parser = std::make_shared<Parser>();
    return parser;
  }
};

std::optional<XmlDocument> XmlDocument::parse(std::string_view text, std::string& error) {
  ensureLibxml();
  if (text.empty()) {
    error = "not well-formed XML";
    return std::nullopt;
  }
  if (text.size() > static_cast<std::size_t>(INT_MAX)) {
    error = "reply too large";
    return std::nullopt;
  }
  const std::shared_ptr<Parser>& parser = Parser::forThisThread();
  // Each element's byte offsets, for cut(): from recordStart() and recordEnd().
  std::vector<Span> spans;
  spans.reserve(256);
  xmlDocPtr doc = nullptr;
  {
    const std::lock_guard lock(parser->mutex);
    if (parser->context != nullptr && static_cast<std::size_t>(xmlDictSize(parser->context->dict)) > Parser::kMaxNames) {
      xmlFreeParserCtxt(parser->context);
      parser->context = nullptr;
    }
    if (parser->context == nullptr) parser->context = xmlNewParserCtxt();
    xmlParserCtxtPtr context = parser->context;
    if (context == nullptr || context->sax == nullptr || context->sax->initialized != XML_SAX2_MAGIC) {
      error = "not well-formed XML";  // no memory
      return std::nullopt;
    }
    SpanRecorder recorder{&spans};
    context->_private = &recorder;
    context->sax->startElementNs = recordStart;
    context->sax->endElementNs = recordEnd;
    // Resets the context (not its SAX handler nor _private), then parses; nullptr if not well-formed.
    // NOBLANKS: the indentation between elements is not kept as text nodes (a tenth of a FOUND
    // reply's parse). A leaf's own text is kept, blank or not; so is mixed text, except blank
    // text between two child elements (<m><i>x</i> <i>y</i></m> reads "xy"): nothing in HL7 v3
    // that the engine reads is such mixed content.
    doc = xmlCtxtReadMemory(context, text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | XML_PARSE_COMPACT |
                                XML_PARSE_NOBLANKS);
    context->_private = nullptr;
    if (doc == nullptr || context->wellFormed == 0) {
      if (doc != nullptr) xmlFreeDoc(doc);
      const xmlError* last = xmlCtxtGetLastError(context);
      error = "not well-formed XML";
      if (last != nullptr && last->line > 0) error += " at line " + std::to_string(last->line);
      return std::nullopt;
    }
  }
  // Each start from the '>' recorded to the '<' before it; an element whose span is unknown
  // (or does not make sense) keeps none.
  for (Span& s : spans) {
    const std::size_t tagEnd = s.begin;
    const auto open = tagEnd < text.size() ? text.rfind('<', tagEnd) : std::string_view::npos;
    if (open == std::string_view::npos || s.end <= tagEnd || s.end > text.size()) {
      s.node = nullptr;
      s.begin = s.end = 0;
    } else {
      s.begin = open;
    }
  }
  XmlDocument document(doc, parser);
  document.spans_ = std::move(spans);
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

void XmlDocument::free() noexcept {
  if (doc_ == nullptr) return;
  if (parser_ != nullptr) {
    const std::lock_guard lock(parser_->mutex);
    xmlFreeDoc(doc_);
  } else {
    xmlFreeDoc(doc_);
  }
  doc_ = nullptr;
  parser_.reset();
}

XmlDocument::XmlDocument(XmlDocument&& other) noexcept
    : doc_(other.doc_), parser_(std::move(other.parser_)), spans_(std::move(other.spans_)) {
  other.doc_ = nullptr;
}

XmlDocument& XmlDocument::operator=(XmlDocument&& other) noexcept {
  if (this != &other) {
    free();
    doc_ = other.doc_;
    parser_ = std::move(other.parser_);
    spans_ = std::move(other.spans_);
    other.doc_ = nullptr;
  }
  return *this;
}

XmlDocument::~XmlDocument() { free(); }

std::optional<std::pair<std::size_t, std::size_t>> XmlDocument::span(Node element) const {
  if (element == nullptr || element->doc != doc_ || element->_private == nullptr) return std::nullopt;
  const auto index = reinterpret_cast<std::uintptr_t>(element->_private) - 1;
  if (index >= spans_.size() || spans_[index].node != element) return std::nullopt;
  return std::make_pair(spans_[index].begin, spans_[index].end);
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

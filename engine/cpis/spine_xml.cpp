#include "engine/cpis/spine_wire.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include "engine/core/assert.h"

// The XML half of spine_wire.h: writing into a string, reading into a compact tree.
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

// The tree as the document keeps it. Elements, attributes and declarations point into the
// strings here; every vector is complete before the first pointer is taken.
struct XmlDocument::Tree {
  std::string strings;  // names, prefixes, namespace URIs and attribute values, back to back
  std::string text;     // the document's text, in document order (each Element::text is a part)
  std::vector<Element> elements;  // in document order; the root first
  std::vector<Attribute> attributes;
  std::vector<NamespaceDeclaration> declarations;
  std::string encoding;
};

namespace {

// A string in Tree::strings while it still grows.
struct Piece {
  std::uint32_t at = 0, size = 0;
};

// What the parse callbacks build, by index, until the tree is complete.
struct Builder {
  struct Open {
    Piece name, prefix, ns;
    std::int32_t parent = -1, firstChild = -1, lastChild = -1, nextSibling = -1;
    std::uint32_t attributesFrom = 0, attributesTo = 0;
    std::uint32_t declarationsFrom = 0, declarationsTo = 0;
    std::size_t textFrom = 0, textTo = 0;
    std::size_t tagEnd = 0, end = 0;  // the start tag's '>' (or the "/>"'s '/'); just past the end
    bool positioned = false;
  };
  struct PieceAttribute {
    Piece name, prefix, ns, value;
  };
  struct PieceDeclaration {
    Piece prefix, uri;
  };

  std::string_view source;
  std::size_t limit = 0;  // for the tree's strings and text together
  std::unique_ptr<XmlDocument::Tree> tree = std::make_unique<XmlDocument::Tree>();
  std::vector<Open> elements;
  std::vector<PieceAttribute> attributes;
  std::vector<PieceDeclaration> declarations;
  std::vector<std::int32_t> stack;  // the open elements
  std::string blank;                // white space read in the innermost open element, not yet kept
  bool textSinceTag = false;        // text other than white space read since the last tag
  // Each namespace URI stored once: libxml2 gives the same pointer (its dictionary's) for the
  // same URI throughout a parse. Without this, elements alternating between two namespaces
  // would store a URI per element: memory the square of the document's size.
  std::unordered_map<const xmlChar*, Piece> uris;
  const xmlChar* lastUri = nullptr;
  Piece lastUriPiece;
  // Why the callbacks stopped the parse, if they did.
  enum class Stop : unsigned char { No, Dtd, UndeclaredPrefix, TooLarge } stop = Stop::No;

  Piece store(const xmlChar* value) {
    if (value == nullptr) return {};
    return store(reinterpret_cast<const char*>(value), std::strlen(reinterpret_cast<const char*>(value)));
  }
  Piece store(const char* value, std::size_t size) {
    makeRoom(size);
    const Piece piece{static_cast<std::uint32_t>(tree->strings.size()), static_cast<std::uint32_t>(size)};
    tree->strings.append(value, size);
    return piece;
  }
  // The tree's bytes stay within `limit` (a Piece is 32-bit): an encoding that takes more than
  // four times the bytes in UTF-8 (some iconv ones do) cannot grow it further. Throws, which
  // guarded() turns into a stopped parse.
  void makeRoom(std::size_t more) const {
    if (tree->strings.size() + tree->text.size() + more > limit) throw std::length_error("XML document too large");
  }
  void appendText(std::string_view chunk) {
    makeRoom(chunk.size());
    tree->text += chunk;
  }
  // A namespace URI: as an attribute value (it is one, in its declaration).
  Piece storeUri(const xmlChar* uri) {
    if (uri == nullptr) return {};
    if (uri == lastUri) return lastUriPiece;  // most elements are in their parent's namespace
    const auto [at, added] = uris.try_emplace(uri);
    if (added) at->second = storeValue(uri, uri + std::strlen(reinterpret_cast<const char*>(uri)));
    lastUri = uri;
    lastUriPiece = at->second;
    return lastUriPiece;
  }
  // An attribute value as libxml2 reports it without entity substitution: every reference is
  // resolved except that an '&' (from "&amp;" or "&#38;") stays "&#38;" for a later pass.
  Piece storeValue(const xmlChar* from, const xmlChar* to) {
    std::string_view value(reinterpret_cast<const char*>(from), static_cast<std::size_t>(to - from));
    makeRoom(value.size());
    const Piece piece{static_cast<std::uint32_t>(tree->strings.size()), 0};
    for (std::size_t amp = value.find("&#38;"); amp != std::string_view::npos; amp = value.find("&#38;")) {
      tree->strings.append(value.substr(0, amp + 1));
      value.remove_prefix(amp + 5);
    }
    tree->strings.append(value);
    return Piece{piece.at, static_cast<std::uint32_t>(tree->strings.size() - piece.at)};
  }

  void keepBlank() {
    appendText(blank);
    blank.clear();
  }
};

Builder& builderOf(void* context) {
  return *static_cast<Builder*>(static_cast<xmlParserCtxtPtr>(context)->_private);
}

// Where the parser's cursor stands in the document's own text (not inside an entity's): on the
// start tag's closing '>' (or the '/' of "/>") when a start is reported, just past the end
// tag's '>' (or the "/>") when the end is. The '<' that opened the start tag is the last one
// before its '>' (a start tag cannot hold a raw '<').
// Unknown when libxml2 reads a conversion of the text (another encoding than UTF-8): its
// offsets are then in the converted bytes.
std::optional<std::size_t> cursor(const xmlParserCtxt* parser) {
  if (parser->inputNr != 1 || parser->input == nullptr || parser->input->cur == nullptr ||
      parser->input->base == nullptr || parser->input->cur < parser->input->base ||
      (parser->input->buf != nullptr && parser->input->buf->encoder != nullptr)) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(parser->input->consumed) +
         static_cast<std::size_t>(parser->input->cur - parser->input->base);
}

void stopParse(void* context, Builder::Stop why) {
  builderOf(context).stop = why;
  xmlStopParser(static_cast<xmlParserCtxtPtr>(context));
}

// Runs a callback's work. An exception (no memory, or the tree past Builder::limit) must not
// cross libxml2's C frames: it stops the parse instead.
template <typename Work>
void guarded(void* context, Work&& work) noexcept {
  try {
    work(builderOf(context));
  } catch (...) {
    stopParse(context, Builder::Stop::TooLarge);
  }
}

// A prefix without a declaration: libxml2 reports a namespace error and goes on, with the
// element or attribute in no namespace. Xerces-C++ refuses such a document; so does this reader
// (else "p:a" would read as a plain attribute "a").
bool undeclaredPrefix(const xmlChar* prefix, const xmlChar* uri, int attributeCount, const xmlChar** attributes) {
  if (prefix != nullptr && uri == nullptr) return true;
  for (int i = 0; i < attributeCount; ++i) {
    if (attributes[5 * i + 1] != nullptr && attributes[5 * i + 2] == nullptr) return true;
  }
  return false;
}

void onStart(void* context, const xmlChar* localName, const xmlChar* prefix, const xmlChar* uri, int namespaceCount,
             const xmlChar** namespaces, int attributeCount, int /*defaultedCount*/, const xmlChar** attributes) {
  if (undeclaredPrefix(prefix, uri, attributeCount, attributes)) {
    return stopParse(context, Builder::Stop::UndeclaredPrefix);
  }
  guarded(context, [&](Builder& b) {
    if (b.textSinceTag) b.keepBlank();  // "x <i>": the space is the text's
    b.blank.clear();                    // white space alone before a child element is indentation
    b.textSinceTag = false;
    const auto index = static_cast<std::int32_t>(b.elements.size());
    Builder::Open& e = b.elements.emplace_back();
    e.name = b.store(localName);
    e.prefix = b.store(prefix);
    e.ns = b.storeUri(uri);
    e.declarationsFrom = static_cast<std::uint32_t>(b.declarations.size());
    for (int i = 0; i < namespaceCount; ++i) {
      b.declarations.push_back({b.store(namespaces[2 * i]), b.storeUri(namespaces[2 * i + 1])});
    }
    e.declarationsTo = static_cast<std::uint32_t>(b.declarations.size());
    e.attributesFrom = static_cast<std::uint32_t>(b.attributes.size());
    for (int i = 0; i < attributeCount; ++i) {
      const xmlChar** a = attributes + 5 * i;  // local name, prefix, URI, value, value end
      b.attributes.push_back({b.store(a[0]), b.store(a[1]), b.storeUri(a[2]), b.storeValue(a[3], a[4])});
    }
    e.attributesTo = static_cast<std::uint32_t>(b.attributes.size());
    e.textFrom = b.tree->text.size();
    if (const auto at = cursor(static_cast<xmlParserCtxtPtr>(context))) {
      e.tagEnd = *at;
      e.positioned = true;
    }
    if (!b.stack.empty()) {
      Builder::Open& parent = b.elements[static_cast<std::size_t>(b.stack.back())];
      e.parent = b.stack.back();
      if (parent.lastChild < 0) parent.firstChild = index;
      else b.elements[static_cast<std::size_t>(parent.lastChild)].nextSibling = index;
      parent.lastChild = index;
    }
    b.stack.push_back(index);
  });
}

void onEnd(void* context, const xmlChar*, const xmlChar*, const xmlChar*) {
  guarded(context, [&](Builder& b) {
    if (b.stack.empty()) return;
    Builder::Open& e = b.elements[static_cast<std::size_t>(b.stack.back())];
    if (e.firstChild < 0 || b.textSinceTag) b.keepBlank();  // a leaf's blank text is its value
    b.blank.clear();  // white space alone after the last child element is indentation
    b.textSinceTag = false;
    e.textTo = b.tree->text.size();
    if (const auto at = cursor(static_cast<xmlParserCtxtPtr>(context))) e.end = *at;
    else e.positioned = false;
    b.stack.pop_back();
  });
}

void onText(void* context, const xmlChar* characters, int size) {
  guarded(context, [&](Builder& b) {
    if (b.stack.empty() || size <= 0) return;
    const std::string_view chunk(reinterpret_cast<const char*>(characters), static_cast<std::size_t>(size));
    if (std::all_of(chunk.begin(), chunk.end(), isAsciiSpace)) {
      b.blank += chunk;  // kept only if text or the element's end follows, not a child element
      return;
    }
    b.keepBlank();
    b.appendText(chunk);
    b.textSinceTag = true;
  });
}

// A DOCTYPE: SOAP forbids one. The parse stops before its internal subset is read, so no
// entity it declares is ever expanded.
void onDtd(void* context, const xmlChar*, const xmlChar*, const xmlChar*) { stopParse(context, Builder::Stop::Dtd); }

void onEndDocument(void* context) {
  const auto* parser = static_cast<xmlParserCtxtPtr>(context);
  guarded(context, [&](Builder& b) {
    const xmlChar* encoding = parser->encoding;
    if (encoding == nullptr && parser->inputTab != nullptr && parser->inputNr > 0 && parser->inputTab[0] != nullptr) {
      encoding = parser->inputTab[0]->encoding;
    }
    if (encoding != nullptr) b.tree->encoding = reinterpret_cast<const char*>(encoding);
  });
}

// The tree from what the callbacks built: pieces become views, indexes pointers, and each
// start tag's '>' the '<' before it.
std::unique_ptr<const XmlDocument::Tree> finish(Builder& b) {
  XmlDocument::Tree& tree = *b.tree;
  const auto view = [&](Piece piece) { return std::string_view(tree.strings).substr(piece.at, piece.size); };
  tree.attributes.reserve(b.attributes.size());
  for (const auto& a : b.attributes) tree.attributes.push_back({view(a.name), view(a.prefix), view(a.ns), view(a.value)});
  tree.declarations.reserve(b.declarations.size());
  for (const auto& d : b.declarations) tree.declarations.push_back({view(d.prefix), view(d.uri)});
  tree.elements.resize(b.elements.size());
  const auto at = [&](std::int32_t index) -> Node {
    return index < 0 ? nullptr : &tree.elements[static_cast<std::size_t>(index)];
  };
  const std::string_view text(tree.text);
  for (std::size_t i = 0; i < b.elements.size(); ++i) {
    const Builder::Open& from = b.elements[i];
    Element& to = tree.elements[i];
    to.name = view(from.name);
    to.prefix = view(from.prefix);
    to.ns = view(from.ns);
    to.parent = at(from.parent);
    to.firstChild = at(from.firstChild);
    to.nextSibling = at(from.nextSibling);
    to.attributes = std::span<const Attribute>(tree.attributes).subspan(from.attributesFrom,
                                                                          from.attributesTo - from.attributesFrom);
    to.declarations = std::span<const NamespaceDeclaration>(tree.declarations)
                          .subspan(from.declarationsFrom, from.declarationsTo - from.declarationsFrom);
    to.text = text.substr(from.textFrom, from.textTo - from.textFrom);
    const auto open = from.tagEnd < b.source.size() ? b.source.rfind('<', from.tagEnd) : std::string_view::npos;
    if (from.positioned && open != std::string_view::npos && from.end > from.tagEnd && from.end <= b.source.size()) {
      to.begin = open;
      to.end = from.end;
    }
  }
  return std::move(b.tree);
}

void quiet(void*, const char*, ...) {}

// A libxml2 parser context kept by one thread, whose callbacks are the Builder's. A context
// whose dictionary has grown past kMaxNames (names are the sender's choice) is replaced. The
// trees own their strings: nothing they hold is in the dictionary.
struct ThreadParser {
  static constexpr std::size_t kMaxNames = 20'000;

  xmlParserCtxtPtr context = nullptr;

  ThreadParser() = default;
  ThreadParser(const ThreadParser&) = delete;
  ThreadParser& operator=(const ThreadParser&) = delete;
  ~ThreadParser() {
    if (context != nullptr) xmlFreeParserCtxt(context);
  }

  xmlParserCtxtPtr get() {
    if (context != nullptr && static_cast<std::size_t>(xmlDictSize(context->dict)) > kMaxNames) {
      xmlFreeParserCtxt(context);
      context = nullptr;
    }
    if (context == nullptr) {
      // libxml2 writes some problems (an encoder's, for one) to this thread's generic error
      // handler, stderr by default, whatever the parse options say: a reply's bytes are not for
      // the log. What the parse refuses is in the error parse() returns.
      xmlSetGenericErrorFunc(nullptr, quiet);
      context = xmlNewParserCtxt();
      if (context == nullptr || context->sax == nullptr || context->sax->initialized != XML_SAX2_MAGIC) return nullptr;
      xmlSAXHandler& sax = *context->sax;
      sax.startElementNs = onStart;
      sax.endElementNs = onEnd;
      sax.characters = onText;
      sax.ignorableWhitespace = onText;
      sax.cdataBlock = nullptr;  // CDATA sections arrive as text (XML_PARSE_NOCDATA)
      sax.comment = nullptr;
      sax.processingInstruction = nullptr;
      sax.reference = nullptr;
      sax.internalSubset = onDtd;
      sax.externalSubset = onDtd;
      sax.startDocument = nullptr;  // no libxml2 document: the Builder's tree is the only one
      sax.endDocument = onEndDocument;
    }
    return context;
  }

  static ThreadParser& forThisThread() {
    thread_local ThreadParser parser;
    return parser;
  }
};

}  // namespace

std::optional<XmlDocument> XmlDocument::parse(std::string_view text, std::string& error) {
  ensureLibxml();
  if (text.empty()) {
    error = "not well-formed XML";
    return std::nullopt;
  }
  // The tree's strings and text are at most the text's size and each namespace URI once more
  // (UTF-8), and are held to four times the text (Builder::makeRoom) for one converted from an
  // encoding that takes more bytes in UTF-8; Piece offsets are 32-bit.
  if (text.size() > static_cast<std::size_t>(INT_MAX) || text.size() > UINT32_MAX / 8) {
    error = "reply too large";
    return std::nullopt;
  }
  xmlParserCtxtPtr context = ThreadParser::forThisThread().get();
  if (context == nullptr) {
    error = "not well-formed XML";  // no memory
    return std::nullopt;
  }
  Builder builder;
  builder.source = text;
  builder.limit = 4 * text.size() + 64;
  builder.elements.reserve(256);
  builder.attributes.reserve(256);
  builder.tree->strings.reserve(text.size() / 2);
  builder.tree->text.reserve(text.size() / 8);
  context->_private = &builder;
  // Resets the context (not its SAX handler nor _private), then parses. No document comes back
  // (the callbacks build the tree); whether the text was well-formed is the context's to say.
  // Blank text is the callbacks' to judge (not XML_PARSE_NOBLANKS, which would put back
  // libxml2's handler for it).
  xmlDocPtr doc = xmlCtxtReadMemory(context, text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
  context->_private = nullptr;
  if (doc != nullptr) xmlFreeDoc(doc);  // not expected: no startDocument callback makes one
  switch (builder.stop) {
    case Builder::Stop::No: break;
    case Builder::Stop::Dtd: error = "the document has a DTD (SOAP forbids them)"; return std::nullopt;
    case Builder::Stop::UndeclaredPrefix: {
      error = "not namespace-well-formed XML (a prefix is not declared)";
      const xmlError* last = xmlCtxtGetLastError(context);
      if (last != nullptr && last->line > 0) error += " at line " + std::to_string(last->line);
      return std::nullopt;
    }
    case Builder::Stop::TooLarge: error = "the document is too large to read"; return std::nullopt;
  }
  // A namespace error (an undeclared prefix, say) leaves the text well-formed to libxml2: the
  // element has no namespace here, and Xerces-C++ refuses it when it validates.
  if (context->wellFormed == 0 || !builder.stack.empty()) {
    const xmlError* last = xmlCtxtGetLastError(context);
    error = "not well-formed XML";
    if (last != nullptr && last->line > 0) error += " at line " + std::to_string(last->line);
    return std::nullopt;
  }
  if (builder.elements.empty()) {
    error = "the document has no root element";
    return std::nullopt;
  }
  return XmlDocument(finish(builder));
}

XmlDocument::XmlDocument(std::unique_ptr<const Tree> tree) : tree_(std::move(tree)) {}
XmlDocument::XmlDocument(XmlDocument&& other) noexcept = default;
XmlDocument& XmlDocument::operator=(XmlDocument&& other) noexcept = default;
XmlDocument::~XmlDocument() = default;

std::optional<std::pair<std::size_t, std::size_t>> XmlDocument::span(Node element) const {
  if (element == nullptr || tree_ == nullptr || tree_->elements.empty()) return std::nullopt;
  const Element* first = tree_->elements.data();
  if (std::less<>()(element, first) || !std::less<>()(element, first + tree_->elements.size())) return std::nullopt;
  if (element->end == 0) return std::nullopt;
  return std::make_pair(element->begin, element->end);
}

std::size_t XmlDocument::size() const {
  return tree_ == nullptr ? 0 : tree_->strings.size() + tree_->text.size();
}

std::string_view XmlDocument::declaredEncoding() const {
  return tree_ == nullptr ? std::string_view() : std::string_view(tree_->encoding);
}

Node XmlDocument::root() const {
  return tree_ == nullptr || tree_->elements.empty() ? nullptr : tree_->elements.data();
}

std::string_view localName(Node node) { return node == nullptr ? std::string_view() : node->name; }

bool isElement(Node node, const char* ns, std::string_view name) {
  if (node == nullptr || node->name != name) return false;
  return ns == nullptr || node->ns == ns;
}

Node firstChild(Node parent) { return parent == nullptr ? nullptr : parent->firstChild; }

Node nextSibling(Node node) { return node == nullptr ? nullptr : node->nextSibling; }

Node child(Node parent, std::string_view name, const char* ns) {
  for (Node node = firstChild(parent); node != nullptr; node = node->nextSibling) {
    if (isElement(node, ns, name)) return node;
  }
  return nullptr;
}

std::vector<Node> children(Node parent, std::string_view name, const char* ns) {
  std::vector<Node> found;
  for (Node node = firstChild(parent); node != nullptr; node = node->nextSibling) {
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
  for (const Attribute& a : node->attributes) {
    if (a.ns.empty() && a.prefix.empty() && a.name == name) return std::string(a.value);
  }
  return {};
}

std::string text(Node node) { return node == nullptr ? std::string() : trim(node->text); }

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

namespace {

bool isNameEnd(char c) { return isAsciiSpace(c) || c == '/' || c == '>'; }

void appendQualified(std::string& out, std::string_view prefix, std::string_view name) {
  if (!prefix.empty()) {
    out += prefix;
    out += ':';
  }
  out += name;
}

// ' xmlns="uri"' or ' xmlns:prefix="uri"'.
void appendDeclaration(std::string& out, const NamespaceDeclaration& declaration) {
  out += " xmlns";
  if (!declaration.prefix.empty()) {
    out += ':';
    out += declaration.prefix;
  }
  out += "=\"";
  appendAttributeValue(out, declaration.uri);
  out += '"';
}

// The namespace declarations in scope at `element` that it does not make itself, as
// attributes to add to its start tag: the nearest declaration of each prefix.
std::string inheritedDeclarations(Node element) {
  std::vector<std::string_view> seen;  // prefixes, "" the default namespace
  for (const auto& own : element->declarations) seen.push_back(own.prefix);
  std::string declarations;
  for (Node ancestor = element->parent; ancestor != nullptr; ancestor = ancestor->parent) {
    for (const auto& declaration : ancestor->declarations) {
      if (declaration.prefix == "xml" || std::find(seen.begin(), seen.end(), declaration.prefix) != seen.end()) continue;
      seen.push_back(declaration.prefix);
      appendDeclaration(declarations, declaration);
    }
  }
  return declarations;
}

// The element as XML: its own text between its children, where it was.
void serialiseElement(std::string& out, Node element, std::string_view extraDeclarations) {
  out += '<';
  appendQualified(out, element->prefix, element->name);
  for (const auto& declaration : element->declarations) appendDeclaration(out, declaration);
  out += extraDeclarations;
  for (const auto& a : element->attributes) {
    out += ' ';
    appendQualified(out, a.prefix, a.name);
    out += "=\"";
    appendAttributeValue(out, a.value);
    out += '"';
  }
  if (element->firstChild == nullptr && element->text.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  const char* textAt = element->text.data();
  for (Node node = element->firstChild; node != nullptr; node = node->nextSibling) {
    appendText(out, std::string_view(textAt, static_cast<std::size_t>(node->text.data() - textAt)));
    serialiseElement(out, node, {});
    textAt = node->text.data() + node->text.size();
  }
  appendText(out, std::string_view(textAt, static_cast<std::size_t>(element->text.data() + element->text.size() - textAt)));
  out += "</";
  appendQualified(out, element->prefix, element->name);
  out += '>';
}

}  // namespace

std::string serialise(Node element) {
  CPIS_ASSERT(element != nullptr);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  serialiseElement(out, element, inheritedDeclarations(element));
  out += '\n';
  return out;
}

std::optional<std::string> cut(std::string_view text, const XmlDocument& document, Node element) {
  if (element == nullptr) return std::nullopt;
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
  appendQualified(name, element->prefix, element->name);
  if (bytes.size() < name.size() + 3 || bytes.front() != '<' || bytes.compare(1, name.size(), name) != 0 ||
      !isNameEnd(bytes[name.size() + 1]) || bytes.back() != '>') {
    return std::nullopt;
  }
  std::string_view beforeClose = bytes.substr(0, bytes.size() - 1);
  while (!beforeClose.empty() && isAsciiSpace(beforeClose.back())) beforeClose.remove_suffix(1);
  const std::string endTag = "</" + name;
  const bool endsOwnTag = beforeClose.size() >= endTag.size() &&
                          beforeClose.compare(beforeClose.size() - endTag.size(), endTag.size(), endTag) == 0;
  const bool emptyTag = beforeClose.size() >= 1 && beforeClose.back() == '/' && element->firstChild == nullptr &&
                        element->text.empty() && bytes.find('>') == bytes.size() - 1;
  if (!endsOwnTag && !emptyTag) return std::nullopt;

  const std::string declarations = inheritedDeclarations(element);
  std::string result;
  result.reserve(bytes.size() + declarations.size());
  result.append(bytes.substr(0, name.size() + 1));
  result += declarations;
  result.append(bytes.substr(name.size() + 1));
  return result;
}

}  // namespace cpis::cpis::wire

#pragma once

// Internal to engine/cpis: the pieces the CP-IS message builders and parsers share (names and
// OIDs on the wire, v3 time formats, UUIDs, an XML writer, and a small reader over libxml2).

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/domain/cpis_record.h"


namespace cpis::cpis::wire {

// Namespaces.
inline constexpr const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";  // SOAP 1.1
inline constexpr const char* kWsaNs = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
inline constexpr const char* kHl7Ns = "urn:hl7-org:v3";
inline constexpr const char* kNpfitNs = "NPFIT:HL7:Localisation";
inline constexpr const char* kNaspNs = "http://national.carerecords.nhs.uk/schema/";  // Spine fault detail

// OIDs and fixed values.
inline constexpr const char* kInteractionOid = "2.16.840.1.113883.2.1.3.2.4.12";
inline constexpr const char* kAsidOid = "1.2.826.0.1285.0.2.0.107";         // SDS accredited system id
inline constexpr const char* kSdsUserOid = "1.2.826.0.1285.0.2.0.65";       // SDS user id (Smartcard)
inline constexpr const char* kSdsRoleProfileOid = "1.2.826.0.1285.0.2.0.67";
inline constexpr const char* kJobRoleOid = "1.2.826.0.1285.0.2.1.104";      // SDS job role codes
inline constexpr const char* kOdsOrganisationOid = "2.16.840.1.113883.2.1.3.2.4.19.1";
inline constexpr const char* kOdsSiteOid = "2.16.840.1.113883.2.1.3.2.4.19.2";
inline constexpr const char* kNhsNumberOid = "2.16.840.1.113883.2.1.4.1";
inline constexpr const char* kTemplateOid = "2.16.840.1.113883.2.1.3.2.4.18.16";  // npfitlc:contentId
inline constexpr const char* kSpineErrorOid = "2.16.840.1.113883.2.1.3.2.4.17.42";  // unconfirmed
// HL7StandardVersionCode for what we send (unconfirmed: the public schema also lists the
// CP-IS DMS releases "v3CPI_DMSv1.0:RC1".."RC3").
inline constexpr const char* kVersionCode = "V3NPfIT3.0";

// ---- text -------------------------------------------------------------------------------

// `text` as XML can carry it: invalid UTF-8 becomes U+FFFD, control characters other than
// tab, line feed and carriage return are dropped.
std::string xmlSafe(std::string_view text);
// Text from the wire made fit for logs and LookupFailure::detail: runs of eight or more
// digits (NHS numbers, dates of birth) masked, line breaks flattened, at most `limit` bytes.
std::string logSafe(std::string_view text, std::size_t limit = 160);

// ---- times ------------------------------------------------------------------------------

std::string formatTimestamp(domain::Instant at);  // YYYYMMDDhhmmss, UTC
std::string formatDate(domain::Date date);        // YYYYMMDD
// v3 TS: YYYYMMDD[hh[mm[ss[.f...]]]][+|-hhmm]; without an offset the time is taken as UTC.
std::optional<domain::Instant> parseTimestamp(std::string_view text);
// The calendar date of a v3 TS (its first eight digits, never shifted through a time zone).
std::optional<domain::Date> parseDate(std::string_view text);

// ---- ids --------------------------------------------------------------------------------

std::string randomUuid();                                          // version 4, upper case
std::string derivedUuid(std::string_view seed, std::uint64_t index);  // stable for (seed, index)
bool isUuid(std::string_view text);                                // 8-4-4-4-12 hex, upper case
std::string stripUuidPrefix(std::string_view text);                // "uuid:X" -> X, upper-cased

// ---- writing ----------------------------------------------------------------------------

// Writes indented UTF-8 XML into a string, escaping every value (after xmlSafe()). The layout
// is libxml2's xmlTextWriter with indentation: the declaration, one element a line indented by
// two spaces a level, an element holding text on one line, an empty element as <name .../>.
// Names are qualified names as they appear ("SOAP:Envelope", "id"); namespaces are declared
// with attribute("xmlns:p", uri).
class XmlWriter {
 public:
  XmlWriter();
  XmlWriter(const XmlWriter&) = delete;
  XmlWriter& operator=(const XmlWriter&) = delete;

  XmlWriter& start(const char* name);
  XmlWriter& attribute(const char* name, std::string_view value);  // only while the start tag is open
  XmlWriter& text(std::string_view value);
  XmlWriter& end();
  XmlWriter& element(const char* name, std::string_view textValue);  // <name>text</name>
  // <name a1="v1" .../>: an empty element with attributes, the shape of most v3 data types.
  XmlWriter& empty(const char* name, std::initializer_list<std::pair<const char*, std::string_view>> attributes);
  std::string finish();  // closes what is open; the writer is spent

 private:
  struct Open {
    std::size_t nameAt, nameSize;  // in names_
    bool startTagOpen;             // attributes may still come; no content yet
  };
  void indent(std::size_t depth);
  std::string out_;
  std::string names_;  // the open elements' names, back to back
  std::vector<Open> open_;
  bool indentEndTag_ = true;  // the last thing written ended a line
};

// ---- reading ----------------------------------------------------------------------------

struct Element;
using Node = const Element*;

// An attribute as read: names and value after the parser's normalisation and references.
struct Attribute {
  std::string_view name;    // local name
  std::string_view prefix;  // "" without one
  std::string_view ns;      // namespace URI, "" for none (the usual HL7 v3 attribute)
  std::string_view value;
};

// A namespace declaration on an element: xmlns="uri" (prefix "") or xmlns:prefix="uri".
struct NamespaceDeclaration {
  std::string_view prefix;
  std::string_view uri;
};

// An element of a parsed document. Only elements are nodes: text is kept as each element's
// text (its own and its descendants', in document order), comments and processing
// instructions are dropped. Everything points into the XmlDocument it came from.
struct Element {
  std::string_view name;    // local name
  std::string_view prefix;  // "" without one
  std::string_view ns;      // namespace URI, "" for none
  Node parent = nullptr;
  Node firstChild = nullptr;   // the first child element
  Node nextSibling = nullptr;  // the next element with the same parent
  std::span<const Attribute> attributes;
  std::span<const NamespaceDeclaration> declarations;  // made on this element's own start tag
  std::string_view text;  // every character of the element's content, descendants included, untrimmed
  // Where the element lies in the text it was parsed from: [begin, end), from the '<' of its
  // start tag to the '>' that ends it; end == 0 when not known.
  std::size_t begin = 0, end = 0;
};

// A parsed document. DTDs are refused (SOAP forbids them), nothing is fetched from the network;
// so is a prefix without a namespace declaration (as Xerces-C++ refuses it).
// libxml2 reads the text (each thread with a parser context of its own, kept from one
// document to the next so that its dictionary of names stays warm) and reports what it reads
// to callbacks that build this compact tree: a few blocks of memory a document, where libxml2's
// own tree is a block or more for every element, attribute and text, most of a large reply's
// parse. The document owns its tree and can be moved and destroyed on any thread.
//
// Blank text: white space between elements (indentation) is not kept. A leaf's text is kept,
// blank or not; so is text mixed with elements unless it is blank (<m><i>x</i> <i>y</i></m>
// reads "xy"): nothing in HL7 v3 that the engine reads is such mixed content.
class XmlDocument {
 public:
  // nullopt and `error` set ("not well-formed XML at line N", never quoting content).
  static std::optional<XmlDocument> parse(std::string_view text, std::string& error);
  XmlDocument(XmlDocument&& other) noexcept;
  XmlDocument& operator=(XmlDocument&& other) noexcept;
  ~XmlDocument();

  Node root() const;
  // Where `element` lies in the text it was parsed from: [begin, end), from the '<' of its
  // start tag to the '>' that ends it. nullopt if not known (a document in another encoding than
  // UTF-8 is read converted), or not an element of this document.
  std::optional<std::pair<std::size_t, std::size_t>> span(Node element) const;
  // The encoding the document declared ("" if none).
  std::string_view declaredEncoding() const;
  // The bytes of names, values and text the tree holds: for UTF-8, at most the text's size and
  // each namespace URI once more, whatever the document's shape; never more than four times
  // the text and 64 bytes (a document that would take more, converted from an encoding with
  // more bytes in UTF-8, is refused as too large).
  std::size_t size() const;

  struct Tree;  // what parse() builds (internal)

 private:
  explicit XmlDocument(std::unique_ptr<const Tree> tree);
  std::unique_ptr<const Tree> tree_;  // on the heap: Elements point into it, and a move keeps it
};

std::string_view localName(Node node);
bool isElement(Node node, const char* ns, std::string_view name);  // ns nullptr = any namespace
Node firstChild(Node parent);                                      // the first element child
Node nextSibling(Node node);                                       // the next element, same parent
Node child(Node parent, std::string_view name, const char* ns = kHl7Ns);
std::vector<Node> children(Node parent, std::string_view name, const char* ns = kHl7Ns);
Node path(Node from, std::initializer_list<std::string_view> names);  // hl7 children, nullptr if absent
std::string attribute(Node node, const char* name);                   // empty if absent or node is null
std::string text(Node node);  // the element's text, descendants included, trimmed
// An HL7 v3 person name (PN) as one line: prefix, given names, family name, suffix.
std::string personName(Node name);
// The element and its subtree as a document on its own (namespace declarations in scope
// carried onto it), what SpineSchemas::validate() expects.
std::string serialise(Node element);
// The same document, cut from `text` (what `document` was parsed from) as it was received: the
// element's bytes, with the namespace declarations in scope from its ancestors added to its
// start tag. No copy of the tree and no second serialisation, which is why validation uses it.
// nullopt when it cannot be cut (the position is unknown, or the text is not UTF-8): use
// serialise() then.
std::optional<std::string> cut(std::string_view text, const XmlDocument& document, Node element);

}  // namespace cpis::cpis::wire

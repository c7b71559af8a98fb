#include "engine/cpis/spine_wire.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/unit/cpis/spine_samples.h"

namespace wire = cpis::cpis::wire;
namespace samples = cpis::test::samples;

BOOST_AUTO_TEST_SUITE(spine_wire)

BOOST_AUTO_TEST_CASE(timestamps_are_written_in_utc_to_the_second) {
  BOOST_TEST(wire::formatTimestamp(samples::utc(2025, 6, 12, 13, 30, 5) + std::chrono::milliseconds(999)) ==
             "20250612133005");
  BOOST_TEST(wire::formatTimestamp(samples::utc(2024, 2, 29, 0, 0, 0)) == "20240229000000");
  BOOST_TEST(wire::formatDate(samples::date(2025, 3, 1)) == "20250301");
}

struct TimeCase {
  const char* text;
  bool valid;
  cpis::domain::Instant expected;
};
std::ostream& operator<<(std::ostream& os, const TimeCase& c) { return os << c.text; }

BOOST_AUTO_TEST_CASE(timestamps_are_read_in_every_v3_precision_and_offset) {
  const std::vector<TimeCase> cases{
      {"20250612133005", true, samples::utc(2025, 6, 12, 13, 30, 5)},
      {"20250612", true, samples::utc(2025, 6, 12, 0, 0, 0)},
      {"202506121330", true, samples::utc(2025, 6, 12, 13, 30, 0)},
      {"20250612143005+0100", true, samples::utc(2025, 6, 12, 13, 30, 5)},  // BST
      {"20250612083005-0500", true, samples::utc(2025, 6, 12, 13, 30, 5)},
      {"20250612133005.250", true, samples::utc(2025, 6, 12, 13, 30, 5) + std::chrono::milliseconds(250)},
      {"20250612003005+0100", true, samples::utc(2025, 6, 11, 23, 30, 5)},  // the UTC day before
      {"2025061", false, {}},
      {"20250231", false, {}},
      {"20250612250000", false, {}},
      {"2025-06-12", false, {}},
      {"20250612133005Z", false, {}},
      {"20250612133005+01", true, samples::utc(2025, 6, 12, 12, 30, 5)},
      {"20250612133005+1", false, {}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c) {
      const auto parsed = wire::parseTimestamp(c.text);
      BOOST_TEST(parsed.has_value() == c.valid);
      if (parsed && c.valid) BOOST_TEST((*parsed == c.expected));
    }
  }
}

BOOST_AUTO_TEST_CASE(dates_are_the_first_eight_digits_never_shifted) {
  // A plan date written at midnight with an offset is still that calendar day.
  BOOST_TEST((wire::parseDate("202503010000") == samples::date(2025, 3, 1)));
  BOOST_TEST((wire::parseDate("20250301000000+0100") == samples::date(2025, 3, 1)));
  BOOST_TEST(!wire::parseDate("20250230").has_value());
  BOOST_TEST(!wire::parseDate("2025030").has_value());
}

BOOST_AUTO_TEST_CASE(uuids) {
  BOOST_TEST(wire::isUuid(wire::randomUuid()));
  BOOST_TEST(wire::derivedUuid("seed", 1) == wire::derivedUuid("seed", 1));
  BOOST_TEST(wire::derivedUuid("seed", 1) != wire::derivedUuid("seed", 2));
  BOOST_TEST(wire::isUuid(wire::derivedUuid("seed", 7)));
  BOOST_TEST(!wire::isUuid("3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44"));
  BOOST_TEST(wire::stripUuidPrefix(" uuid:3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44 ") == "3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44");
}

BOOST_AUTO_TEST_CASE(log_safe_text_masks_long_digit_runs_and_is_bounded) {
  BOOST_TEST(wire::logSafe("NHS number 9990000018 born 20150403, code 1712") ==
             "NHS number ********** born ********, code 1712");
  BOOST_TEST(wire::logSafe("line\none") == "line one");
  BOOST_TEST(wire::logSafe(std::string(500, 'a'), 10) == "aaaaaaaaaa...");
  // Never cut inside a character.
  BOOST_TEST(wire::logSafe("\xC3\xA9\xC3\xA9\xC3\xA9", 3) == "\xC3\xA9...");
}

BOOST_AUTO_TEST_CASE(xml_safe_text_keeps_valid_utf8_and_drops_the_rest) {
  BOOST_TEST(wire::xmlSafe("plain & <text>") == "plain & <text>");  // escaping is the writer's
  BOOST_TEST(wire::xmlSafe("tab\tnew\nline") == "tab\tnew\nline");
  BOOST_TEST(wire::xmlSafe("bell\x07") == "bell");
  BOOST_TEST(wire::xmlSafe("\xC3\x85lesund") == "\xC3\x85lesund");
  BOOST_TEST(wire::xmlSafe("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
  BOOST_TEST(wire::xmlSafe("bad \xC0\xAF") == "bad \xEF\xBF\xBD\xEF\xBF\xBD");        // overlong
  BOOST_TEST(wire::xmlSafe("cut \xE2\x82") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");        // truncated
  BOOST_TEST(wire::xmlSafe("sur \xED\xA0\x80") == "sur \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

// The layout and escaping are libxml2's xmlTextWriter's (indented), which the writer replaced:
// the golden files and the simulator's schema validation depend on them.
BOOST_AUTO_TEST_CASE(writer_indents_like_xml_text_writer_and_escapes_every_value) {
  wire::XmlWriter out;
  out.start("p:root").attribute("xmlns:p", "urn:p").attribute("a", "1 < 2 & \"q\" > 'x'\t\n\r\xC3\x85\x07");
  out.element("p:text", "a < b & c > \"d\" 'e'\r\n\tf \xE2\x82\xAC\x01");
  out.element("p:empty", "");
  out.element("p:controls", "\x01\x02");  // nothing left after xmlSafe(): an empty element
  out.empty("p:id", {{"root", "1.2.3"}, {"extension", "\xFF"}});
  out.start("p:outer").start("p:inner").text("t").end();
  const std::string xml = out.finish();  // closes p:outer and p:root
  BOOST_TEST(xml ==
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<p:root xmlns:p=\"urn:p\" a=\"1 &lt; 2 &amp; &quot;q&quot; &gt; 'x'&#9;&#10;&#13;\xC3\x85\">\n"
             "  <p:text>a &lt; b &amp; c &gt; &quot;d&quot; 'e'&#13;\n\tf \xE2\x82\xAC</p:text>\n"
             "  <p:empty/>\n"
             "  <p:controls/>\n"
             "  <p:id root=\"1.2.3\" extension=\"\xEF\xBF\xBD\"/>\n"
             "  <p:outer>\n"
             "    <p:inner>t</p:inner>\n"
             "  </p:outer>\n"
             "</p:root>\n");
  // What was written reads back as it was given (after xmlSafe()).
  std::string error;
  const auto document = wire::XmlDocument::parse(xml, error);
  BOOST_TEST_REQUIRE(document.has_value(), error);
  const wire::Node root = document->root();
  BOOST_TEST(wire::attribute(root, "a") == "1 < 2 & \"q\" > 'x'\t\n\r\xC3\x85");
  const wire::Node text = wire::child(root, "text", "urn:p");
  BOOST_TEST(wire::text(text) == "a < b & c > \"d\" 'e'\r\n\tf \xE2\x82\xAC");
}

// Indentation between elements is not kept as text nodes (it costs a FOUND reply a tenth of its
// parse); text inside a leaf, blank or not, and text mixed with elements are kept as sent.
BOOST_AUTO_TEST_CASE(indentation_is_dropped_and_every_leafs_text_is_kept) {
  const std::string xml =
      "<r xmlns=\"urn:hl7-org:v3\">\n  <a>\n    <b root=\"1\"/>\n  </a>\n  <t>  two  words </t>\n"
      "  <blank>   </blank>\n  <m>x <i>y</i> z</m>\n</r>\n";
  std::string error;
  const auto document = wire::XmlDocument::parse(xml, error);
  BOOST_TEST_REQUIRE(document.has_value(), error);
  const wire::Node root = document->root();
  const wire::Node a = wire::child(root, "a");
  BOOST_TEST_REQUIRE(a != nullptr);
  BOOST_TEST(wire::firstChild(a) == wire::child(a, "b"));
  BOOST_TEST(wire::nextSibling(wire::firstChild(a)) == nullptr);
  BOOST_TEST(a->text.empty());  // the indentation around <b> is not kept
  const wire::Node t = wire::child(root, "t");
  BOOST_TEST(t->text == "  two  words ");
  BOOST_TEST(wire::text(t) == "two  words");
  const wire::Node blank = wire::child(root, "blank");
  BOOST_TEST(blank->text == "   ");  // a leaf's blank text is its value
  BOOST_TEST(wire::text(wire::child(root, "m")) == "x y z");
  const auto cut = wire::cut(xml, *document, a);
  BOOST_TEST_REQUIRE(cut.has_value());
  BOOST_TEST(*cut == "<a xmlns=\"urn:hl7-org:v3\">\n    <b root=\"1\"/>\n  </a>");
}

// What the tree keeps of a document: references resolved in text and attributes (an '&'
// included), text mixed with elements in order, namespaced attributes apart from plain ones,
// and no comments or processing instructions.
BOOST_AUTO_TEST_CASE(the_tree_keeps_text_attributes_and_namespaces_as_read) {
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?pi x?><r xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"urn:xsi\">"
      "<v a=\"x &amp; y &#38; z&lt;\" b=\"t&#9;u\" c=\"t\tu\" xsi:type=\"II\"/><!-- c --><m>x &amp; <i>y</i> z<![CDATA[ <w> ]]></m>"
      "<n>&#x41;&#66;</n><g><i>1</i> <i>2</i></g></r>";
  std::string error;
  const auto document = wire::XmlDocument::parse(xml, error);
  BOOST_TEST_REQUIRE(document.has_value(), error);
  BOOST_TEST(document->declaredEncoding() == "UTF-8");
  const wire::Node root = document->root();
  BOOST_TEST(root->ns == wire::kHl7Ns);
  BOOST_TEST(root->parent == nullptr);
  const wire::Node v = wire::child(root, "v");
  BOOST_TEST_REQUIRE(v != nullptr);
  BOOST_TEST(v->parent == root);
  BOOST_TEST(wire::attribute(v, "a") == "x & y & z<");
  BOOST_TEST(wire::attribute(v, "b") == "t\tu");  // a character reference is kept
  BOOST_TEST(wire::attribute(v, "c") == "t u");   // a tab as such is normalised
  BOOST_TEST(wire::attribute(v, "type").empty());  // xsi:type is not a plain attribute
  BOOST_TEST_REQUIRE(v->attributes.size() == 4u);
  BOOST_TEST(v->attributes[3].ns == "urn:xsi");
  BOOST_TEST(v->attributes[3].prefix == "xsi");
  BOOST_TEST(wire::text(wire::child(root, "m")) == "x & y z <w>");
  BOOST_TEST(wire::text(wire::child(root, "n")) == "AB");
  BOOST_TEST(wire::text(wire::child(root, "g")) == "12");  // blank text between elements is not kept
  BOOST_TEST(wire::children(root, "v").size() == 1u);
  BOOST_TEST(wire::child(root, "v", "urn:other") == nullptr);
  BOOST_TEST(wire::child(root, "v", nullptr) == v);
  const auto amp = wire::XmlDocument::parse("<q:r xmlns:q=\"urn:a&amp;b\" q:x=\"1\"/>", error);
  BOOST_TEST_REQUIRE(amp.has_value(), error);
  BOOST_TEST(amp->root()->ns == "urn:a&b");  // a namespace URI is read as the value it is
  BOOST_TEST(amp->root()->attributes[0].ns == "urn:a&b");
  BOOST_TEST(amp->root()->declarations[0].uri == "urn:a&b");
  // serialise() writes the text back in its place between the children.
  const std::string alone = wire::serialise(wire::child(root, "m"));
  BOOST_TEST(alone == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<m xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"urn:xsi\">"
                      "x &amp; <i>y</i> z &lt;w&gt; </m>\n");
  const auto again = wire::XmlDocument::parse(wire::serialise(v), error);
  BOOST_TEST_REQUIRE(again.has_value(), error);
  BOOST_TEST(wire::attribute(again->root(), "a") == "x & y & z<");
  BOOST_TEST(again->root()->attributes[3].ns == "urn:xsi");
  BOOST_TEST(wire::attribute(again->root(), "b") == "t\tu");
}

// SOAP forbids a DTD: the parse stops at the DOCTYPE, before any entity it declares is read.
BOOST_AUTO_TEST_CASE(a_document_with_a_dtd_is_refused_before_its_entities_are_read) {
  std::string error;
  BOOST_TEST(!wire::XmlDocument::parse("<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>", error).has_value());
  BOOST_TEST(error == "the document has a DTD (SOAP forbids them)");
  BOOST_TEST(!wire::XmlDocument::parse("<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>", error).has_value());
  BOOST_TEST(error == "the document has a DTD (SOAP forbids them)");
  BOOST_TEST(!wire::XmlDocument::parse("<r><a></r>", error).has_value());
  BOOST_TEST(error.rfind("not well-formed XML at line 1", 0) == 0);
  BOOST_TEST(!wire::XmlDocument::parse("<?xml version=\"1.0\"?>", error).has_value());
  BOOST_TEST(!error.empty());
  BOOST_TEST(!wire::XmlDocument::parse("<r>&undeclared;</r>", error).has_value());
  // A prefix without a declaration: libxml2 would read on with the element or attribute in no
  // namespace ("p:a" as a plain "a"); Xerces-C++ refuses such a document, and so does this reader.
  for (const char* xml : {"<r p:a=\"1\" a=\"2\"/>", "<r>\n<p:fault/></r>"}) {
    BOOST_TEST_CONTEXT(xml) {
      BOOST_TEST(!wire::XmlDocument::parse(xml, error).has_value());
      BOOST_TEST(error.rfind("not namespace-well-formed XML (a prefix is not declared) at line ", 0) == 0, error);
    }
  }
}

// The tree's strings grow with the document, not with its square: each namespace URI is kept
// once however many elements are in it (elements alternating between two long namespaces used
// to store the URI once per element).
BOOST_AUTO_TEST_CASE(the_trees_size_is_bounded_by_the_documents) {
  const std::string longUri(2000, 'u');
  std::string xml = "<r xmlns:a=\"urn:a" + longUri + "\" xmlns:b=\"urn:b" + longUri + "\">";
  for (int i = 0; i < 2000; ++i) xml += "<a:x b:y=\"1\"/><b:x/>";
  xml += "</r>";
  std::string error;
  const auto document = wire::XmlDocument::parse(xml, error);
  BOOST_TEST_REQUIRE(document.has_value(), error);
  BOOST_TEST(document->size() <= 2 * xml.size());
  const wire::Node first = wire::firstChild(document->root());
  BOOST_TEST(first->ns == "urn:a" + longUri);
  BOOST_TEST(first->attributes[0].ns == "urn:b" + longUri);
  BOOST_TEST(wire::nextSibling(first)->ns == "urn:b" + longUri);
  // An encoding whose bytes take more than four bytes each in UTF-8 (TSCII: up to twelve) is
  // held to four times the text: such a document is refused as too large.
  const std::string tscii = "<?xml version=\"1.0\" encoding=\"TSCII\"?><r>" + std::string(200, '\x82') + "</r>";
  BOOST_TEST(!wire::XmlDocument::parse(tscii, error).has_value());
  BOOST_TEST(error == "the document is too large to read");
}

// A document in another encoding is read converted to UTF-8: its elements' positions in the
// text are not known (libxml2's offsets are in the converted bytes), so none is given.
BOOST_AUTO_TEST_CASE(a_document_in_another_encoding_has_no_spans) {
  const std::string xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<r xmlns=\"urn:hl7-org:v3\"><name>Ren\xe9"
                          "e</name><a/></r>";
  std::string error;
  const auto document = wire::XmlDocument::parse(xml, error);
  BOOST_TEST_REQUIRE(document.has_value(), error);
  BOOST_TEST(wire::text(wire::child(document->root(), "name")) == "Ren\xC3\xA9" "e");
  BOOST_TEST(!document->span(document->root()).has_value());
  BOOST_TEST(!document->span(wire::child(document->root(), "a")).has_value());
  BOOST_TEST(!wire::cut(xml, *document, wire::child(document->root(), "a")).has_value());
  BOOST_TEST(wire::serialise(wire::child(document->root(), "name")).find("Ren\xC3\xA9" "e") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(spans_cover_each_element_from_its_start_tag_to_its_end) {
  const std::string xml = "<?xml version=\"1.0\"?>\n<a x=\"&gt;\"><b/><!-- <c> --><c y='/>'>t<![CDATA[<d>]]></c ><e\n/></a>";
  std::string error;
  const auto document = wire::XmlDocument::parse(xml, error);
  BOOST_TEST_REQUIRE(document.has_value(), error);
  const auto spanText = [&](wire::Node node) -> std::string {
    const auto span = document->span(node);
    return span ? xml.substr(span->first, span->second - span->first) : std::string("(none)");
  };
  const wire::Node a = document->root();
  BOOST_TEST(spanText(a) == xml.substr(xml.find("<a ")));
  BOOST_TEST(spanText(wire::child(a, "b", nullptr)) == "<b/>");
  BOOST_TEST(spanText(wire::child(a, "c", nullptr)) == "<c y='/>'>t<![CDATA[<d>]]></c >");
  BOOST_TEST(spanText(wire::child(a, "e", nullptr)) == "<e\n/>");
  // An element of another document has no span in this one.
  const auto other = wire::XmlDocument::parse(xml, error);
  BOOST_TEST_REQUIRE(other.has_value(), error);
  BOOST_TEST(!document->span(other->root()).has_value());
}

// Each thread parses with a context it keeps; a document may still be freed on another thread
// while the one that parsed it goes on parsing (the tree's names are in that context's dictionary).
BOOST_AUTO_TEST_CASE(documents_can_be_freed_on_another_thread_while_their_parser_goes_on) {
  const std::string xml = "<?xml version=\"1.0\"?><r xmlns=\"urn:hl7-org:v3\"><id root=\"1\"/><name>n</name></r>";
  std::vector<std::optional<wire::XmlDocument>> parsed;
  std::string error;
  for (int i = 0; i < 200; ++i) parsed.push_back(wire::XmlDocument::parse(xml, error));
  std::atomic<bool> done{false};
  std::thread freer([&] {
    for (auto& document : parsed) document.reset();
    done = true;
  });
  int ok = 0;
  for (int i = 0; i < 2000 || !done; ++i) {
    const auto document = wire::XmlDocument::parse(xml, error);
    if (document && wire::text(wire::child(document->root(), "name")) == "n") ++ok;
    if (i > 1'000'000) break;
  }
  freer.join();
  BOOST_TEST(ok >= 2000);
  // A document parsed on a thread that has ended is still whole.
  std::optional<wire::XmlDocument> orphan;
  std::thread([&] { orphan = wire::XmlDocument::parse(xml, error); }).join();
  BOOST_TEST_REQUIRE(orphan.has_value());
  BOOST_TEST(wire::attribute(wire::child(orphan->root(), "id"), "root") == "1");
  const auto cut = wire::cut(xml, *orphan, wire::child(orphan->root(), "id"));
  BOOST_TEST_REQUIRE(cut.has_value());
  BOOST_TEST(*cut == "<id xmlns=\"urn:hl7-org:v3\" root=\"1\"/>");
}

BOOST_AUTO_TEST_SUITE_END()

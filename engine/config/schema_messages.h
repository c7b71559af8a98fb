#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config_error.h"
#include "engine/config/xml_element.h"

namespace cpis::config {

// What the schema says that helps explain a problem, read once from the compiled grammar.
struct SchemaFacts {
  std::string targetNamespace;
  std::string rootElement;  // the schema's one global element
  // Allowed values of enumerated types: {element, attribute}, attribute empty for the text.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> enumerations;
};

// A problem as Xerces reported it; well-formedness errors are kept whatever else happens.
struct ReportedProblem {
  ConfigProblem problem;
  bool wellFormedness = false;
};

// Turns Xerces's validation messages into ones a person editing the file can act on.
// Xerces says "value 'xml' not in enumeration" at the end of a start tag, and reports an
// element out of place at its parent's end tag; with the (partial) tree and its positions this
// names the attribute or element, lists allowed values, moves content-model problems to the
// element concerned, and drops the echoes one mistake causes (an undeclared element's
// attributes). A document in another namespace gets one problem saying so. Messages it does
// not recognise pass unchanged. `rootNamespace` is the namespace of the document's root.
// The result is in file order.
std::vector<ConfigProblem> clarifySchemaProblems(const std::vector<ReportedProblem>& reported,
                                                 const XmlElement& root, const std::string& rootNamespace,
                                                 const SchemaFacts& facts);

}  // namespace cpis::config

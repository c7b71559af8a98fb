#include "engine/config/schema_validator.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLGrammarPool.hpp>
#include <xercesc/framework/XMLGrammarPoolImpl.hpp>
#include <xercesc/framework/psvi/XSAttributeDeclaration.hpp>
#include <xercesc/framework/psvi/XSAttributeUse.hpp>
#include <xercesc/framework/psvi/XSComplexTypeDefinition.hpp>
#include <xercesc/framework/psvi/XSElementDeclaration.hpp>
#include <xercesc/framework/psvi/XSModel.hpp>
#include <xercesc/framework/psvi/XSModelGroup.hpp>
#include <xercesc/framework/psvi/XSNamedMap.hpp>
#include <xercesc/framework/psvi/XSParticle.hpp>
#include <xercesc/framework/psvi/XSSimpleTypeDefinition.hpp>
#include <xercesc/sax/Locator.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/OutOfMemoryException.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/TransService.hpp>
#include <xercesc/util/XMLException.hpp>
#include <xercesc/util/XMLUni.hpp>
#include <xercesc/validators/common/Grammar.hpp>

#include "engine/config/schema_messages.h"

namespace cpis::config {

namespace {

using xercesc::XMLUni;

std::string toUtf8(const XMLCh* text, XMLSize_t length) {
  if (text == nullptr || length == 0) return {};
  const xercesc::TranscodeToStr utf8(text, length, "UTF-8");
  return {reinterpret_cast<const char*>(utf8.str()), utf8.length()};
}

std::string toUtf8(const XMLCh* text) {
  return text == nullptr ? std::string() : toUtf8(text, xercesc::XMLString::stringLen(text));
}

// Xerces wants the name of an in-memory document as XMLCh; it is what its messages would cite
// (ours cite the name given to us directly).
xercesc::TranscodeFromStr toXmlCh(const std::string& text) {
  return {reinterpret_cast<const XMLByte*>(text.data()), text.size(), "UTF-8"};
}

// Records every warning and error instead of stopping at the first, so one run of the loader
// reports everything. Fatal errors (not well-formed XML) end the parse inside Xerces anyway.
class ProblemCollector : public xercesc::DefaultHandler {
 public:
  explicit ProblemCollector(const std::string& documentName) : documentName_(documentName) {}

  void warning(const xercesc::SAXParseException& e) override { record(e, false); }
  void error(const xercesc::SAXParseException& e) override { record(e, false); }
  void fatalError(const xercesc::SAXParseException& e) override { record(e, true); }

  const std::vector<ReportedProblem>& reported() const noexcept { return reported_; }
  void add(ConfigProblem problem) { reported_.push_back({std::move(problem), true}); }

 private:
  void record(const xercesc::SAXParseException& e, bool fatal) {
    reported_.push_back(
        {{documentName_, e.getLineNumber(), e.getColumnNumber(), toUtf8(e.getMessage())}, fatal});
  }

  const std::string& documentName_;
  std::vector<ReportedProblem> reported_;
};

// Builds the XmlElement tree while Xerces validates, taking each element's position from the
// locator as its start tag completes.
class TreeBuilder final : public ProblemCollector {
 public:
  using ProblemCollector::ProblemCollector;

  void setDocumentLocator(const xercesc::Locator* const locator) override { locator_ = locator; }

  void startElement(const XMLCh* const uri, const XMLCh* const localName, const XMLCh* const /*qName*/,
                    const xercesc::Attributes& attributes) override {
    XmlElement element;
    element.name = toUtf8(localName);
    if (open_.empty()) rootNamespace_ = toUtf8(uri);
    if (locator_ != nullptr) {
      element.line = locator_->getLineNumber();
      element.column = locator_->getColumnNumber();
    }
    for (XMLSize_t i = 0; i < attributes.getLength(); ++i) {
      element.attributes.emplace_back(toUtf8(attributes.getLocalName(i)), toUtf8(attributes.getValue(i)));
    }
    // Pointers on the stack stay valid: only the innermost open element gains children, and
    // none of its earlier children is still open.
    if (open_.empty()) {
      root_ = std::move(element);
      open_.push_back(&root_);
    } else {
      open_.back()->children.push_back(std::move(element));
      open_.push_back(&open_.back()->children.back());
    }
  }

  void endElement(const XMLCh* const /*uri*/, const XMLCh* const /*localName*/,
                  const XMLCh* const /*qName*/) override {
    if (open_.empty()) return;
    if (locator_ != nullptr) {
      open_.back()->endLine = locator_->getLineNumber();
      open_.back()->endColumn = locator_->getColumnNumber();
    }
    open_.pop_back();
  }

  void characters(const XMLCh* const chars, const XMLSize_t length) override {
    if (!open_.empty()) open_.back()->text += toUtf8(chars, length);
  }

  const XmlElement& root() const noexcept { return root_; }
  XmlElement takeRoot() { return std::move(root_); }
  const std::string& rootNamespace() const noexcept { return rootNamespace_; }

 private:
  std::string rootNamespace_;
  const xercesc::Locator* locator_ = nullptr;
  XmlElement root_;
  std::vector<XmlElement*> open_;
};

using ReaderPtr = std::unique_ptr<xercesc::SAX2XMLReader>;

// The settings that make the reader validate against the cached grammar and nothing else.
ReaderPtr makeReader(xercesc::XMLGrammarPool& pool) {
  ReaderPtr reader(
      xercesc::XMLReaderFactory::createXMLReader(xercesc::XMLPlatformUtils::fgMemoryManager, &pool));
  reader->setFeature(XMLUni::fgSAX2CoreNameSpaces, true);
  reader->setFeature(XMLUni::fgXercesSchema, true);
  // "Always": with dynamic (auto) validation an undeclared root silently validates nothing.
  reader->setFeature(XMLUni::fgSAX2CoreValidation, true);
  reader->setFeature(XMLUni::fgXercesDynamic, false);
  reader->setFeature(XMLUni::fgXercesSchemaFullChecking, false);
  reader->setFeature(XMLUni::fgXercesIdentityConstraintChecking, true);
  reader->setFeature(XMLUni::fgXercesUseCachedGrammarInParse, true);
  reader->setFeature(XMLUni::fgXercesLoadSchema, false);  // ignore xsi:schemaLocation hints
  reader->setFeature(XMLUni::fgXercesSkipDTDValidation, true);
  reader->setFeature(XMLUni::fgXercesLoadExternalDTD, false);
  reader->setFeature(XMLUni::fgXercesDisableDefaultEntityResolution, true);  // no file or network reads
  reader->setFeature(XMLUni::fgXercesValidationErrorAsFatal, false);         // keep going: report all
  return reader;
}

ConfigProblem unexpected(const std::string& name, const XMLCh* message) {
  return {name, 0, 0, "cannot parse: " + toUtf8(message)};
}

std::vector<std::string> enumerationOf(xercesc::XSTypeDefinition* type) {
  std::vector<std::string> values;
  if (type == nullptr || type->getTypeCategory() != xercesc::XSTypeDefinition::SIMPLE_TYPE) return values;
  const auto* enumeration = static_cast<xercesc::XSSimpleTypeDefinition*>(type)->getLexicalEnumeration();
  if (enumeration == nullptr) return values;
  for (XMLSize_t i = 0; i < enumeration->size(); ++i) values.push_back(toUtf8(enumeration->elementAt(i)));
  return values;
}

// Walks the element declarations reachable from `element`, recording enumerated values.
void collectFacts(xercesc::XSElementDeclaration& element, SchemaFacts& facts,
                  std::vector<std::string>& seen) {
  const std::string name = toUtf8(element.getName());
  if (std::find(seen.begin(), seen.end(), name) != seen.end()) return;
  seen.push_back(name);
  xercesc::XSTypeDefinition* type = element.getTypeDefinition();
  if (auto values = enumerationOf(type); !values.empty()) facts.enumerations[{name, ""}] = std::move(values);
  if (type == nullptr || type->getTypeCategory() != xercesc::XSTypeDefinition::COMPLEX_TYPE) return;
  auto* complex = static_cast<xercesc::XSComplexTypeDefinition*>(type);
  if (auto* uses = complex->getAttributeUses()) {
    for (XMLSize_t i = 0; i < uses->size(); ++i) {
      xercesc::XSAttributeDeclaration* attribute = uses->elementAt(i)->getAttrDeclaration();
      if (auto values = enumerationOf(attribute->getTypeDefinition()); !values.empty()) {
        facts.enumerations[{name, toUtf8(attribute->getName())}] = std::move(values);
      }
    }
  }
  std::vector<xercesc::XSParticle*> pending;
  if (auto* particle = complex->getParticle()) pending.push_back(particle);
  while (!pending.empty()) {
    xercesc::XSParticle* particle = pending.back();
    pending.pop_back();
    if (particle->getTermType() == xercesc::XSParticle::TERM_ELEMENT) {
      collectFacts(*particle->getElementTerm(), facts, seen);
    } else if (particle->getTermType() == xercesc::XSParticle::TERM_MODELGROUP) {
      if (auto* particles = particle->getModelGroupTerm()->getParticles()) {
        for (XMLSize_t i = 0; i < particles->size(); ++i) pending.push_back(particles->elementAt(i));
      }
    }
  }
}

SchemaFacts readFacts(xercesc::XMLGrammarPool& pool) {
  SchemaFacts facts;
  bool changed = false;
  xercesc::XSModel* model = pool.getXSModel(changed);
  auto* elements =
      model == nullptr ? nullptr : model->getComponents(xercesc::XSConstants::ELEMENT_DECLARATION);
  std::vector<std::string> seen;
  for (XMLSize_t i = 0; elements != nullptr && i < elements->getLength(); ++i) {
    auto* element = static_cast<xercesc::XSElementDeclaration*>(elements->item(i));
    if (facts.rootElement.empty()) {
      facts.rootElement = toUtf8(element->getName());
      facts.targetNamespace = toUtf8(element->getNamespace());
    }
    collectFacts(*element, facts, seen);
  }
  return facts;
}

}  // namespace

struct SchemaValidator::Grammar {
  std::unique_ptr<xercesc::XMLGrammarPool> pool;
  // Caps entity expansion (a "billion laughs" DOCTYPE) for every parse.
  std::unique_ptr<xercesc::SecurityManager> securityManager;
  SchemaFacts facts;
};

SchemaValidator::SchemaValidator(std::string_view schemaText, const std::string& schemaName)
    : grammar_(std::make_unique<Grammar>()) {
  grammar_->pool = std::make_unique<xercesc::XMLGrammarPoolImpl>(xercesc::XMLPlatformUtils::fgMemoryManager);
  grammar_->securityManager = std::make_unique<xercesc::SecurityManager>();
  grammar_->securityManager->setEntityExpansionLimit(1000);

  ProblemCollector collector(schemaName);
  const auto systemId = toXmlCh(schemaName);
  xercesc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(schemaText.data()), schemaText.size(),
                                    systemId.str());
  const xercesc::Grammar* loaded = nullptr;
  try {
    const ReaderPtr reader = makeReader(*grammar_->pool);
    reader->setErrorHandler(&collector);
    loaded = reader->loadGrammar(source, xercesc::Grammar::SchemaGrammarType, /*toCache=*/true);
  } catch (const xercesc::XMLException& e) {
    collector.add(unexpected(schemaName, e.getMessage()));
  } catch (const xercesc::SAXException& e) {
    collector.add(unexpected(schemaName, e.getMessage()));
  } catch (const xercesc::OutOfMemoryException& e) {
    collector.add(unexpected(schemaName, e.getMessage()));
  }
  std::vector<ConfigProblem> problems;
  for (const auto& item : collector.reported()) problems.push_back(item.problem);
  if (loaded == nullptr && problems.empty())
    problems.push_back({schemaName, 0, 0, "is not a usable XML Schema"});
  if (!problems.empty()) throw ConfigError(std::move(problems));
  // From here on nothing can add to the pool: every later error is the document's.
  grammar_->pool->lockPool();
  grammar_->facts = readFacts(*grammar_->pool);
}

SchemaValidator::~SchemaValidator() = default;

std::optional<XmlElement> SchemaValidator::parse(std::string_view documentText,
                                                 const std::string& documentName,
                                                 std::vector<ConfigProblem>& problems) const {
  TreeBuilder builder(documentName);
  const auto systemId = toXmlCh(documentName);
  xercesc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(documentText.data()),
                                    documentText.size(), systemId.str());
  try {
    const ReaderPtr reader = makeReader(*grammar_->pool);
    reader->setProperty(XMLUni::fgXercesSecurityManager, grammar_->securityManager.get());
    reader->setContentHandler(&builder);
    reader->setErrorHandler(&builder);
    reader->parse(source);
  } catch (const xercesc::XMLException& e) {
    builder.add(unexpected(documentName, e.getMessage()));
  } catch (const xercesc::SAXException& e) {
    builder.add(unexpected(documentName, e.getMessage()));
  } catch (const xercesc::OutOfMemoryException& e) {
    builder.add(unexpected(documentName, e.getMessage()));
  }
  if (builder.reported().empty()) return builder.takeRoot();
  auto clear =
      clarifySchemaProblems(builder.reported(), builder.root(), builder.rootNamespace(), grammar_->facts);
  problems.insert(problems.end(), std::make_move_iterator(clear.begin()),
                  std::make_move_iterator(clear.end()));
  return std::nullopt;
}

}  // namespace cpis::config

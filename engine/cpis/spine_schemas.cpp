#include "engine/cpis/spine_schemas.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include <xercesc/framework/LocalFileInputSource.hpp>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLGrammarPoolImpl.hpp>
#include <xercesc/sax/SAXParseException.hpp>
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

#include "engine/cpis/union_validation.h"

namespace cpis::cpis {
namespace {

using xercesc::XMLUni;

constexpr std::size_t kMaxProblems = 50;  // a broken document reports this many, then "..."

std::string toUtf8(const XMLCh* text) {
  if (text == nullptr || *text == 0) return {};
  const xercesc::TranscodeToStr utf8(text, xercesc::XMLString::stringLen(text), "UTF-8");
  return {reinterpret_cast<const char*>(utf8.str()), utf8.length()};
}

// Xerces 3.2's false positive on these schemas: its union-type check rejects restrictions of
// II.root and CV.codeSystem that are in fact valid (ARCHITECTURE.md, platform facts).
bool isKnownQuirk(const std::string& message) {
  return message.find("must be derived by restriction from type of the corresponding attribute in the base") !=
             std::string::npos &&
         (message.find("attribute 'root'") != std::string::npos ||
          message.find("attribute 'codeSystem'") != std::string::npos);
}

// Records what Xerces reports. During loading the system id (the schema file) matters; for
// instances only the line and column do.
class Collector final : public xercesc::DefaultHandler {
 public:
  void warning(const xercesc::SAXParseException&) override {}  // nothing Xerces warns of here matters
  void error(const xercesc::SAXParseException& e) override { record(e); }
  void fatalError(const xercesc::SAXParseException& e) override { record(e); }

  void add(std::string problem) {
    if (problems.size() < kMaxProblems) problems.push_back(std::move(problem));
    else truncated = true;
  }

  std::vector<std::string> problems;
  std::vector<std::string> systemIds;  // parallel to problems while loading
  bool truncated = false;
  bool withSystemId = false;

 private:
  void record(const xercesc::SAXParseException& e) {
    std::string where = "line " + std::to_string(e.getLineNumber()) + ", column " +
                        std::to_string(e.getColumnNumber()) + ": ";
    add(where + toUtf8(e.getMessage()));
    if (withSystemId && systemIds.size() < problems.size()) systemIds.push_back(toUtf8(e.getSystemId()));
  }
};

using ReaderPtr = std::unique_ptr<xercesc::SAX2XMLReader>;

ReaderPtr makeReader(xercesc::XMLGrammarPool& pool) {
  ReaderPtr reader(xercesc::XMLReaderFactory::createXMLReader(xercesc::XMLPlatformUtils::fgMemoryManager, &pool));
  reader->setFeature(XMLUni::fgSAX2CoreNameSpaces, true);
  reader->setFeature(XMLUni::fgXercesSchema, true);
  // Validation "always": with auto (dynamic) an undeclared root silently validates nothing.
  reader->setFeature(XMLUni::fgSAX2CoreValidation, true);
  reader->setFeature(XMLUni::fgXercesDynamic, false);
  reader->setFeature(XMLUni::fgXercesSchemaFullChecking, false);
  // These schemas include the same files from many places; without this the second
  // interaction loads with hundreds of errors.
  reader->setFeature(XMLUni::fgXercesHandleMultipleImports, true);
  reader->setFeature(XMLUni::fgXercesUseCachedGrammarInParse, true);
  reader->setFeature(XMLUni::fgXercesCacheGrammarFromParse, false);
  reader->setFeature(XMLUni::fgXercesSkipDTDValidation, true);
  reader->setFeature(XMLUni::fgXercesLoadExternalDTD, false);
  reader->setFeature(XMLUni::fgXercesValidationErrorAsFatal, false);  // report every problem
  return reader;
}

std::string relativeTo(const std::string& systemId, const std::filesystem::path& folder) {
  std::string id = systemId;
  if (id.rfind("file://", 0) == 0) id.erase(0, 7);
  const std::string prefix = (folder / "").string();
  if (id.rfind(prefix, 0) == 0) id.erase(0, prefix.size());
  return id;
}

}  // namespace

struct SpineSchemas::Impl {
  // A grammar pool with a reader over it, used by one caller at a time. Each parser has a pool
  // of its own: Xerces-C++ fills parts of a compiled grammar in lazily on first use (regular
  // expressions of pattern facets among them) without a lock, so two threads validating
  // against one shared pool at once can see a valid value refused. Parsers are few (at most
  // maxParsers, a caller waits for a free one beyond that), since validation is CPU-bound.
  struct Parser {
    // Validators put into the pool's grammars (installFastUnions): destroyed after the pool.
    std::vector<std::unique_ptr<xercesc::DatatypeValidator>> unions;
    std::unique_ptr<xercesc::XMLGrammarPool> pool;  // declared before the reader: destroyed after it
    Collector collector;
    ReaderPtr reader;
  };

  std::filesystem::path folder;
  std::vector<std::string> warnings;
  std::unique_ptr<xercesc::SecurityManager> securityManager;  // destroyed after the parsers
  std::size_t maxParsers = 2;
  mutable std::mutex mutex;
  mutable std::condition_variable freed;
  mutable std::size_t parsers = 0;  // made so far, idle or in use
  mutable std::vector<std::unique_ptr<Parser>> idle;

  // Compiles the interactions' grammars into a new pool, locked. `collector` gets every load
  // problem (the known quirks included); throws std::runtime_error on a file that cannot be read.
  std::unique_ptr<xercesc::XMLGrammarPool> loadPool(Collector& collector) const {
    const std::string where = "CP-IS schema folder " + folder.string();
    auto pool = std::make_unique<xercesc::XMLGrammarPoolImpl>(xercesc::XMLPlatformUtils::fgMemoryManager);
    {
      const ReaderPtr loader = makeReader(*pool);
      loader->setErrorHandler(&collector);
      for (const auto interaction : interactions()) {
        const auto file = folder / "CPIS" / "Schemas" / (std::string(interaction) + ".xsd");
        const xercesc::TranscodeFromStr path(reinterpret_cast<const XMLByte*>(file.c_str()), file.string().size(),
                                             "UTF-8");
        try {
          const xercesc::LocalFileInputSource source(path.str());
          if (loader->loadGrammar(source, xercesc::Grammar::SchemaGrammarType, /*toCache=*/true) == nullptr) {
            collector.add("cannot compile " + file.string());
          }
        } catch (const xercesc::XMLException& e) {
          throw std::runtime_error(where + ": cannot load " + file.string() + ": " + toUtf8(e.getMessage()));
        } catch (const xercesc::SAXException& e) {
          throw std::runtime_error(where + ": cannot load " + file.string() + ": " + toUtf8(e.getMessage()));
        } catch (const xercesc::OutOfMemoryException& e) {
          throw std::runtime_error(where + ": cannot load " + file.string() + ": " + toUtf8(e.getMessage()));
        }
      }
    }
    // From here on nothing can add to the pool: every later error is the instance's.
    pool->lockPool();
    return pool;
  }

  std::unique_ptr<Parser> makeParser(std::unique_ptr<xercesc::XMLGrammarPool> pool) const {
    auto parser = std::make_unique<Parser>();
    parser->unions = installFastUnions(*pool);
    parser->pool = std::move(pool);
    parser->reader = makeReader(*parser->pool);
    parser->reader->setFeature(XMLUni::fgXercesLoadSchema, false);  // no xsi:schemaLocation hints
    parser->reader->setFeature(XMLUni::fgXercesDisableDefaultEntityResolution, true);  // no file reads
    parser->reader->setProperty(XMLUni::fgXercesSecurityManager, securityManager.get());
    parser->reader->setErrorHandler(&parser->collector);
    return parser;
  }

  std::unique_ptr<Parser> acquire() const {
    {
      std::unique_lock lock(mutex);
      freed.wait(lock, [&] { return !idle.empty() || parsers < maxParsers; });
      if (!idle.empty()) {
        auto parser = std::move(idle.back());
        idle.pop_back();
        return parser;
      }
      ++parsers;
    }
    try {
      Collector ignored;  // the first load (the constructor's) has reported them already
      return makeParser(loadPool(ignored));
    } catch (...) {
      const std::lock_guard lock(mutex);
      --parsers;
      freed.notify_one();
      throw;
    }
  }

  void release(std::unique_ptr<Parser> parser) const {
    parser->collector.problems.clear();
    parser->collector.truncated = false;
    {
      const std::lock_guard lock(mutex);
      idle.push_back(std::move(parser));
    }
    freed.notify_one();
  }
};

const std::vector<std::string_view>& SpineSchemas::interactions() {
  static const std::vector<std::string_view> kInteractions{"QUPC_IN000006GB01", "REPC_IN000007GB01",
                                                           "QUQI_IN010000UK14", "MCCI_IN010000UK13"};
  return kInteractions;
}

SpineSchemas::SpineSchemas(const std::filesystem::path& folder) : impl_(std::make_unique<Impl>()) {
  impl_->folder = folder;
  const std::string where = "CP-IS schema folder " + folder.string();
  for (const auto interaction : interactions()) {
    const auto file = folder / "CPIS" / "Schemas" / (std::string(interaction) + ".xsd");
    if (!std::filesystem::is_regular_file(file)) throw std::runtime_error(where + ": missing " + file.string());
  }
  impl_->securityManager = std::make_unique<xercesc::SecurityManager>();
  impl_->securityManager->setEntityExpansionLimit(100);
  impl_->maxParsers = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 8);

  Collector collector;
  collector.withSystemId = true;
  auto pool = impl_->loadPool(collector);
  std::vector<std::string> real;
  for (std::size_t i = 0; i < collector.problems.size(); ++i) {
    const std::string file = i < collector.systemIds.size() ? relativeTo(collector.systemIds[i], folder) : "";
    std::string problem = file.empty() ? collector.problems[i] : file + ", " + collector.problems[i];
    (isKnownQuirk(collector.problems[i]) ? impl_->warnings : real).push_back(std::move(problem));
  }
  if (!real.empty() || collector.truncated) {
    std::string message = where + ": " + (real.empty() ? "too many schema errors" : real.front());
    if (real.size() > 1) message += " (and " + std::to_string(real.size() - 1) + " more)";
    throw std::runtime_error(message);
  }
  impl_->idle.push_back(impl_->makeParser(std::move(pool)));
  impl_->parsers = 1;
}

SpineSchemas::~SpineSchemas() = default;

const std::filesystem::path& SpineSchemas::folder() const noexcept { return impl_->folder; }

const std::vector<std::string>& SpineSchemas::loadWarnings() const noexcept { return impl_->warnings; }

std::vector<std::string> SpineSchemas::validate(std::string_view interactionXml) const {
  auto parser = impl_->acquire();
  static const XMLCh kDocumentName[] = {'i', 'n', 't', 'e', 'r', 'a', 'c', 't', 'i', 'o', 'n', 0};
  xercesc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(interactionXml.data()), interactionXml.size(),
                                    kDocumentName);
  source.setCopyBufToStream(false);  // the caller's text outlives the parse: no copy of it
  try {
    parser->reader->parse(source);
  } catch (const xercesc::XMLException& e) {
    parser->collector.add("cannot parse: " + toUtf8(e.getMessage()));
  } catch (const xercesc::SAXException& e) {
    parser->collector.add("cannot parse: " + toUtf8(e.getMessage()));
  } catch (const xercesc::OutOfMemoryException& e) {
    parser->collector.add("cannot parse: " + toUtf8(e.getMessage()));
  }
  std::vector<std::string> problems = std::move(parser->collector.problems);
  if (parser->collector.truncated) problems.emplace_back("... (more problems not listed)");
  impl_->release(std::move(parser));
  return problems;
}

namespace {

// Whether the quote at `at` ends a quoted value rather than sitting inside one ('O'Neil',
// 'D' Souza, Anne', 'de' la Cruz', 'Flat 3', rear'). Xerces-C++'s message templates
// (XMLErrList_EN_US.Xml) follow a quoted value with the end of the text (or a final "."), ", '" (the next
// value), "; " or a space and one of the words below; a quote inside a name or an address is
// not followed by those but by chance, so the value runs on to the quote that is.
bool closesValue(std::string_view message, std::size_t at) {
  static constexpr std::array<std::string_view, 44> kNextWords{
      "and",      "are",        "at",      "can",  "cannot",   "conflicts", "contains", "declared",
      "declares", "definition", "differs", "does", "encoding", "entity",    "exceeds",  "extends",
      "for",      "fraction",   "from",    "has",  "if",       "in",        "instead",  "invalid",
      "is",       "may",        "must",    "not",  "of",       "or",        "refers",   "specified",
      "that",     "total",      "unknown", "used", "violates", "which",     "with",     "was",
      "were",     "will",       "should",  "but"};
  const std::string_view rest = message.substr(at + 1);
  if (rest.empty() || rest == "." || rest.starts_with(", '") || rest.starts_with(';')) return true;
  if (!rest.starts_with(' ')) return false;
  const std::string_view word = rest.substr(1, rest.find_first_of(" ,;.:)", 1) - 1);
  return std::find(kNextWords.begin(), kNextWords.end(), word) != kNextWords.end();
}

}  // namespace

std::string redactQuoted(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  char open = 0;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (open != 0) {
      if (c == open && closesValue(message, i)) {
        out += "...";
        out += c;
        open = 0;
      }
      continue;
    }
    out += c;
    if (c == '\'' || c == '"') open = c;
  }
  if (open != 0) out += "...";
  return out;
}

}  // namespace cpis::cpis

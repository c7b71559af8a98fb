#include "engine/cpis/union_validation.h"

#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include <xercesc/framework/ValidationContext.hpp>
#include <xercesc/util/RefHash3KeysIdPool.hpp>
#include <xercesc/util/RefHashTableOf.hpp>
#include <xercesc/util/RefVectorOf.hpp>
#include <xercesc/util/XMLString.hpp>
#include <xercesc/util/regx/RegularExpression.hpp>
#include <xercesc/validators/common/Grammar.hpp>
#include <xercesc/validators/datatype/InvalidDatatypeValueException.hpp>
#include <xercesc/validators/datatype/UnionDatatypeValidator.hpp>
#include <xercesc/validators/schema/ComplexTypeInfo.hpp>
#include <xercesc/validators/schema/SchemaAttDef.hpp>
#include <xercesc/validators/schema/SchemaElementDecl.hpp>
#include <xercesc/validators/schema/SchemaGrammar.hpp>

namespace cpis::cpis {
namespace {

using xercesc::DatatypeValidator;
using xercesc::UnionDatatypeValidator;

// The facets a validator defines and its compiled pattern are protected in Xerces; read here
// through a member pointer named in a derived class, the one way C++ allows.
struct Facets : DatatypeValidator {
  static int defined(const DatatypeValidator& v) { return (v.*(&Facets::getFacetsDefined))(); }
  static xercesc::RegularExpression* regex(const DatatypeValidator& v) { return (v.*(&Facets::getRegex))(); }
  static const XMLCh* pattern(const DatatypeValidator& v) { return (v.*(&Facets::getPattern))(); }
};

bool hasXmlSpace(const XMLCh* content) {
  for (const XMLCh* c = content; *c != 0; ++c) {
    if (*c == 0x20 || *c == 0x09 || *c == 0x0A || *c == 0x0D) return true;
  }
  return false;
}

// A union with neither a base nor facets of its own: its value is valid exactly when one of its
// members takes it.
bool isPlainUnion(const DatatypeValidator& v) {
  return v.getType() == DatatypeValidator::Union && v.getBaseValidator() == nullptr && Facets::defined(v) == 0;
}

// The union a chain of restrictions of union types starts from, or null.
const DatatypeValidator* nativeUnionOf(const DatatypeValidator& v) {
  const DatatypeValidator* at = &v;
  while (at != nullptr && at->getType() == DatatypeValidator::Union && at->getBaseValidator() != nullptr) {
    at = at->getBaseValidator();
  }
  return at != nullptr && isPlainUnion(*at) ? at : nullptr;
}

// Whether validating a value of this type is a function of the value alone: no ID to record,
// no prefix to resolve, no entity or notation to look up (types the CP-IS unions do not use).
bool isPureOfContext(const DatatypeValidator& v) {
  switch (v.getType()) {
    case DatatypeValidator::ID:
    case DatatypeValidator::IDREF:
    case DatatypeValidator::ENTITY:
    case DatatypeValidator::NOTATION:
    case DatatypeValidator::QName:
    case DatatypeValidator::List:  // IDREFS and ENTITIES among them
    case DatatypeValidator::UnKnown:
      return false;
    case DatatypeValidator::Union: {
      const auto* members = static_cast<const UnionDatatypeValidator&>(v).getMemberTypeValidators();
      if (members == nullptr) return false;
      for (XMLSize_t i = 0; i < members->size(); ++i) {
        if (!isPureOfContext(*members->elementAt(i))) return false;
      }
      return true;
    }
    default:
      return v.getBaseValidator() == nullptr || isPureOfContext(*v.getBaseValidator());
  }
}

// A union type that asks its members only once none of them certainly refuses: a plain union,
// or a chain of restrictions of one by pattern (checked afterwards, from the one nearest the
// union to the type itself, as Xerces does).
class FastUnion final : public UnionDatatypeValidator {
 public:
  FastUnion(xercesc::RefVectorOf<DatatypeValidator>* members, int finalSet,
            std::vector<const DatatypeValidator*> patterned)
      : UnionDatatypeValidator(members, finalSet), patterned_(std::move(patterned)) {
    remembers_ = true;
    for (XMLSize_t i = 0; i < members->size(); ++i) remembers_ = remembers_ && isPureOfContext(*members->elementAt(i));
  }

 private:
  void checkContent(const XMLCh* const content, xercesc::ValidationContext* const context, bool /*asBase*/,
                    xercesc::MemoryManager* const manager) override {
    // A reply repeats its values (the same OIDs, codes and ODS codes in every access): a value
    // this type has taken before is taken again by the same member, without asking.
    std::u16string key;
    const XMLSize_t length = xercesc::XMLString::stringLen(content);
    const bool remembering = remembers_ && length <= kLongestRemembered;
    if (remembering) {
      key.assign(reinterpret_cast<const char16_t*>(content), length);
      if (const auto it = taken_.find(key); it != taken_.end()) {
        if (context != nullptr) context->setValidatingMemberType(it->second);
        return;
      }
    }
    DatatypeValidator* member = checkMembers(content, context, manager);
    for (const DatatypeValidator* level : patterned_) {
      if (!Facets::regex(*level)->matches(content, manager)) {
        ThrowXMLwithMemMgr2(xercesc::InvalidDatatypeValueException, xercesc::XMLExcepts::VALUE_NotMatch_Pattern,
                            content, Facets::pattern(*level), manager);
      }
    }
    if (remembering) {
      if (taken_.size() >= kMostRemembered) taken_.clear();
      taken_.emplace(std::move(key), member);
    }
  }

  // The member that takes the value, recorded in `context`; throws when none does.
  DatatypeValidator* checkMembers(const XMLCh* const content, xercesc::ValidationContext* const context,
                                  xercesc::MemoryManager* const manager) {
    // As UnionDatatypeValidator: the first member that takes the value is the one recorded.
    auto& members = *getMemberTypeValidators();
    for (XMLSize_t i = 0; i < members.size(); ++i) {
      DatatypeValidator* member = members.elementAt(i);
      const Verdict verdict = verdictOn(*member, content);
      if (verdict == Verdict::Refuses) continue;
      if (verdict == Verdict::Unknown) {
        try {
          member->validate(content, context, manager);
        } catch (const xercesc::XMLException&) {
          continue;  // a member the checks above could not rule out
        }
      }
      if (context != nullptr) context->setValidatingMemberType(member);
      return member;
    }
    ThrowXMLwithMemMgr1(xercesc::InvalidDatatypeValueException, xercesc::XMLExcepts::VALUE_no_match_memberType,
                        content, manager);
  }

  // Bounds on what is remembered: a parser validates one document at a time on one thread,
  // and its pool (so this validator) is its own, so no lock is needed.
  static constexpr std::size_t kMostRemembered = 256;
  static constexpr std::size_t kLongestRemembered = 128;
  const std::vector<const DatatypeValidator*> patterned_;
  bool remembers_ = false;
  std::unordered_map<std::u16string, DatatypeValidator*> taken_;
};

class Installer {
 public:
  explicit Installer(std::vector<std::unique_ptr<DatatypeValidator>>& owned) : owned_(owned) {}

  void attributesOf(xercesc::ComplexTypeInfo* type) {
    if (type == nullptr || !type->hasAttDefs() || !seenTypes_.insert(type).second) return;
    xercesc::XMLAttDefList& attributes = type->getAttDefList();
    for (XMLSize_t i = 0; i < attributes.getAttDefCount(); ++i) {
      auto& attribute = static_cast<xercesc::SchemaAttDef&>(attributes.getAttDef(i));
      if (DatatypeValidator* fast = fastFor(attribute.getDatatypeValidator())) attribute.setDatatypeValidator(fast);
    }
  }

 private:
  // The fast stand-in for a union type (made once per type), or null for a type that is not a
  // union, or a restriction of one by anything but patterns (an enumeration: compared through
  // the member types, left to Xerces).
  DatatypeValidator* fastFor(DatatypeValidator* validator) {
    if (validator == nullptr || validator->getType() != DatatypeValidator::Union) return nullptr;
    if (const auto it = made_.find(validator); it != made_.end()) return it->second;
    made_[validator] = nullptr;  // a union that (wrongly) contains itself stays as it is
    std::vector<const DatatypeValidator*> patterned;
    for (const DatatypeValidator* level = validator; !isPlainUnion(*level); level = level->getBaseValidator()) {
      if (level->getBaseValidator() == nullptr || Facets::defined(*level) != DatatypeValidator::FACET_PATTERN ||
          Facets::regex(*level) == nullptr) {
        return nullptr;
      }
      patterned.insert(patterned.begin(), level);
    }
    auto* native = const_cast<UnionDatatypeValidator*>(static_cast<const UnionDatatypeValidator*>(
        patterned.empty() ? validator : patterned.front()->getBaseValidator()));
    auto* original = native->getMemberTypeValidators();
    auto* members = new xercesc::RefVectorOf<DatatypeValidator>(original->size(), /*adoptElems=*/false);
    for (XMLSize_t i = 0; i < original->size(); ++i) {
      DatatypeValidator* member = original->elementAt(i);
      DatatypeValidator* fast = fastFor(member);
      members->addElement(fast != nullptr ? fast : member);
    }
    auto made = std::make_unique<FastUnion>(members, validator->getFinalSet(), std::move(patterned));
    if (validator->getTypeName() != nullptr) made->setTypeName(validator->getTypeName());  // "uri,name"
    if (validator->getAnonymous()) made->setAnonymous();
    DatatypeValidator* result = made.get();
    owned_.push_back(std::move(made));
    made_[validator] = result;
    return result;
  }

  std::vector<std::unique_ptr<DatatypeValidator>>& owned_;
  std::map<DatatypeValidator*, DatatypeValidator*> made_;
  std::set<xercesc::ComplexTypeInfo*> seenTypes_;
};

}  // namespace

Verdict verdictOn(const DatatypeValidator& validator, const XMLCh* content) {
  // A string type restricted by nothing but patterns, white space and (on the type itself) an
  // enumeration: what Xerces checks of it is those, and for a value without white space the
  // white space needs no checking. Every other type: its patterns at most, the rest is Xerces'.
  constexpr int kSimple = DatatypeValidator::FACET_PATTERN | DatatypeValidator::FACET_WHITESPACE;
  const bool spaced = hasXmlSpace(content);
  bool simple = !spaced;
  // A pattern anywhere up the chain of restrictions is checked against the value as it is.
  for (const DatatypeValidator* v = &validator; v != nullptr; v = v->getBaseValidator()) {
    const int facets = Facets::defined(*v);
    const int allowed = v == &validator ? kSimple | DatatypeValidator::FACET_ENUMERATION : kSimple;
    if (v->getType() != DatatypeValidator::String || (facets & ~allowed) != 0) simple = false;
    if ((facets & DatatypeValidator::FACET_PATTERN) == 0) continue;
    xercesc::RegularExpression* pattern = Facets::regex(*v);
    if (pattern == nullptr) {
      simple = false;
    } else if (!pattern->matches(content)) {
      return Verdict::Refuses;
    }
  }
  // A string type's enumeration is compared as text, after its white space is normalised:
  // for a value without white space, as it is.
  if (validator.getType() == DatatypeValidator::String &&
      (Facets::defined(validator) & DatatypeValidator::FACET_ENUMERATION) != 0) {
    if (validator.getEnumString() == nullptr || spaced) return Verdict::Unknown;
    const auto& values = *validator.getEnumString();
    for (XMLSize_t i = 0; i < values.size(); ++i) {
      if (xercesc::XMLString::equals(content, values.elementAt(i))) return simple ? Verdict::Accepts : Verdict::Unknown;
    }
    return Verdict::Refuses;
  }
  if (simple) return Verdict::Accepts;
  if (const DatatypeValidator* native = nativeUnionOf(validator)) {  // refused by every member
    const auto& members = *static_cast<const UnionDatatypeValidator*>(native)->getMemberTypeValidators();
    for (XMLSize_t i = 0; i < members.size(); ++i) {
      if (verdictOn(*members.elementAt(i), content) != Verdict::Refuses) return Verdict::Unknown;
    }
    return Verdict::Refuses;
  }
  return Verdict::Unknown;
}

std::vector<std::unique_ptr<DatatypeValidator>> installFastUnions(xercesc::XMLGrammarPool& pool) {
  std::vector<std::unique_ptr<DatatypeValidator>> owned;
  Installer installer(owned);
  auto grammars = pool.getGrammarEnumerator();
  while (grammars.hasMoreElements()) {
    xercesc::Grammar& grammar = grammars.nextElement();
    if (grammar.getGrammarType() != xercesc::Grammar::SchemaGrammarType) continue;
    auto& schema = static_cast<xercesc::SchemaGrammar&>(grammar);
    auto elements = schema.getElemEnumerator();
    while (elements.hasMoreElements()) installer.attributesOf(elements.nextElement().getComplexTypeInfo());
    // Named types too: an element's xsi:type may name one no declaration uses.
    if (auto* types = schema.getComplexTypeRegistry()) {
      xercesc::RefHashTableOfEnumerator<xercesc::ComplexTypeInfo> named(types, false);
      while (named.hasMoreElements()) installer.attributesOf(&named.nextElement());
    }
  }
  return owned;
}

}  // namespace cpis::cpis

#pragma once

// Union types without exceptions. Xerces-C++ validates a value of a union type by trying each
// member type in turn and catching the exception each one that does not fit throws; HL7 v3
// is full of unions (`uid`: an OID, a UUID or an RUID; the vocabulary unions), so a CP-IS reply
// cost about nine thrown and caught exceptions, each with its message text loaded and
// formatted. These validators first rule out, without throwing, the members that certainly do
// not fit (a pattern of theirs, or of a type they restrict, does not match; a string type's
// enumeration does not hold the value), take at once a member that certainly does (a string
// type with nothing but patterns and an enumeration, all met, so its pattern is not matched
// twice), and ask Xerces about the rest. The outcome, the member recorded as the one that
// validated, and the error for a value that fits no member are Xerces' own. A value a union
// has taken is remembered with its member (up to 256 values of up to 128 characters per type,
// when every member's verdict depends on the value alone): a reply repeats its OIDs and codes
// in every access. Refused values are never remembered.

#include <memory>
#include <vector>

#include <xercesc/framework/XMLGrammarPool.hpp>
#include <xercesc/validators/datatype/DatatypeValidator.hpp>

namespace cpis::cpis {

// Puts such a validator in place of every union type that an attribute of the pool's schema
// grammars is declared with (named and anonymous complex types) and that is a plain union or a
// restriction of one by patterns only, and of such unions among their members; unions
// restricted by an enumeration are left to Xerces. The returned validators must outlive every use of
// the pool; the pool does not own them.
std::vector<std::unique_ptr<xercesc::DatatypeValidator>> installFastUnions(xercesc::XMLGrammarPool& pool);

// What can be told of `content` against `validator` without asking Xerces (which throws to say
// no): refused for certain (a pattern up its chain of restrictions does not match, or a string
// enumeration does not hold it), accepted for certain (a string type restricted by nothing but
// patterns, white space and its own enumeration, all satisfied, and a value without white
// space), or not known.
enum class Verdict : unsigned char { Refuses, Accepts, Unknown };
Verdict verdictOn(const xercesc::DatatypeValidator& validator, const XMLCh* content);

}  // namespace cpis::cpis

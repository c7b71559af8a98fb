#include "conformance/simulator/dataset.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "conformance/simulator/json_time.h"

namespace cpis::sim {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& problem) const {
    throw std::runtime_error("dataset " + name_ + ": " + where + ": " + problem);
  }

  std::string text(const Object::Ptr& o, const std::string& key, const std::string& where,
                   bool required = true) const {
    if (!o->has(key) || o->isNull(key)) {
      if (required) fail(where, "'" + key + "' is missing");
      return {};
    }
    try {
      return o->getValue<std::string>(key);
    } catch (const Poco::Exception&) {
      fail(where, "'" + key + "' is not text");
    }
  }

  domain::Date date(const Object::Ptr& o, const std::string& key, const std::string& where) const {
    const auto value = parseDate(text(o, key, where));
    if (!value) fail(where, "'" + key + "' is not a date (YYYY-MM-DD)");
    return *value;
  }

 private:
  std::string name_;
};

domain::PlanType planType(const Reader& r, const std::string& code, const std::string& where) {
  const auto type = domain::parsePlanType(code);
  if (!type) r.fail(where, "plan type must be CPPI, LACI or UCPI");
  return *type;
}

}  // namespace

Dataset Dataset::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("dataset " + file.string() + ": cannot be read");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse(text, file.string());
}

Dataset Dataset::parse(std::string_view json, const std::string& name) {
  const Reader r(name);
  Object::Ptr root;
  try {
    Poco::JSON::Parser parser;
    root = parser.parse(std::string(json)).extract<Object::Ptr>();
  } catch (const Poco::Exception& e) {
    r.fail("the file", "not a JSON object (" + std::string(e.name()) + ")");
  }

  std::map<std::string, domain::LocalAuthority> authorities;
  const Array::Ptr las = root->getArray("localAuthorities");
  if (!las) r.fail("the file", "'localAuthorities' is missing");
  for (std::size_t i = 0; i < las->size(); ++i) {
    const std::string where = "localAuthorities[" + std::to_string(i) + "]";
    const Object::Ptr o = las->getObject(static_cast<unsigned>(i));
    if (!o) r.fail(where, "not an object");
    domain::LocalAuthority la;
    la.odsCode = r.text(o, "odsCode", where);
    la.name = r.text(o, "name", where);
    la.emergencyPhone = r.text(o, "emergencyPhone", where);
    if (const std::string phone = r.text(o, "workplacePhone", where, false); !phone.empty()) la.workplacePhone = phone;
    if (!authorities.emplace(la.odsCode, la).second) r.fail(where, "odsCode " + la.odsCode + " is used twice");
  }

  Dataset dataset;
  const Array::Ptr children = root->getArray("children");
  if (!children) r.fail("the file", "'children' is missing");
  for (std::size_t i = 0; i < children->size(); ++i) {
    const Object::Ptr o = children->getObject(static_cast<unsigned>(i));
    std::string where = "children[" + std::to_string(i) + "]";
    if (!o) r.fail(where, "not an object");
    const std::string label = r.text(o, "label", where, false);
    if (!label.empty()) where += " (" + label + ")";
    const auto number = domain::NhsNumber::parse(r.text(o, "nhsNumber", where));
    if (!number) r.fail(where, "nhsNumber is not a valid NHS number (modulus 11)");

    cpis::ReplySubject subject;
    subject.nhsNumber = std::string(number->reveal());
    subject.givenName = r.text(o, "givenName", where);
    subject.familyName = r.text(o, "familyName", where);
    subject.birthDate = r.date(o, "birthDate", where);

    std::vector<domain::CpisRecord> records;
    const Array::Ptr recordArray = o->getArray("records");
    if (!recordArray || recordArray->size() == 0) r.fail(where, "needs at least one record");
    for (std::size_t j = 0; j < recordArray->size(); ++j) {
      const std::string at = where + ".records[" + std::to_string(j) + "]";
      const Object::Ptr rec = recordArray->getObject(static_cast<unsigned>(j));
      if (!rec) r.fail(at, "not an object");
      domain::CpisRecord record;
      const std::string ods = r.text(rec, "la", at);
      const auto la = authorities.find(ods);
      if (la == authorities.end()) r.fail(at, "local authority " + ods + " is not in localAuthorities");
      record.la = la->second;
      const std::string subjectKind = r.text(rec, "subject", at, false);
      if (subjectKind.empty() || subjectKind == "CHILD") {
        record.subject = domain::SubjectKind::Child;
      } else if (subjectKind == "UNBORN") {
        record.subject = domain::SubjectKind::UnbornChild;
      } else {
        r.fail(at, "subject must be CHILD or UNBORN");
      }
      const Array::Ptr plans = rec->getArray("plans");
      if (!plans || plans->size() == 0 || plans->size() > 3) r.fail(at, "needs 1 to 3 plans");
      for (std::size_t k = 0; k < plans->size(); ++k) {
        const std::string pat = at + ".plans[" + std::to_string(k) + "]";
        const Object::Ptr p = plans->getObject(static_cast<unsigned>(k));
        if (!p) r.fail(pat, "not an object");
        domain::ProtectionPlan plan;
        plan.type = planType(r, r.text(p, "type", pat), pat);
        plan.start = r.date(p, "start", pat);
        if (p->has("end") && !p->isNull("end")) plan.end = r.date(p, "end", pat);
        if (plan.type == domain::PlanType::Ucpi && !plan.end) r.fail(pat, "a UCPI plan needs an end date");
        if (plan.end && *plan.end < plan.start) r.fail(pat, "ends before it starts");
        record.plans.push_back(plan);
      }
      records.push_back(std::move(record));
    }

    std::vector<domain::PriorAccess> accesses;
    if (const Array::Ptr accessArray = o->getArray("accesses")) {
      for (std::size_t j = 0; j < accessArray->size(); ++j) {
        const std::string at = where + ".accesses[" + std::to_string(j) + "]";
        const Object::Ptr a = accessArray->getObject(static_cast<unsigned>(j));
        if (!a) r.fail(at, "not an object");
        domain::PriorAccess access;
        const auto when = parseInstant(r.text(a, "at", at));
        if (!when) r.fail(at, "'at' is not a UTC time (YYYY-MM-DDThh:mm:ssZ)");
        access.at = *when;
        access.bySystem = a->has("bySystem") && a->getValue<bool>("bySystem");
        access.personName = r.text(a, "personName", at);
        access.jobRoleCode = r.text(a, "jobRoleCode", at);
        access.jobRoleName = r.text(a, "jobRoleName", at);
        access.orgOdsCode = r.text(a, "orgOdsCode", at);
        access.orgName = r.text(a, "orgName", at);
        if (const std::string asid = r.text(a, "asid", at, false); !asid.empty()) access.asid = asid;
        if (access.bySystem && !access.asid) r.fail(at, "a system access needs its asid");
        accesses.push_back(std::move(access));
      }
    }
    std::stable_sort(accesses.begin(), accesses.end(),
                     [](const domain::PriorAccess& a, const domain::PriorAccess& b) { return a.at > b.at; });

    std::optional<Fault> fault;
    if (const Object::Ptr f = o->getObject("fault")) {
      const auto kind = parseFaultKind(r.text(f, "kind", where + ".fault"));
      if (!kind) r.fail(where + ".fault", "unknown fault kind");
      Fault value;
      value.kind = *kind;
      if (f->has("delayMs")) value.delay = std::chrono::milliseconds(f->getValue<int>("delayMs"));
      fault = value;
    }

    if (!dataset.byNumber_.emplace(std::string(number->reveal()), dataset.children_.size()).second) {
      r.fail(where, "the same NHS number as an earlier child");
    }
    dataset.children_.push_back(Child{*number, label, std::move(subject), std::move(records),
                                      std::move(accesses), fault});
  }
  return dataset;
}

const Child* Dataset::find(const domain::NhsNumber& number) const {
  const auto it = byNumber_.find(std::string(number.reveal()));
  return it == byNumber_.end() ? nullptr : &children_[it->second];
}

}  // namespace cpis::sim

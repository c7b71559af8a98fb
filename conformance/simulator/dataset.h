#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/simulator/fault.h"
#include "engine/cpis/spine_message.h"
#include "engine/domain/cpis_record.h"
#include "engine/domain/nhs_number.h"

namespace cpis::sim {

// One person CP-IS holds records for, keyed by the NHS number queried: a child, or for an
// unborn child's plan the pregnant woman (subject UNBORN, her own number and name).
struct Child {
  domain::NhsNumber nhsNumber;
  std::string label;                 // what the fixture is for ("CPP and LAC at once")
  cpis::ReplySubject subject;        // name and birth date in the reply
  std::vector<domain::CpisRecord> records;      // 1 or more
  std::vector<domain::PriorAccess> accesses;    // newest first, any number
  std::optional<Fault> fault;        // misbehaves on every query
};

// The simulator's fixtures: synthetic children with test NHS numbers (the 999 range), loaded
// from a JSON file (conformance/simulator/dataset/children.json; the format is described in
// conformance/simulator/README.md).
class Dataset {
 public:
  // Throws std::runtime_error naming the file and the child (by position and label, never by
  // NHS number) for anything the simulator could not serve: a number failing modulus 11, a
  // record without plans or with more than three, a UCPI without an end date, an unknown local
  // authority, a repeated NHS number.
  static Dataset load(const std::filesystem::path& file);
  static Dataset parse(std::string_view json, const std::string& name);

  const Child* find(const domain::NhsNumber& number) const;
  const std::vector<Child>& children() const noexcept { return children_; }
  std::size_t size() const noexcept { return children_.size(); }

 private:
  std::vector<Child> children_;
  std::map<std::string, std::size_t> byNumber_;
};

}  // namespace cpis::sim

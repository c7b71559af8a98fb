#include <cctype>
#include <set>
#include <string>

#include <boost/test/unit_test.hpp>

#include "engine/pipeline/check.h"
#include "engine/domain/nhs_number.h"

BOOST_AUTO_TEST_SUITE(check_id)

BOOST_AUTO_TEST_CASE(is_a_random_uuid_in_upper_case) {
  const std::string id = cpis::pipeline::newCheckId();
  BOOST_REQUIRE(id.size() == 36U);
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      BOOST_TEST(id[i] == '-');
    } else {
      const auto c = static_cast<unsigned char>(id[i]);
      BOOST_TEST((std::isdigit(c) != 0 || (c >= 'A' && c <= 'F')), id);
    }
  }
  BOOST_TEST(id[14] == '4');  // version 4: random
  BOOST_TEST(std::string("89AB").find(id[19]) != std::string::npos);  // the RFC 4122 variant
}

BOOST_AUTO_TEST_CASE(differs_every_time) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(cpis::pipeline::newCheckId());
  BOOST_TEST(ids.size() == 1000U);
}

BOOST_AUTO_TEST_SUITE_END()

// What the checker makes of a lookup's answer: a FOUND it cannot show is a failed check, never
// "0 plans found" (hazard H3).
BOOST_AUTO_TEST_SUITE(checker)

namespace {

class Answering final : public cpis::cpis::CpisLookup {
 public:
  explicit Answering(cpis::cpis::LookupResult result) : result_(std::move(result)) {}
  cpis::cpis::LookupResult lookup(const cpis::cpis::LookupRequest&) override { return result_; }

 private:
  cpis::cpis::LookupResult result_;
};

cpis::domain::CheckOutcome checkAgainst(cpis::cpis::LookupResult result) {
  Answering lookup(std::move(result));
  const cpis::pipeline::Checker checker(lookup, {}, cpis::domain::Source::Simulator, [] { return cpis::domain::Instant{}; });
  cpis::pipeline::CheckRequest request;
  request.attendance.nhsNumber = cpis::domain::NhsNumber::parse("9990000018");
  request.checkId = "3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44";
  return checker.check(request);
}

cpis::domain::CpisRecord recordWith(std::size_t plans) {
  cpis::domain::CpisRecord record;
  record.la = {"XLA01", "Exampleshire County Council", "01632 960001", std::nullopt};
  for (std::size_t i = 0; i < plans; ++i) record.plans.push_back({cpis::domain::PlanType::Cppi, cpis::domain::Date{}, std::nullopt});
  return record;
}

}  // namespace

BOOST_AUTO_TEST_CASE(found_without_a_plan_is_a_failed_check) {
  cpis::cpis::LookupResult found;
  found.status = cpis::domain::CheckStatus::Found;
  found.records = {recordWith(1)};
  BOOST_TEST((checkAgainst(found).status == cpis::domain::CheckStatus::Found));
  // A record without a plan is left out; the others' plans are shown.
  found.records = {recordWith(0), recordWith(2)};
  const auto shown = checkAgainst(found);
  BOOST_TEST((shown.status == cpis::domain::CheckStatus::Found));
  BOOST_TEST_REQUIRE(shown.records.size() == 1U);
  BOOST_TEST(shown.records.front().plans.size() == 2U);
  for (const auto& records : {std::vector<cpis::domain::CpisRecord>{},
                              std::vector<cpis::domain::CpisRecord>{recordWith(0)},
                              std::vector<cpis::domain::CpisRecord>{recordWith(0), recordWith(0)}}) {
    found.records = records;
    const auto outcome = checkAgainst(found);
    BOOST_TEST((outcome.status == cpis::domain::CheckStatus::CheckFailed), records.size());
    BOOST_TEST((outcome.reason == cpis::domain::ReasonCode::UnrecognisedResponse));
    BOOST_TEST(outcome.records.empty());
  }
}

BOOST_AUTO_TEST_SUITE_END()

// An adapter built to fail: it throws where its `throw_in` key says, so the tests can prove
// that nothing crosses the boundary and the engine carries on.
#include <stdexcept>
#include <string>

#include <cpis/plugin.hpp>

namespace cpis::test_plugins {

class ThrowingAdapter final : public sdk::Adapter {
 public:
  explicit ThrowingAdapter(const sdk::Config& config) : where_(config.getString("throw_in")) {
    if (where_ == "create") throw std::runtime_error("refusing to start on purpose");
  }

  sdk::AdaptResult adapt(const sdk::MessageView& message, sdk::AttendanceBuilder& out) const override {
    if (message.get("MSH-10") == "FINE") return sdk::AdaptResult::attendance();
    if (where_ == "adapt") {
      out.set(sdk::Field::VisitNumber, "half-written");  // then fails
      throw std::runtime_error("adapter exploded on purpose near 999 000 0018");
    }
    if (where_ == "not_std") throw 42;
    if (where_ == "bad_location") {
      return sdk::AdaptResult::dataError(sdk::Hl7Error::RequiredFieldMissing, "not a path!", "missing");
    }
    if (where_ == "unknown_field") (void)out.get("no_such_field");
    if (where_ == "bad_value") out.set(sdk::Field::Sex, "X");
    return sdk::AdaptResult::attendance();
  }

  void composeAlerts(const sdk::CheckOutcome& outcome, sdk::AlertWriter& out) const override {
    out.segment("ZCP").field(1, "1").field(2, outcome.status());
    if (where_ == "compose") throw std::runtime_error("alerts exploded on purpose");
    if (where_ == "bad_segment") out.segment("MSA");
  }

 private:
  std::string where_;
};

}  // namespace cpis::test_plugins

CPIS_EXPORT_ADAPTER(
    cpis::test_plugins::ThrowingAdapter, "throws", "0.0.1",
    cpis::sdk::stringKey(
        "throw_in", "adapt",
        "create, adapt, not_std, bad_location, unknown_field, bad_value, compose, bad_segment"))

// The example adapter: maps an England ADT feed (ITK HL7 v2.4) to attendances and leaves the
// alerts to the engine, adding one note when the check could not be made. Copy it, rename it,
// and change what your EPR does differently from the feed's mapping file.
//
// The engine has already applied the feed's mapping file when adapt() runs: `out` holds its
// draft attendance. An adapter overwrites only what it knows better.
#include <string>

#include <cpis/plugin.hpp>

namespace example {

// Immutable after construction: adapt() and composeAlerts() run on many threads at once.
class ExampleAdapter final : public cpis::sdk::Adapter {
 public:
  explicit ExampleAdapter(const cpis::sdk::Config& config)
      : mrnAuthority_(config.getString("mrn_authority")),
        requireVisitNumber_(config.getBool("require_visit_number")),
        noteFailedChecks_(config.getBool("note_failed_checks")) {
    config.log().info("example adapter ready");  // ids and codes only: never patient data
  }

  cpis::sdk::AdaptResult adapt(const cpis::sdk::MessageView& message,
                               cpis::sdk::AttendanceBuilder& out) const override {
    const std::string_view event = message.get("MSH-9.2");
    if (event == "A04" || event == "A01") {
      out.event(cpis::sdk::Event::Start);
    } else if (event == "A08" || event == "A02") {
      out.event(cpis::sdk::Event::Update);
    } else if (event == "A03") {
      out.event(cpis::sdk::Event::End);
    } else if (event == "A11") {
      out.event(cpis::sdk::Event::Cancel);
    } else {
      return cpis::sdk::AdaptResult::notAnAttendance("trigger event not mapped");
    }

    // The NHS number: authority NHS (type NH, or no type); never a local MR number. A number
    // that fails modulus 11 is not an error here: the engine records why and says
    // NHS_NUMBER_INVALID in the alert.
    if (const auto nhsNumber = message.findNhsNumber("PID-3")) out.nhsNumber(*nhsNumber);

    // PID-32 trace status, as sent; a value outside NSTS01..NSTS08 is the sender's data error.
    if (message.has("PID-32") && !out.trySet(cpis::sdk::Field::NhsStatus, message.get("PID-32"))) {
      // Where and what, never the value: this text reaches the ERR segment and the logs.
      return cpis::sdk::AdaptResult::dataError(cpis::sdk::Hl7Error::TableValue, "PID-32",
                                               "not an NHS number trace status");
    }

    // The attendance key. Some EPRs put the visit number under their MRN authority in PID-18.
    std::string_view visit = message.get("PV1-19");
    if (visit.empty() && message.get("PID-18.4") == mrnAuthority_) visit = message.get("PID-18");
    if (visit.empty() && requireVisitNumber_) {
      return cpis::sdk::AdaptResult::dataError(cpis::sdk::Hl7Error::RequiredFieldMissing, "PV1-19",
                                               "no visit number");
    }
    out.visitNumber(visit);
    return cpis::sdk::AdaptResult::attendance();
  }

  void composeAlerts(const cpis::sdk::CheckOutcome& outcome, cpis::sdk::AlertWriter& out) const override {
    out.standardAlerts();  // the engine's ZCP/ZCA (or OBX) segments, in the feed's encoding
    if (noteFailedChecks_ && (outcome.checkFailed() || outcome.notChecked())) {
      out.segment("NTE").field(1, "1").field(2, "L").field(3, "CP-IS: not a negative result");
    }
  }

 private:
  std::string mrnAuthority_;  // PID-3.4 / PID-18.4 assigning authority of the trust's numbers
  bool requireVisitNumber_;
  bool noteFailedChecks_;
};

}  // namespace example

CPIS_EXPORT_ADAPTER(example::ExampleAdapter, "example", EXAMPLE_ADAPTER_VERSION,
                    cpis::sdk::stringKey("mrn_authority", "",
                                         "assigning authority of the trust's own numbers"),
                    cpis::sdk::boolKey("require_visit_number", "true", "refuse messages without PV1-19"),
                    cpis::sdk::boolKey("note_failed_checks", "true",
                                       "add an NTE when the check was not made"))

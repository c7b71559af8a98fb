// The example adapter: maps an England ADT feed (ITK HL7 v2.4) to attendances and leaves the
// alerts to the engine, adding one note when the check could not be made. Copy it, rename it,
// and change what your EPR does differently from the feed's mapping file.
//
// The engine has already applied the feed's mapping file when adapt() runs: `out` holds its
// draft attendance. An adapter overwrites only what it knows better.
#include <string>
#include <vector>

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
    // What the trigger event means (start, update, end, cancel, reopen, merge, or no attendance)
    // is the feed's mapping file's to say: keep its draft. Overriding the event here would drop
    // merges and reopens.
    const std::string_view event = out.get(cpis::sdk::Field::Event);
    if (event == "NOT_AN_ATTENDANCE") {
      return cpis::sdk::AdaptResult::notAnAttendance("trigger event not mapped as an attendance");
    }

    // The NHS number is the mapping file's to read (hazard H1: the wrong child's number is the
    // worst error an adapter can make). Only when it found none and saw no problem is the
    // England profile's form tried here: authority NHS or the NHS number's OID, type NH or
    // none; never a local MR number, nor another register's number. Never replace or clear a
    // number the mapping found, and never set one where it refused one: an EPR that types its
    // numbers otherwise (NHSNBR, say) has its mapping say how, and two numbers that disagree
    // give none there (nhs_number_problem says so, and the ACK says NOT_CHECKED). A number that
    // fails modulus 11 is not an error here: the engine records why and says NHS_NUMBER_INVALID.
    if (out.get(cpis::sdk::Field::NhsNumber).empty() && out.get(cpis::sdk::Field::NhsNumberProblem).empty()) {
      if (const auto nhs = message.findNhsNumber("PID-3")) out.nhsNumber(*nhs);
    }

    // PID-32 trace status, when the mapping found none (its code table, if it has one, stands):
    // NSTS01..NSTS08, or its two digits alone. v2.5.1 repeats the field with identity
    // reliability codes (HL7 table 0445: AL, UA, UD, US), which are no trace status and are
    // passed over; the first repetition that is a status counts. Anything else is the sender's
    // data error in a start or an update (a check may be due); in any other message (an end, a
    // cancel, a merge...) refusing it would lose what the message does (a merge left
    // unrecorded, a check owed on the retired number queries it: hazard H1), so its status stays
    // as the mapping read it.
    for (const std::string_view sent : out.get(cpis::sdk::Field::NhsStatus).empty()
                                           ? message.getAll("PID-32(*)")
                                           : std::vector<std::string_view>{}) {
      if (sent.empty() || sent == "AL" || sent == "UA" || sent == "UD" || sent == "US") continue;
      const bool digits = sent.size() == 2 && sent[0] == '0' && sent[1] >= '1' && sent[1] <= '8';
      if (out.trySet(cpis::sdk::Field::NhsStatus, digits ? "NSTS" + std::string(sent) : std::string(sent))) break;
      if (event != "START" && event != "UPDATE") break;
      // Where and what, never the value: this text reaches the ERR segment and the logs.
      return cpis::sdk::AdaptResult::dataError(cpis::sdk::Hl7Error::TableValue, "PID-32",
                                               "not an NHS number trace status");
    }

    // A merge (A40): PID the surviving record (its trace status read above), MRG-1 the retired
    // one; no visit. The engine records it, and a check still owed on the retired number moves
    // to the surviving one (hazard H1). Without both valid numbers it records nothing, and logs
    // why. The retired number is the mapping's too: the England form is tried only when the
    // mapping read none (a mapping with no prior_nhs_number field). Where the mapping refused
    // MRG-1's numbers as disagreeing, a mapping that reads MRG-1 in the England form refuses
    // them here too; one that reads other forms should have the adapter leave MRG-1 alone.
    if (event == "MERGE") {
      if (out.get(cpis::sdk::Field::PriorNhsNumber).empty()) {
        if (const auto prior = message.findNhsNumber("MRG-1"))
          (void)out.trySet(cpis::sdk::Field::PriorNhsNumber, *prior);
      }
      return cpis::sdk::AdaptResult::attendance();
    }

    // The attendance key. Some EPRs put the visit number in PID-18 under the trust's own
    // assigning authority (mrn_authority): only then, and only when it is configured, is PID-18
    // the key (an account number without that label may span several visits).
    std::string_view visit = message.get("PV1-19");
    if (visit.empty() && !mrnAuthority_.empty() && message.get("PID-18.4") == mrnAuthority_) {
      visit = message.get("PID-18");
    }
    if (visit.empty()) {
      if (requireVisitNumber_) {
        return cpis::sdk::AdaptResult::dataError(cpis::sdk::Hl7Error::RequiredFieldMissing, "PV1-19",
                                                 "no visit number");
      }
    } else {
      out.visitNumber(visit);
    }
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

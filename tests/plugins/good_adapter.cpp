// A well-behaved adapter written with the C++ SDK layer, exercising most of it: configuration
// keys of each type, message reads by path and identifier, attendance writes, data errors, and
// alerts composed segment by segment or through the engine's standard encoder.
#include <string>

#include <cpis/plugin.hpp>

namespace cpis::test_plugins {

class GoodAdapter final : public sdk::Adapter {
 public:
  explicit GoodAdapter(const sdk::Config& config)
      : site_(config.getString("site")),
        mrnAuthority_(config.getString("mrn_authority")),
        requireVisit_(config.getBool("require_visit")),
        maxRepetitions_(config.getInt("max_repetitions")) {
    config.log().info("good adapter ready");
    log().info("good adapter's own log, from its constructor");  // PluginBase::log, set already
  }

  sdk::AdaptResult adapt(const sdk::MessageView& message, sdk::AttendanceBuilder& out) const override {
    if (message.get("MSH-3") == "BADPATH") (void)message.get("PID-x");  // a plugin bug: FAILED
    const std::string_view trigger = message.get("MSH-9.2");
    if (trigger == "A04" || trigger == "A01") {
      out.event(sdk::Event::Start);
    } else if (trigger == "A08") {
      out.event(sdk::Event::Update);
    } else if (trigger == "A40") {  // a merge: PID the surviving record, MRG-1 the retired one
      out.event(sdk::Event::Merge);
      if (const auto nhs = message.findNhsNumber("PID-3")) out.nhsNumber(*nhs);
      if (const auto prior = message.findNhsNumber("MRG-1")) out.set(sdk::Field::PriorNhsNumber, *prior);
      if (message.has("PID-32") && !out.trySet(sdk::Field::NhsStatus, message.get("PID-32"))) {
        return sdk::AdaptResult::dataError(sdk::Hl7Error::TableValue, "PID-32", "not an NHS number status code");
      }
      return sdk::AdaptResult::attendance();
    } else {
      return sdk::AdaptResult::notAnAttendance("trigger event not mapped");
    }
    if (message.getAll("PID-3(*)").size() > static_cast<std::size_t>(maxRepetitions_)) {
      return sdk::AdaptResult::dataError(sdk::Hl7Error::ValueTooLong, "PID-3", "too many identifiers");
    }
    if (const auto nhs = message.findNhsNumber("PID-3")) out.nhsNumber(*nhs);
    if (message.has("PID-32") && !out.trySet(sdk::Field::NhsStatus, message.get("PID-32"))) {
      return sdk::AdaptResult::dataError(sdk::Hl7Error::TableValue, "PID-32",
                                         "not an NHS number status code");
    }
    const std::string_view visit = message.get("PV1-19");
    if (visit.empty() && requireVisit_) {
      return sdk::AdaptResult::dataError(sdk::Hl7Error::RequiredFieldMissing, "PV1-19", "no visit number");
    }
    out.visitNumber(visit);
    if (const auto mrn = message.findIdentifierByAuthority("PID-3", mrnAuthority_)) {
      out.set("location_key", std::string(message.get("PV1-3.1")) + "/mrn-" + std::to_string(mrn->size()));
    }
    const std::string_view facility = message.get("PV1-3.4");
    out.set(sdk::Field::SiteOdsCode, facility.empty() ? std::string_view(site_) : facility);
    if (message.get("PV1-2") == "E") out.careSetting("ED");
    if (message.get("PV1-2") == "W") {  // a walk-in: moved, its access mode written back as read
      const std::string mode(out.get(sdk::Field::AccessMode));
      out.careSetting("UTC_WIC");
      out.set(sdk::Field::AccessMode, mode);
    }
    if (!out.trySet(sdk::Field::BirthDate, message.get("PID-7"))) {
      return sdk::AdaptResult::dataError(sdk::Hl7Error::DataType, "PID-7", "birth date is not YYYYMMDD");
    }
    // The host masks NHS numbers even when an adapter forgets.
    log().info("adapted " + std::string(message.get("MSH-10")) + " for " +
               std::string(out.get(sdk::Field::NhsNumber)));
    return sdk::AdaptResult::attendance();
  }

  void composeAlerts(const sdk::CheckOutcome& outcome, sdk::AlertWriter& out) const override {
    if (outcome.notFound() || outcome.notChecked()) {
      const bool standard = out.standardAlerts();
      out.segment("NTE").field(1, "1").field(3, standard ? "standard alerts" : "no standard encoder");
      return;
    }
    if (outcome.checkFailed()) {
      out.segment("ZCP")
          .field(1, "1")
          .field(2, "CHECK_FAILED")
          .components(3, {outcome.reasonCode(), outcome.reasonText(), "99CPIS"})
          .field(15, outcome.checkId());
      return;
    }
    int setId = 0;
    for (const auto& plan : outcome.plans()) {
      const auto record = outcome.recordOf(plan);
      auto zcp = out.segment("ZCP");
      zcp.field(1, std::to_string(++setId))
          .field(2, outcome.status())
          .components(4, {plan.typeCode(), plan.displayName(), "99CPIS", plan.snomedCode(),
                          plan.displayName(), "SCT"})
          .field(5, plan.startDate())
          .field(6, plan.endDate().value_or(""))
          .field(8, record.subject())
          .field(9, record.laOdsCode())
          .field(10, record.laName())
          .components(11, {record.emergencyPhone(), "EMR", "PH"})
          .components(13, {outcome.nhsNumber().value_or(""), "", "", "NHS", "NH"})
          .field(16, outcome.accessMode())
          .field(17, std::to_string(outcome.accesses().size()))
          .field(18, outcome.source());
      if (const auto workplace = record.workplacePhone()) zcp.components(12, {*workplace, "WPN", "PH"});
    }
    int accessId = 0;
    for (const auto& access : outcome.accesses()) {
      out.segment("ZCA")
          .field(1, std::to_string(++accessId))
          .field(2, access.at())
          .field(3, access.orgOdsCode())
          .field(4, access.orgName())
          .components(5, {access.jobRoleCode(), access.jobRoleName(), "99SJR"})
          .field(6, access.personName())
          .field(7, access.bySystem() ? "SYSTEM" : "PERSON");
    }
  }

 private:
  std::string site_;
  std::string mrnAuthority_;
  bool requireVisit_;
  std::int64_t maxRepetitions_;
};

}  // namespace cpis::test_plugins

CPIS_EXPORT_ADAPTER(cpis::test_plugins::GoodAdapter, "good", "1.2.3",
                    cpis::sdk::requiredKey("site", CPIS_CONFIG_STRING, "ODS site code when PV1-3.4 is empty"),
                    cpis::sdk::stringKey("mrn_authority", "RZZ", "PID-3.4 of the local MRN"),
                    cpis::sdk::boolKey("require_visit", "true", "PV1-19 is required"),
                    cpis::sdk::intKey("max_repetitions", "10", "most PID-3 repetitions accepted"))

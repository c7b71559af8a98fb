#include "engine/plugin/host_api.h"

#include <chrono>
#include <string>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "engine/plugin/attendance_fields.h"
#include "tests/unit/plugin/plugin_test_support.h"

using namespace cpis::plugin;
using cpis::plugin::test::edRegistration;
using cpis::plugin::test::message;

namespace {

cpis_str str(std::string_view text) {
  return cpis_str{text.data(), text.size()};
}
std::string text(cpis_str s) {
  return std::string(s.data, s.size);
}

// The host services as a plugin sees them, with no plugin: a context without a logger.
struct Host {
  cpis_host_context context;
  cpis_host_api api = makeHostApi(&context);
  CallArena arena;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(host_api)

BOOST_AUTO_TEST_CASE(the_table_starts_with_the_engines_abi_version) {
  Host host;
  BOOST_TEST(host.api.abi_major == static_cast<std::uint32_t>(CPIS_PLUGIN_ABI_MAJOR));
  BOOST_TEST(host.api.abi_minor == static_cast<std::uint32_t>(CPIS_PLUGIN_ABI_MINOR));
  BOOST_TEST(host.api.struct_size == sizeof(cpis_host_api));
  BOOST_TEST(host.api.context == &host.context);
  BOOST_TEST(host.api.notification_get != nullptr);  // the last member is filled in
}

BOOST_AUTO_TEST_CASE(messages_read_by_path_with_the_codecs_semantics) {
  Host host;
  const auto m = message(edRegistration(), {{"PID-32", "NSTS01"}, {"PID-19", "\"\""}});
  const cpis_message handle{&m, nullptr, &host.arena};
  cpis_str value{};
  BOOST_TEST(host.api.message_get(&handle, str("PID-3(2).1"), &value) == CPIS_HOST_OK);
  BOOST_TEST(text(value) == "9990000018");
  BOOST_TEST(host.api.message_get(&handle, str("PID-5.2"), &value) == CPIS_HOST_OK);
  BOOST_TEST(text(value) == "Alex");
  BOOST_TEST(host.api.message_get(&handle, str("PID-18"), &value) == CPIS_HOST_ABSENT);
  BOOST_TEST(text(value).empty());
  BOOST_TEST(host.api.message_get(&handle, str("PID-19"), &value) == CPIS_HOST_ABSENT);  // explicit null
  BOOST_TEST(host.api.message_presence(&handle, str("PID-19")) == CPIS_PRESENCE_NULL);
  BOOST_TEST(host.api.message_presence(&handle, str("PID-18")) == CPIS_PRESENCE_ABSENT);
  BOOST_TEST(host.api.message_presence(&handle, str("PID-32")) == CPIS_PRESENCE_VALUED);
  BOOST_TEST(host.api.message_presence(&handle, str("PID")) == CPIS_PRESENCE_BAD_PATH);
  BOOST_TEST(host.api.message_get(&handle, str("PID-3(*).1"), &value) ==
             CPIS_HOST_BAD_ARGUMENT);  // one place only
  BOOST_TEST(host.api.message_get(&handle, str("nonsense"), &value) == CPIS_HOST_BAD_ARGUMENT);

  cpis_str_list all{};
  BOOST_TEST(host.api.message_get_all(&handle, str("PID-3(*).4"), &all) == CPIS_HOST_OK);
  BOOST_TEST_REQUIRE(all.count == 2U);
  BOOST_TEST(text(all.items[0]) == "RZZ");
  BOOST_TEST(text(all.items[1]) == "NHS");

  BOOST_TEST(host.api.message_raw(&handle, str("PID-3"), &value) == CPIS_HOST_OK);
  BOOST_TEST(text(value) == "K4455667^^^RZZ^MR");  // the first repetition, undecoded
  BOOST_TEST(host.api.message_count(&handle, str("PID")) == 1U);
  BOOST_TEST(host.api.message_count(&handle, str("OBX")) == 0U);
}

BOOST_AUTO_TEST_CASE(a_message_is_written_only_when_the_engine_opened_it_for_writing) {
  Host host;
  auto m = message(edRegistration());
  cpis_message readOnly{&m, nullptr, &host.arena};
  BOOST_TEST(host.api.message_writable(&readOnly) == 0);
  BOOST_TEST(host.api.message_set(&readOnly, str("PID-5.1"), str("X")) == CPIS_HOST_READ_ONLY);
  BOOST_TEST(m.get("PID-5.1") == "TESTCHILD");

  cpis_message writable{&m, &m, &host.arena};
  BOOST_TEST(host.api.message_writable(&writable) == 1);
  BOOST_TEST(host.api.message_set(&writable, str("ZCX-2.1"), str("a&b")) == CPIS_HOST_OK);
  BOOST_TEST(m.get("ZCX-2.1") == "a&b");
  BOOST_TEST(m.serialize().find("ZCX||a\\T\\b") != std::string::npos);  // escaped by the engine
  BOOST_TEST(host.api.message_set(&writable, str("PID-3(*)"), str("x")) == CPIS_HOST_BAD_ARGUMENT);
}

struct FieldCase {
  std::string name;
  std::string written;
  cpis_host_result result;
  std::string readBack;
};
std::ostream& operator<<(std::ostream& os, const FieldCase& c) {
  return os << c.name << "=" << c.written;
}

const std::vector<FieldCase> kFieldCases{
    {"trigger_event", "A08", CPIS_HOST_OK, "A08"},
    {"event", "CANCEL", CPIS_HOST_OK, "CANCEL"},
    {"event", "", CPIS_HOST_BAD_ARGUMENT, "NOT_AN_ATTENDANCE"},
    {"event", "start", CPIS_HOST_BAD_ARGUMENT, "NOT_AN_ATTENDANCE"},
    {"nhs_number", "999 000 0018", CPIS_HOST_OK, "9990000018"},
    {"nhs_number", "9990000019", CPIS_HOST_BAD_ARGUMENT, ""},
    {"nhs_status", "NSTS02", CPIS_HOST_OK, "NSTS02"},
    {"nhs_status", "NSTS09", CPIS_HOST_BAD_ARGUMENT, ""},
    {"family_name", "O'Brien-Zoë", CPIS_HOST_OK, "O'Brien-Zoë"},
    {"family_name", "\xff", CPIS_HOST_BAD_ARGUMENT, ""},
    {"given_name", "Alex", CPIS_HOST_OK, "Alex"},
    {"birth_date", "20150403", CPIS_HOST_OK, "20150403"},
    {"birth_date", "20150230", CPIS_HOST_BAD_ARGUMENT, ""},
    {"birth_date", "2015-04-03", CPIS_HOST_BAD_ARGUMENT, ""},
    {"sex", "F", CPIS_HOST_OK, "F"},
    {"sex", "A", CPIS_HOST_OK, "O"},  // HL7 0001 ambiguous: Other
    {"sex", "X", CPIS_HOST_BAD_ARGUMENT, "U"},
    {"pregnant", "Y", CPIS_HOST_OK, "Y"},
    {"pregnant", "yes", CPIS_HOST_BAD_ARGUMENT, "N"},
    {"expected_delivery_date", "20251101", CPIS_HOST_OK, "20251101"},
    {"visit_number", "A250612001", CPIS_HOST_OK, "A250612001"},
    {"arrived_at", "20250612143005+0100", CPIS_HOST_OK, "20250612133005.000+0000"},
    {"arrived_at", "20250612143005.25-0500", CPIS_HOST_OK, "20250612193005.250+0000"},
    {"arrived_at", "202506121430", CPIS_HOST_OK, "20250612133000.000+0000"},    // London, BST
    {"arrived_at", "20250112143005", CPIS_HOST_OK, "20250112143005.000+0000"},  // London, GMT
    {"arrived_at", "2025061214", CPIS_HOST_OK, "20250612130000.000+0000"},
    {"arrived_at", "20250612143", CPIS_HOST_BAD_ARGUMENT, ""},
    {"arrived_at", "20250612143005+01", CPIS_HOST_BAD_ARGUMENT, ""},
    {"arrived_at", "20250612250000+0000", CPIS_HOST_BAD_ARGUMENT, ""},
    {"location_key", "EDMAJ@RZZ01", CPIS_HOST_OK, "EDMAJ@RZZ01"},
    {"care_setting", "UTC_WIC", CPIS_HOST_OK, "UTC_WIC"},
    {"care_setting", "WARD", CPIS_HOST_BAD_ARGUMENT, ""},
    {"site_ods_code", "RZZ01", CPIS_HOST_OK, "RZZ01"},
    {"department", "EDMAJ", CPIS_HOST_OK, "EDMAJ"},
    {"patient_class", "E", CPIS_HOST_OK, "E"},
    {"access_mode", "SCHEDULED", CPIS_HOST_OK, "SCHEDULED"},
    {"access_mode", "SILENT", CPIS_HOST_BAD_ARGUMENT, ""},
    {"scheduled_only", "Y", CPIS_HOST_OK, "Y"},
    {"event", "MERGE", CPIS_HOST_OK, "MERGE"},
    {"prior_nhs_number", "999 000 0026", CPIS_HOST_OK, "9990000026"},
    {"prior_nhs_number", "9990000027", CPIS_HOST_BAD_ARGUMENT, ""},  // wrong check digit: cleared
    {"feed_id", "other", CPIS_HOST_READ_ONLY, ""},
    {"control_id", "other", CPIS_HOST_READ_ONLY, ""},
    {"nhs_number_problem", "x", CPIS_HOST_READ_ONLY, ""},
};

BOOST_DATA_TEST_CASE(attendance_fields_read_and_write_as_text, boost::unit_test::data::make(kFieldCases), c) {
  Host host;
  cpis::domain::Attendance attendance;
  cpis_attendance handle{&attendance, &host.arena};
  const cpis_attendance_field field = host.api.attendance_field_id(str(c.name));
  BOOST_TEST_REQUIRE(field != CPIS_FIELD_UNKNOWN);
  BOOST_TEST(attendanceFieldName(field) == c.name);
  BOOST_TEST(host.api.attendance_set(&handle, field, str(c.written)) == c.result);
  cpis_str value{};
  BOOST_TEST(host.api.attendance_get(&handle, field, &value) == CPIS_HOST_OK);
  BOOST_TEST(text(value) == c.readBack);
}

// A pregnancy the mapping could not read is read back empty; written back empty it stays
// unreadable (checked as if pregnant); Y or N is the adapter's word on it.
BOOST_AUTO_TEST_CASE(an_unreadable_pregnancy_reads_empty_and_survives_being_written_back) {
  Host host;
  cpis::domain::Attendance attendance;
  attendance.pregnancyUnreadable = true;
  cpis_attendance handle{&attendance, &host.arena};
  cpis_str value{};
  BOOST_TEST(host.api.attendance_get(&handle, CPIS_FIELD_PREGNANT, &value) == CPIS_HOST_OK);
  BOOST_TEST(text(value).empty());
  BOOST_TEST(host.api.attendance_set(&handle, CPIS_FIELD_PREGNANT, str("")) == CPIS_HOST_OK);
  BOOST_TEST(attendance.pregnancyUnreadable);
  BOOST_TEST(host.api.attendance_set(&handle, CPIS_FIELD_PREGNANT, str("N")) == CPIS_HOST_OK);
  BOOST_TEST(!attendance.pregnancyUnreadable);
  BOOST_TEST(!attendance.pregnant);
  BOOST_TEST(host.api.attendance_get(&handle, CPIS_FIELD_PREGNANT, &value) == CPIS_HOST_OK);
  BOOST_TEST(text(value) == "N");
}

BOOST_AUTO_TEST_CASE(an_empty_text_clears_a_field_and_an_invalid_number_says_why) {
  Host host;
  cpis::domain::Attendance attendance;
  cpis_attendance handle{&attendance, &host.arena};
  BOOST_TEST(host.api.attendance_set(&handle, CPIS_FIELD_NHS_NUMBER, str("9990000018")) == CPIS_HOST_OK);
  BOOST_TEST(host.api.attendance_set(&handle, CPIS_FIELD_NHS_NUMBER, str("99900000")) ==
             CPIS_HOST_BAD_ARGUMENT);
  BOOST_TEST(!attendance.nhsNumber.has_value());
  BOOST_TEST(attendance.nhsNumberProblem == std::string(describe(cpis::domain::NhsNumberError::WrongLength)));
  BOOST_TEST_REQUIRE(attendance.refusedNhsNumber.has_value());  // for ZCP-13
  BOOST_TEST(attendance.refusedNhsNumber->reveal() == "99900000");
  BOOST_TEST(host.api.attendance_set(&handle, CPIS_FIELD_NHS_NUMBER, str("")) == CPIS_HOST_OK);
  BOOST_TEST(attendance.nhsNumberProblem.empty());
  BOOST_TEST(!attendance.refusedNhsNumber.has_value());
  BOOST_TEST(host.api.attendance_set(&handle, CPIS_FIELD_BIRTH_DATE, str("20150403")) == CPIS_HOST_OK);
  BOOST_TEST(host.api.attendance_set(&handle, CPIS_FIELD_BIRTH_DATE, str("")) == CPIS_HOST_OK);
  BOOST_TEST(!attendance.birthDate.has_value());
  BOOST_TEST(host.api.attendance_field_id(str("no_such_field")) == CPIS_FIELD_UNKNOWN);
  BOOST_TEST(host.api.attendance_set(&handle, static_cast<cpis_attendance_field>(999), str("x")) ==
             CPIS_HOST_BAD_ARGUMENT);
}

BOOST_AUTO_TEST_CASE(errors_take_data_codes_and_paths_only) {
  Host host;
  cpis_error error;
  BOOST_TEST(host.api.error_set(&error, 105, str("PID-3"), str("x")) == CPIS_HOST_BAD_ARGUMENT);
  BOOST_TEST(host.api.error_set(&error, 101, str("PID-3(*)"), str("x")) == CPIS_HOST_BAD_ARGUMENT);
  BOOST_TEST(host.api.error_set(&error, 101, str("the third field"), str("x")) == CPIS_HOST_BAD_ARGUMENT);
  BOOST_TEST(!error.set);
  BOOST_TEST(host.api.error_set(&error, 102, str("PID-3(2).1"), str("bad\rnumber 9990000018")) ==
             CPIS_HOST_OK);
  BOOST_TEST(error.set);
  BOOST_TEST(error.code == 102U);
  BOOST_TEST(error.location == "PID-3(2).1");
  BOOST_TEST(error.text == "bad number ***");
  // A number across the 500-byte cut is masked before the cut, not missed because of it.
  BOOST_TEST(host.api.error_set(&error, 102, str("PID-3"), str(std::string(495, 'x') + "9990000018")) ==
             CPIS_HOST_OK);
  BOOST_TEST(error.text.find("999") == std::string::npos, error.text);
  BOOST_TEST(error.text.size() <= 500u);
}

struct MaskCase {
  std::string in, out;
};
std::ostream& operator<<(std::ostream& os, const MaskCase& c) {
  return os << c.in;
}
const std::vector<MaskCase> kMaskCases{
    {"number 9990000018 refused", "number *** refused"},
    {"9990000018", "***"},
    {"943 476 5919 and 943-476-5919", "*** and ***"},
    {"9990000019 fails modulus 11", "*** fails modulus 11"},  // a mistyped number: masked too
    {"999-000-0019 too", "*** too"},
    {"id 19990000018 is longer", "id 19990000018 is longer"},
    {"999 000 00181", "999 000 00181"},
    {"born 20150403", "born ***"},  // a birth date, perhaps: dates are masked too
    {"at 201504031200 and 20150403120000.", "at *** and ***."},
    {"dob 03/04/2015, 2015-04-03, 03.04.2015", "dob ***, ***, ***"},
    {"id 20151332 and 12345678", "id 20151332 and 12345678"},  // no such date
    {"version 2.5.1, 12/2025", "version 2.5.1, 12/2025"},
    {"03042015 3/4/2015 12/31/2015 2015.04.03 2015-4-3", "*** *** *** *** ***"},
    {"03-Apr-2015, 3 April 2015, 03/04/15.", "***, ***, ***."},
    {"host 10.0.0.1 at 10:30, tel 01632 960001, 3 Mayfair",
     "host 10.0.0.1 at 10:30, tel 01632 960001, 3 Mayfair"},
    {"line\none\ttab", "line one tab"},
    // A raw segment, as a plugin might log message_raw("PID"): names and addresses go with it.
    {"raw PID|1||K1^^^RZZ^MR||TESTCHILD^ALEX||20150403|M|||1 HIGH ST^^LEEDS^^LS1 4AB\rPV1|1|E",
     "raw PID|*** PV1|***"},
    {"field PID-5 empty; segment ZU1 missing; A|B", "field PID-5 empty; segment ZU1 missing; A|B"},
    {"943.476.5919 and 943/476/5919", "*** and ***"},
    {"caf\xc3\xa9", "caf\xc3\xa9"},
    {"bad \xff byte", "bad ? byte"},
};
BOOST_DATA_TEST_CASE(log_text_loses_what_looks_like_an_nhs_number, boost::unit_test::data::make(kMaskCases),
                     c) {
  BOOST_TEST(maskPatientData(c.in) == c.out);
}

BOOST_AUTO_TEST_CASE(log_text_is_capped) {
  const std::string masked = maskPatientData(std::string(5000, 'x'));
  BOOST_TEST(masked.size() == 1003U);
  BOOST_TEST(masked.substr(1000) == "...");
}

BOOST_AUTO_TEST_CASE(a_check_outcome_reads_as_text) {
  using namespace std::chrono;
  Host host;
  cpis::domain::CheckOutcome outcome;
  outcome.status = cpis::domain::CheckStatus::Found;
  outcome.queried = cpis::domain::NhsNumber::parse("9990000018");
  outcome.mode = cpis::domain::AccessMode::Unscheduled;
  outcome.decidedAt = cpis::domain::Instant(sys_days(2025y / June / 12) + 13h + 30min + 6s);
  outcome.checkId = "3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44";
  cpis::domain::CpisRecord record;
  record.la = {"XLA01", "Exampleshire County Council", "01632 960001", std::nullopt};
  record.plans.push_back({cpis::domain::PlanType::Cppi, 2025y / March / 1, std::nullopt});
  record.plans.push_back({cpis::domain::PlanType::Laci, 2024y / January / 5, 2024y / December / 31});
  outcome.records.push_back(record);
  cpis::domain::PriorAccess access;
  access.at = cpis::domain::Instant(sys_days(2025y / May / 28) + 1h + 15min);
  access.bySystem = true;
  access.orgOdsCode = "RZY";
  outcome.accesses.push_back(access);
  const cpis_outcome handle{&outcome, &host.arena};

  const auto get = [&](cpis_outcome_field field, std::uint32_t index = 0, std::uint32_t sub = 0) {
    cpis_str value{};
    const cpis_host_result result = host.api.outcome_get(&handle, field, index, sub, &value);
    return std::make_pair(result, text(value));
  };
  BOOST_TEST(get(CPIS_OUTCOME_STATUS).second == "FOUND");
  BOOST_TEST(get(CPIS_OUTCOME_REASON).first == CPIS_HOST_ABSENT);
  BOOST_TEST(get(CPIS_OUTCOME_NHS_NUMBER).second == "9990000018");
  BOOST_TEST(get(CPIS_OUTCOME_ACCESS_MODE).second == "UNSCHEDULED");
  BOOST_TEST(get(CPIS_OUTCOME_DECIDED_AT).second == "20250612133006.000+0000");
  BOOST_TEST(get(CPIS_OUTCOME_SOURCE).second == "SPINE");
  BOOST_TEST(host.api.outcome_count(&handle, CPIS_LIST_RECORDS, 0) == 1U);
  BOOST_TEST(host.api.outcome_count(&handle, CPIS_LIST_PLANS, 0) == 2U);
  BOOST_TEST(host.api.outcome_count(&handle, CPIS_LIST_PLANS, 7) == 0U);
  BOOST_TEST(host.api.outcome_count(&handle, CPIS_LIST_ACCESSES, 0) == 1U);
  BOOST_TEST(get(CPIS_RECORD_LA_NAME, 0).second == "Exampleshire County Council");
  BOOST_TEST(get(CPIS_RECORD_LA_WORKPLACE_PHONE, 0).first == CPIS_HOST_ABSENT);
  BOOST_TEST(get(CPIS_RECORD_SUBJECT, 0).second == "CHILD");
  BOOST_TEST(get(CPIS_RECORD_LA_NAME, 1).first == CPIS_HOST_BAD_ARGUMENT);
  BOOST_TEST(get(CPIS_PLAN_TYPE, 0, 1).second == "LACI");
  BOOST_TEST(get(CPIS_PLAN_START, 0, 0).second == "20250301");
  BOOST_TEST(get(CPIS_PLAN_END, 0, 0).first == CPIS_HOST_ABSENT);
  BOOST_TEST(get(CPIS_PLAN_END, 0, 1).second == "20241231");
  BOOST_TEST(get(CPIS_PLAN_SNOMED_CODE, 0, 0).second == "342191000000101");
  BOOST_TEST(get(CPIS_PLAN_TYPE, 0, 2).first == CPIS_HOST_BAD_ARGUMENT);
  BOOST_TEST(get(CPIS_ACCESS_AT, 0).second == "20250528011500.000+0000");
  BOOST_TEST(get(CPIS_ACCESS_BY_SYSTEM, 0).second == "Y");
  BOOST_TEST(get(CPIS_ACCESS_ASID, 0).first == CPIS_HOST_ABSENT);
  BOOST_TEST(get(CPIS_ACCESS_ORG_ODS_CODE, 1).first == CPIS_HOST_BAD_ARGUMENT);
  BOOST_TEST(get(static_cast<cpis_outcome_field>(99)).first == CPIS_HOST_BAD_ARGUMENT);
  BOOST_TEST(get(CPIS_OUTCOME_REFUSED_NHS_NUMBER).first == CPIS_HOST_ABSENT);
  // Not checked on a refused number (ABI 1.2): the value as sent, and no number queried.
  outcome.status = cpis::domain::CheckStatus::NotChecked;
  outcome.queried.reset();
  outcome.refusedNhsNumber.emplace("999 000 0019");
  BOOST_TEST(get(CPIS_OUTCOME_REFUSED_NHS_NUMBER).second == "999 000 0019");
  BOOST_TEST(get(CPIS_OUTCOME_NHS_NUMBER).first == CPIS_HOST_ABSENT);
}

BOOST_AUTO_TEST_SUITE_END()

#pragma once

// Fictitious CP-IS data for the codec tests: test-range NHS numbers, made-up people,
// organisations and ASIDs.

#include <chrono>
#include <string>
#include <vector>

#include "engine/cpis/lookup.h"
#include "engine/cpis/spine_message.h"
#include "engine/domain/cpis_record.h"

namespace cpis::test::samples {

inline domain::Date date(int year, unsigned month, unsigned day) {
  return domain::Date{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
}

inline domain::Instant utc(int year, unsigned month, unsigned day, int hour, int minute, int second) {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::sys_days(date(year, month, day)) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
      std::chrono::seconds(second));
}

inline domain::NhsNumber nhsNumber(const char* digits = "9990000018") { return *domain::NhsNumber::parse(digits); }

inline ::cpis::cpis::Author systemAuthor() {
  ::cpis::cpis::Author author;
  author.kind = ::cpis::cpis::Author::Kind::System;
  author.asid = "200000000101";
  author.jobRoleCode = "R0260";
  author.jobRoleName = "General Medical Practitioner";
  author.personName = "Lee Safeguard";
  author.orgOdsCode = "RZZ01";
  author.orgName = "Example Hospital Emergency Department";
  return author;
}

inline ::cpis::cpis::Author personAuthor() {
  ::cpis::cpis::Author author;
  author.kind = ::cpis::cpis::Author::Kind::Person;
  author.sdsUserId = "555000000001";
  author.sdsRoleProfileId = "555000000002";
  author.jobRoleCode = "R8000";
  author.jobRoleName = "Clinical Practitioner Access Role";
  author.personName = "Sam Example";
  author.orgOdsCode = "RZZ02";
  author.orgName = "Example Minor Injuries Unit";
  return author;
}

inline ::cpis::cpis::LookupRequest request(::cpis::cpis::Author author, domain::AccessMode mode) {
  return ::cpis::cpis::LookupRequest{.nhsNumber = nhsNumber(),
                                   .mode = mode,
                                   .author = std::move(author),
                                   .checkId = "3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44",
                                   .feedId = {},
                                   .locationKey = {},
                                   .answerBy = std::nullopt};
}

inline ::cpis::cpis::MessageHeader queryHeader() {
  ::cpis::cpis::MessageHeader header;
  header.messageId = "A1B2C3D4-E5F6-4A1B-8C2D-3E4F5A6B7C8D";
  header.creationTime = utc(2025, 6, 12, 13, 30, 5);
  header.fromAsid = "200000000101";
  header.toAsid = "990000000001";
  header.endpoint = "https://spine.example.invalid/sync-service";
  header.fromAddress = "https://cpis-engine.example.invalid";
  return header;
}

inline ::cpis::cpis::MessageHeader replyHeader() {
  ::cpis::cpis::MessageHeader header;
  header.messageId = "7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311";
  header.creationTime = utc(2025, 6, 12, 13, 30, 6);
  header.fromAsid = "990000000001";
  header.toAsid = "200000000101";
  header.relatesTo = queryHeader().messageId;
  return header;
}

inline domain::LocalAuthority localAuthority(bool withWorkplacePhone = true) {
  domain::LocalAuthority la;
  la.odsCode = "XLA01";
  la.name = "Exampleshire County Council";
  la.emergencyPhone = "01632960001";
  if (withWorkplacePhone) la.workplacePhone = "01632960000";
  return la;
}

inline domain::CpisRecord record(std::vector<domain::ProtectionPlan> plans,
                                 domain::SubjectKind subject = domain::SubjectKind::Child,
                                 bool withWorkplacePhone = true) {
  return domain::CpisRecord{localAuthority(withWorkplacePhone), subject, std::move(plans)};
}

inline domain::PriorAccess personAccess(domain::Instant at) {
  return domain::PriorAccess{at, false, "Sam Example", "R8000", "Clinical Practitioner Access Role",
                             "RZZ02", "Example Minor Injuries Unit", std::nullopt};
}

inline domain::PriorAccess systemAccess(domain::Instant at) {
  return domain::PriorAccess{at, true, "Lee Safeguard", "R0260", "General Medical Practitioner",
                             "RZY", "Example Ambulance Service", std::string("200000000202")};
}

inline ::cpis::cpis::ReplySubject subject() {
  return ::cpis::cpis::ReplySubject{"9990000018", "Alex", "Testchild", date(2015, 4, 3)};
}

}  // namespace cpis::test::samples

#pragma once

// respond: the CP-IS outcome as alert segments in the HL7 v2 acknowledgement (CPIS.md §5).

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/core/issue.h"
#include "engine/domain/attendance.h"
#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/charset.h"
#include "engine/hl7v2/delimiters.h"
#include "engine/hl7v2/message.h"

namespace cpis::pipeline {

// How a feed's EPR takes the outcome: ZCP/ZCA segments, OBX segments (for EPRs that refuse
// Z-segments), or nothing but MSA-3.
enum class AlertEncoding { Zseg, Obx, None };
std::string_view toString(AlertEncoding encoding);  // "ZSEG", "OBX", "NONE": the configuration's spelling
std::optional<AlertEncoding> parseAlertEncoding(std::string_view text);

// Coding-system names written in CE/CWE components; an adapter may rename them (a v2.4
// receiver may want another name for SNOMED CT).
struct CodingSystems {
  std::string cpis = "99CPIS";    // statuses, reasons, plan types, OBX-3 codes
  std::string snomed = "SCT";     // plan SNOMED CT codes
  std::string jobRole = "99SJR";  // SDS job roles
  std::string ods = "99ODS";      // organisations (OBX access rows)
};

struct AlertOptions {
  AlertEncoding encoding = AlertEncoding::Zseg;
  CodingSystems codingSystems;
  std::string checkIdAuthority = "CPIS-ENGINE";  // ZCP-15.2
  // Whether failed unscheduled checks are retried in the background and the retry's answer
  // reaches this EPR (the feed's return connection): the display text then says "Automatic
  // retry in progress." (never claimed otherwise).
  bool failedChecksRetried = false;
};

// Appends the outcome's alert segments, each ended by '\r', written with `delimiters` in
// `charset` (characters the set cannot hold become '?'):
//   Zseg: ZCP, one per plan when FOUND (plans numbered across records), exactly one otherwise;
//         then one ZCA per prior access (at most 25) after FOUND. All 19 ZCP fields as CPIS.md
//         §5 defines them; ZCP-7 compares the plan's end date with the Europe/London date of
//         the check; ZCP-17 only for FOUND; ZCP-19 a line a clinician can read, which for
//         CHECK_FAILED and NOT_CHECKED says it is NOT a negative result and asks for a manual
//         check in NCRS.
//   Obx:  the same content as OBX rows: OBX-3 coded in the CP-IS system, OBX-4 grouping rows
//         (0 the check, 1..n a plan, A1..A25 an access), OBX-11 F, or X when the check failed
//         or was not made. OBX-2 only value types HL7 table 0125 allows (v2.3 to v2.5.1): codes
//         without a coding system (plan state, subject, mode, source, accessor kind) and the
//         check id are ST, not ID or EI.
//   None: nothing.
void encodeAlerts(const domain::CheckOutcome& outcome, const AlertOptions& options,
                  const hl7v2::Delimiters& delimiters, hl7v2::Charset charset, std::string& segmentsOut);

// MSA-3: "CP-IS: 1 plan found", "CP-IS: no plan found",
// "CP-IS CHECK FAILED - not a negative result", "CP-IS NOT CHECKED (NO_NHS_NUMBER) - not a negative result".
std::string alertSummary(const domain::CheckOutcome& outcome);
// Whether any of `issues` is an error (not a warning): MSA-3 then says that, not the summary.
bool anyError(std::span<const core::Issue> issues);

// ZCP-19 for an outcome other than FOUND (a FOUND outcome has one text per plan).
std::string displayText(const domain::CheckOutcome& outcome, const AlertOptions& options);

// The ACK to `inbound` (hl7v2::buildAck) with the outcome's alert segments after MSA and any ERR.
// MSA-3 is alertSummary() unless `ack` sets its own text or an issue is an error (the first
// issue's text then stays, as buildAck writes it); warnings only add ERR segments. MSA-1 reflects the message, not CP-IS: pass AA for a
// stored, well-formed ADT even when the check failed (CPIS.md §5).
std::string buildAlertAck(const hl7v2::Message& inbound, hl7v2::AckCode code,
                          std::span<const core::Issue> issues, hl7v2::AckOptions ack,
                          const domain::CheckOutcome& outcome, const AlertOptions& options);

// For an ACK built elsewhere (hl7v2::buildRejection included): appends the alert segments in
// the ACK's own delimiters and character set (read from its MSH).
void appendAlerts(std::string& ack, const domain::CheckOutcome& outcome, const AlertOptions& options);

}  // namespace cpis::pipeline

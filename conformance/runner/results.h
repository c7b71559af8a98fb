#pragma once

// What running a scenario found: each check with its expected and actual value, the bytes
// exchanged, and the verdict. The reports (report.h) are written from these.

#include <string>
#include <vector>

#include "conformance/runner/scenario.h"

namespace cpis::conformance {

struct CheckResult {
  std::string what;      // "MSA-1", "ZCP(1)-2", "simulator: accesses for 999...", "connection"
  std::string expected;  // in words: "equals FOUND", "non-empty"
  std::string actual;
  bool passed = false;
};

struct StepResult {
  std::string name;
  std::string sent;                  // what was written (segments on lines; raw bytes escaped)
  std::vector<std::string> replies;  // each reply's payload as received
  std::vector<CheckResult> checks;
  std::string error;  // a failure that stopped the step (connection, time-out)
  int attempts = 1;
  bool passed() const;
};

struct ScenarioResult {
  const Scenario* scenario = nullptr;
  enum class Verdict { Passed, Failed, Skipped };
  Verdict verdict = Verdict::Passed;
  std::string skipReason;
  std::string error;  // set-up failed (simulator unreachable, ...)
  std::vector<StepResult> steps;
  double seconds = 0;
};

// The checks a reply must pass, evaluated against what came back. `controlId` is the MSH-10
// sent (for MSA-2); `earlierReplies` are the first replies of earlier steps (for sameAsStep).
std::vector<CheckResult> checkReply(const ReplyExpect& expect, const std::string& reply, const std::string& controlId,
                                    const std::vector<std::string>& earlierReplies);
// One value against a field expectation.
bool matches(const FieldCheck& check, const std::string& actual);
std::string describe(const FieldCheck& check);

}  // namespace cpis::conformance

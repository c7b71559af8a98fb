#pragma once

// Shared by the client and simulator suites: the CP-IS simulator running in-process as a real
// HTTP(S) server on port 0 with the shipped dataset, and lookups pointed at it.

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/spine_simulator.h"
#include "engine/cpis/lookup.h"
#include "engine/cpis/spine_lookup.h"
#include "engine/cpis/spine_message.h"
#include "tests/support/test_pki.h"
#include "tests/unit/cpis/cpis_test_support.h"

namespace cpis::test {

inline const std::filesystem::path& shippedDataset() {
  static const std::filesystem::path file =
      std::filesystem::path(CPIS_SOURCE_DIR) / "conformance/simulator/dataset/children.json";
  return file;
}

// Loaded once: the shipped dataset (55 children).
inline const sim::Dataset& dataset() {
  static const sim::Dataset loaded = sim::Dataset::load(shippedDataset());
  return loaded;
}

// The child whose fixture label is `label`: tests name what they need, not a number.
inline const sim::Child& childLabelled(const std::string& label) {
  for (const auto& child : dataset().children()) {
    if (child.label == label) return child;
  }
  throw std::runtime_error("no child labelled '" + label + "' in the shipped dataset");
}

// Made once per run (openssl takes a second or two): CA, server certificate for 127.0.0.1,
// client certificates epr01/epr02 and rogue (from an untrusted CA).
inline const TestPki& pki() {
  static const TestPki instance;
  return instance;
}

inline domain::Instant utcInstant(int year, unsigned month, unsigned day, int hour, int minute, int second) {
  const domain::Date date{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::sys_days(date) +
                                                                  std::chrono::hours(hour) +
                                                                  std::chrono::minutes(minute) +
                                                                  std::chrono::seconds(second));
}

inline constexpr const char* kOurAsid = "200000000101";
inline constexpr const char* kServiceAsid = "990000000001";

inline ::cpis::cpis::Author systemAuthor() {
  ::cpis::cpis::Author author;
  author.kind = ::cpis::cpis::Author::Kind::System;
  author.asid = kOurAsid;
  author.jobRoleCode = "R0260";
  author.jobRoleName = "General Medical Practitioner";
  author.personName = "Lee Safeguard";
  author.orgOdsCode = "RZZ01";
  author.orgName = "Example Hospital Emergency Department";
  return author;
}

inline ::cpis::cpis::LookupRequest lookupRequest(const domain::NhsNumber& number, domain::AccessMode mode) {
  return ::cpis::cpis::LookupRequest{.nhsNumber = number,
                                     .mode = mode,
                                     .author = systemAuthor(),
                                     .checkId = ::cpis::cpis::newMessageId(),
                                     .feedId = "rzz-ed",
                                     .locationKey = "RZZ01/EDMAJ",
                                     .answerBy = std::nullopt};
}

inline domain::NhsNumber numberOf(const std::string& label) { return childLabelled(label).nhsNumber; }

// A simulator on 127.0.0.1:0 with the shipped dataset, started; plain HTTP unless `tls` is set.
struct Simulator {
  explicit Simulator(sim::SimulatorSettings settings = {}) {
    // As the programs do: writing a reply to a client that gave up must not end the process.
    signal(SIGPIPE, SIG_IGN);
    settings.address = "127.0.0.1";
    settings.port = 0;
    settings.serviceAsid = kServiceAsid;
    if (settings.maxHold == std::chrono::milliseconds(60'000)) settings.maxHold = std::chrono::milliseconds(3'000);
    server = std::make_unique<sim::SpineSimulator>(settings, spineSchemas(), dataset());
    server->start();
  }

  // Lookup settings pointed at this simulator: 2 s time-out, no retries, a breaker that does
  // not open unless a test asks.
  ::cpis::cpis::SpineLookupSettings lookupSettings() const {
    ::cpis::cpis::SpineLookupSettings s;
    s.endpoint = ::cpis::cpis::Endpoint::parse(server->queryUrl()).value();
    s.fromAsid = kOurAsid;
    s.toAsid = kServiceAsid;
    s.source = domain::Source::Simulator;
    s.timeout = std::chrono::milliseconds(2'000);
    s.retries = 0;
    s.breaker.failureThreshold = 0;
    return s;
  }

  sim::SimulatorState& state() { return server->state(); }

  std::unique_ptr<sim::SpineSimulator> server;
};

}  // namespace cpis::test

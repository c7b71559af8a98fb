// cpis-bench-cpis-codec [SCHEMA_FOLDER] [SECONDS_PER_CASE] [PRIOR_ACCESSES]
//
// Measures, on one thread, the CP-IS HL7 v3 message work the engine does per check:
//   build query      QUPC_IN000006GB01 in its SOAP envelope (system author)
//   validate query   Xerces-C++ against the cached grammar, as the tests do
//   build reply      REPC_IN000007GB01: one record, two plans, PRIOR_ACCESSES prior accesses
//                    (default 5; a reply carries at most 25)
//   validate reply   the REPC interaction alone
//   parse reply      parseReply(): libxml2 parse, interaction copy, Xerces validation, extraction
//   validate reply cold  the same after evicting the caches (16 MiB written, a line at a time),
//                    less the eviction's own time: the grammar as the engine finds it between checks
//   parse not found  parseReply() of a QUQI_IN010000UK14 "no records" reply
//   cycle            build query + validate it + build reply + parse reply
// and the one-off cost of loading the schemas. Each case runs for the given time (default
// 2 s) in five rounds; the median round is reported. SCHEMA_FOLDER defaults to
// $CPIS_SPINE_SCHEMAS, else ../shared/reference/spine-schema beside the source tree.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_schemas.h"
#include "tests/support/spine_test_data.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace cc = cpis::cpis;
namespace dom = cpis::domain;

volatile std::size_t gSink;  // keeps the optimiser from dropping the work

// This thread's CPU time: on a shared machine the wall clock also counts other people's work.
double threadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Rate {
  double perSecond;     // operations per wall-clock second (median round)
  double cpuMicros;     // CPU time per operation (median round)
};

template <typename Op>
Rate measure(double seconds, Op&& op) {
  std::vector<double> rates, cpu;
  for (int round = 0; round < 5; ++round) {
    std::size_t ops = 0;
    const auto start = Clock::now();
    const double cpuStart = threadCpuSeconds();
    const auto deadline = start + std::chrono::duration<double>(seconds / 5);
    auto now = start;
    do {
      for (int i = 0; i < 16; ++i) gSink = gSink + op();
      ops += 16;
      now = Clock::now();
    } while (now < deadline);
    rates.push_back(static_cast<double>(ops) / std::chrono::duration<double>(now - start).count());
    cpu.push_back((threadCpuSeconds() - cpuStart) * 1e6 / static_cast<double>(ops));
  }
  std::sort(rates.begin(), rates.end());
  std::sort(cpu.begin(), cpu.end());
  return {rates[2], cpu[2]};
}

void report(const char* name, Rate rate, std::size_t bytes) {
  std::printf("%-16s %8.0f /s wall  %8.1f us CPU/op  %8.0f /s per CPU  (%zu bytes)\n", name, rate.perSecond,
              rate.cpuMicros, 1e6 / rate.cpuMicros, bytes);
}

dom::Date date(int y, unsigned m, unsigned d) { return dom::Date{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)}; }

std::string interactionOf(const std::string& soap, const std::string& name) {
  const auto begin = soap.find("<" + name);
  const auto end = soap.find("</" + name + ">");
  return soap.substr(begin, end + name.size() + 3 - begin);
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path folder = cpis::test::spineSchemaFolder();
  if (argc > 1 && *argv[1] != 0) folder = argv[1];
  const double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
  const int priorAccesses = argc > 3 ? std::clamp(std::atoi(argv[3]), 0, 25) : 5;

  const cpis::config::XercesPlatform platform;
  const auto loadStart = Clock::now();
  std::unique_ptr<cc::SpineSchemas> loaded;
  try {
    loaded = std::make_unique<cc::SpineSchemas>(folder);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpis-bench-cpis-codec: %s\n", e.what());
    return 2;
  }
  const cc::SpineSchemas& schemas = *loaded;
  const double loadMs = std::chrono::duration<double, std::milli>(Clock::now() - loadStart).count();
  std::printf("schemas loaded in %.1f ms (%zu known-quirk warnings)\n", loadMs, schemas.loadWarnings().size());

  cc::LookupRequest request{.nhsNumber = *dom::NhsNumber::parse("9990000018"),
                            .mode = dom::AccessMode::Unscheduled,
                            .author = {},
                            .checkId = "3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44",
                            .feedId = {},
                            .locationKey = {},
                            .answerBy = std::nullopt,
                            .earlierMayHaveArrived = false};
  request.author.kind = cc::Author::Kind::System;
  request.author.asid = "200000000101";
  request.author.jobRoleCode = "R0260";
  request.author.jobRoleName = "General Medical Practitioner";
  request.author.personName = "Lee Safeguard";
  request.author.orgOdsCode = "RZZ01";
  request.author.orgName = "Example Hospital Emergency Department";
  cc::MessageHeader queryHeader;
  queryHeader.messageId = "A1B2C3D4-E5F6-4A1B-8C2D-3E4F5A6B7C8D";
  queryHeader.creationTime = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  queryHeader.fromAsid = "200000000101";
  queryHeader.toAsid = "990000000001";
  queryHeader.endpoint = "https://spine.example.invalid/sync-service";
  cc::MessageHeader replyHeader = queryHeader;
  replyHeader.messageId = "7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311";
  std::swap(replyHeader.fromAsid, replyHeader.toAsid);
  replyHeader.relatesTo = queryHeader.messageId;

  const dom::CpisRecord record{{"XLA01", "Exampleshire County Council", "01632960001", std::string("01632960000")},
                               dom::SubjectKind::Child,
                               {{dom::PlanType::Cppi, date(2025, 3, 1), std::nullopt},
                                {dom::PlanType::Laci, date(2024, 1, 15), date(2025, 1, 15)}}};
  std::vector<dom::PriorAccess> accesses;
  for (int i = 0; i < priorAccesses; ++i) {
    accesses.push_back({queryHeader.creationTime - std::chrono::hours(24 * (i + 1)), i % 2 == 1, "Sam Example", "R8000",
                        "Clinical Practitioner Access Role", "RZZ02", "Example Minor Injuries Unit",
                        i % 2 == 1 ? std::optional<std::string>("200000000202") : std::nullopt});
  }
  const cc::ReplySubject subject{"9990000018", "Alex", "Testchild", date(2015, 4, 3)};
  const cc::ReplyOptions options;

  const std::string query = cc::buildQuery(request, queryHeader);
  const std::string queryInteraction = interactionOf(query, "QUPC_IN000006GB01");
  const std::string reply = cc::buildFoundReply(replyHeader, subject, {record}, accesses);
  const std::string replyInteraction = interactionOf(reply, "REPC_IN000007GB01");
  const std::string notFound = cc::buildNotFoundReply(replyHeader, options);
  if (!schemas.validate(queryInteraction).empty() || !schemas.validate(replyInteraction).empty() ||
      cc::parseReply(reply, schemas, options).result.status != dom::CheckStatus::Found) {
    std::fprintf(stderr, "cpis-bench-cpis-codec: the sample messages do not validate\n");
    return 2;
  }

  report("build query", measure(seconds, [&] { return cc::buildQuery(request, queryHeader).size(); }), query.size());
  report("validate query", measure(seconds, [&] { return schemas.validate(queryInteraction).size(); }),
         queryInteraction.size());
  report("build reply",
         measure(seconds, [&] { return cc::buildFoundReply(replyHeader, subject, {record}, accesses).size(); }),
         reply.size());
  report("validate reply", measure(seconds, [&] { return schemas.validate(replyInteraction).size(); }),
         replyInteraction.size());
  report("parse reply",
         measure(seconds, [&] { return cc::parseReply(reply, schemas, options).result.records.size(); }), reply.size());
  // In the engine a reply's validation finds the grammar cold: between two checks other work
  // (the store, the ACK, the simulator) has had the caches. Here that other work is writing
  // kEvictBytes, a line at a time; "validate reply cold" minus "evict caches" is a cold validation.
  constexpr std::size_t kEvictBytes = std::size_t{16} << 20;
  std::vector<unsigned char> evict(kEvictBytes);
  const auto evictCaches = [&] {
    for (std::size_t i = 0; i < evict.size(); i += 64) evict[i] = static_cast<unsigned char>(evict[i] + 1);
    return std::size_t{evict[evict.size() / 2]};
  };
  const Rate evictOnly = measure(seconds, evictCaches);
  report("evict caches", evictOnly, kEvictBytes);
  const Rate cold = measure(seconds, [&] { return evictCaches() + schemas.validate(replyInteraction).size(); });
  report("validate reply cold", cold, replyInteraction.size());
  std::printf("%-16s %8.1f us CPU/op, cold (the line above less the eviction's)\n", "validate reply",
              cold.cpuMicros - evictOnly.cpuMicros);
  report("parse not found",
         measure(seconds, [&] { return static_cast<std::size_t>(cc::parseReply(notFound, schemas, options).result.status); }),
         notFound.size());
  report("cycle", measure(seconds, [&] {
           const std::string q = cc::buildQuery(request, queryHeader);
           std::size_t n = schemas.validate(interactionOf(q, "QUPC_IN000006GB01")).size();
           const std::string r = cc::buildFoundReply(replyHeader, subject, {record}, accesses);
           return n + cc::parseReply(r, schemas, options).result.accesses.size();
         }),
         query.size() + reply.size());

  // Two threads parsing at once share the locked grammar pool; each takes its own parser.
  const unsigned threads = std::max(2u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<double> rates(threads);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      rates[t] =
          measure(seconds, [&] { return cc::parseReply(reply, schemas, options).result.records.size(); }).perSecond;
    });
  }
  for (auto& worker : workers) worker.join();
  double total = 0;
  for (const double rate : rates) total += rate;
  std::printf("parse reply x%u  %10.0f /s  in total\n", threads, total);
  return 0;
}

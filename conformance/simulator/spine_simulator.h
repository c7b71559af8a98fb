#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/fault.h"
#include "conformance/simulator/simulator_state.h"
#include "engine/cpis/https_transport.h"
#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/cpis/tls_context.h"

namespace cpis::sim {

struct SimulatorSettings {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;                      // 0: the system chooses (tests); see port()
  std::optional<cpis::ServerTlsSettings> tls;  // HTTPS, and mutual TLS with requireClientCertificate
  // The CP-IS service's ASID: a query addressed to another is refused. Empty: any.
  std::string serviceAsid;
  // Honour a query's wsa:ReplyTo: accept it with 202 and POST the reply there. Off: every
  // query is answered synchronously.
  bool asyncReplies = false;
  std::optional<cpis::ClientTlsSettings> replyTls;  // for POSTing replies to https ReplyTo URLs
  cpis::ReplyOptions replyOptions;                  // the no-records code it answers with
  int maxThreads = 64;                              // connections served at once
  std::chrono::milliseconds maxHold{60'000};        // longest a "timeout" fault holds a request
  std::function<domain::Instant()> clock;           // empty: the system clock
  // Told of every query answered synchronously: its message id and the simulator's own time
  // (the X-Cpis-Sim-Time-Us value). For benchmarks; called on the request's thread.
  std::function<void(const std::string& messageId, std::chrono::microseconds took)> onQueryAnswered;
  // As onQueryAnswered, with the NHS number queried, so that a benchmark driving the engine can
  // pair the simulator's time with the message that caused the query (the engine makes the
  // message id). Patient data: for benchmarks and tests only.
  std::function<void(const std::string& messageId, const std::string& nhsNumber, std::chrono::microseconds took)>
      onQueryAnsweredFor;
};

// The CP-IS Spine simulator: a real HTTP(S) server (POCO HTTPServer, mutual TLS optional)
// that speaks the SOAP / HL7 v3 of the CP-IS query like Spine. It validates each query as
// Spine does (parseQuery: schemas and CPIS_Query.xsl's rules), answers from the dataset, keeps
// each child's access history (an unscheduled query adds an access and an LA notification; a
// scheduled one is a silent read), and injects faults on demand. Endpoints:
//
//   POST   /syncservice                 the CP-IS query (QUPC_IN000006GB01)
//   GET    /la/{ods}/notifications      an LA's mailbox (standing in for MESH)
//   POST   /admin/faults                {"nhsNumber": "999..." or "*", "kind": ..., "delayMs": n, "times": n}
//   GET    /admin/faults                the run-time faults
//   DELETE /admin/faults[?nhsNumber=X]  remove them (all, or one)
//   GET    /admin/accesses/{nhs}        a child's whole access history, newest first
//   POST   /admin/reset                 back to the dataset: histories, mailboxes, faults, counters
//   GET    /health                      {"status": "ok", ...counters}
//
// Every reply carries X-Cpis-Sim-Time-Us: the simulator's own time for the request (reading,
// validating, answering; injected delays included), so a client can tell its time from ours.
class SpineSimulator {
 public:
  static constexpr std::string_view kQueryPath = "/syncservice";
  static constexpr std::string_view kTimingHeader = "X-Cpis-Sim-Time-Us";

  // Binds at once (port() is known); throws Poco::Exception (address in use, TLS files).
  // `schemas` must outlive the simulator.
  SpineSimulator(SimulatorSettings settings, const cpis::SpineSchemas& schemas, Dataset dataset);
  ~SpineSimulator();  // stop()
  SpineSimulator(const SpineSimulator&) = delete;
  SpineSimulator& operator=(const SpineSimulator&) = delete;

  void start();
  // Stops accepting, wakes requests held by faults, finishes or abandons pending replies.
  void stop();

  std::uint16_t port() const;
  std::string baseUrl() const;   // "https://127.0.0.1:PORT"
  std::string queryUrl() const;  // baseUrl() + kQueryPath

  SimulatorState& state();
  const Dataset& dataset() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cpis::sim

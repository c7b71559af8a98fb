#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cpis::sim {

// What the simulator does wrong on purpose, for one NHS number (or every query: "*"). Set in
// the dataset (a child that always misbehaves) or at run time through POST /admin/faults.
struct Fault {
  enum class Kind {
    Delay,            // answer normally after delayMs
    Timeout,          // hold the request and never answer (until delayMs, then drop)
    Http500,          // HTTP 500 with a plain-text body, no SOAP
    SoapFault,        // HTTP 500 with a SOAP fault, as Spine reports a messaging failure
    MalformedXml,     // HTTP 200 with a reply cut off half-way: not well-formed XML
    InvalidResponse,  // HTTP 200 with a well-formed reply the schemas reject
    DropConnection,   // close the connection without any reply
    ApplicationError, // HTTP 200 with MCCI_IN010000UK13, acknowledgement AE
    UnknownCode,      // HTTP 200 with QUQI_IN010000UK14 carrying a code nobody configured
    SlowReply,        // HTTP 200 trickled, headers too: 8 bytes, then delayMs, and so on
    // Asynchronous replies only (a synchronous query is answered normally):
    DuplicateReply,   // the reply is POSTed twice
    LateReply,        // the reply is POSTed after delayMs
    UnknownMessageId, // the reply is POSTed for a message id nobody sent
    AcceptanceLost,   // the reply is POSTed, and the query's own connection closed without its 202
  };

  Kind kind = Kind::Delay;
  std::chrono::milliseconds delay{0};  // Delay, LateReply: the wait; Timeout: how long to hold;
                                       // SlowReply: the pause between two pieces
  std::optional<std::uint32_t> times;  // fire this many times, then vanish; empty: until removed
};

std::string_view toString(Fault::Kind kind);  // "delay", "timeout", "http500", ...
std::optional<Fault::Kind> parseFaultKind(std::string_view text);
// Whether the simulated Spine has processed the query (recorded an unscheduled access) when
// this fault strikes: yes for faults of the reply, no for faults before Spine saw the query.
bool queryProcessed(Fault::Kind kind);

}  // namespace cpis::sim

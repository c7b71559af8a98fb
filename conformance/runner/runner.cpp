#include "conformance/runner/runner.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <cstdio>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "engine/mllp/mllp_client.h"

namespace cpis::conformance {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string base36(std::uint64_t value, std::size_t width) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[value % 36]);
    value /= 36;
  } while (value > 0);
  while (out.size() < width) out.insert(out.begin(), '0');
  return out;
}

std::string pad(int value, int width) {
  std::string s = std::to_string(value);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), '0');
  return s;
}

std::string hl7Date(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd(day);
  return pad(static_cast<int>(ymd.year()), 4) + pad(static_cast<int>(static_cast<unsigned>(ymd.month())), 2) +
         pad(static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
}

std::chrono::sys_days yearsBefore(std::chrono::sys_days today, int years) {
  std::chrono::year_month_day ymd(today);
  ymd -= std::chrono::years(years);
  if (!ymd.ok()) ymd = ymd.year() / ymd.month() / std::chrono::last;  // 29 February
  return std::chrono::sys_days(ymd);
}

int parseInt(const std::string& text, const std::string& name) {
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("placeholder ${" + name + "} needs a number, not \"" + text + "\"");
}

std::string utf8ToLatin1(const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c & 0xE0) == 0xC0 && i + 1 < utf8.size()) {
      const unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3Fu);
      out += cp <= 0xFF ? static_cast<char>(cp) : '?';
      ++i;
    } else {
      out += '?';
      while (i + 1 < utf8.size() && (static_cast<unsigned char>(utf8[i + 1]) & 0xC0) == 0x80) ++i;
    }
  }
  return out;
}

// ---- the simulator's admin API ------------------------------------------------------------

class SimulatorClient {
 public:
  explicit SimulatorClient(const std::string& url) : uri_(url) {}

  std::size_t accesses(const std::string& nhs) {
    auto o = get("/admin/accesses/" + nhs);
    return o->getArray("accesses")->size();
  }
  std::size_t mailbox(const std::string& la, const std::string& nhs) {
    auto o = get("/la/" + la + "/notifications");
    auto list = o->getArray("notifications");
    std::size_t n = 0;
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (list->getObject(static_cast<unsigned>(i))->optValue<std::string>("nhsNumber", "") == nhs) ++n;
    }
    return n;
  }
  void setFault(const FaultSetup& f) {
    Poco::JSON::Object body;
    body.set("nhsNumber", f.nhsNumber);
    body.set("kind", f.kind);
    if (f.delayMs) body.set("delayMs", static_cast<Poco::UInt64>(*f.delayMs));
    if (f.times) body.set("times", static_cast<Poco::UInt64>(*f.times));
    std::ostringstream text;
    body.stringify(text);
    request(Poco::Net::HTTPRequest::HTTP_POST, "/admin/faults", text.str());
  }
  void clearFault(const std::string& nhs) {
    request(Poco::Net::HTTPRequest::HTTP_DELETE, "/admin/faults?nhsNumber=" + nhs, "");
  }

 private:
  Poco::JSON::Object::Ptr get(const std::string& path) {
    Poco::JSON::Parser parser;
    return parser.parse(request(Poco::Net::HTTPRequest::HTTP_GET, path, "")).extract<Poco::JSON::Object::Ptr>();
  }
  std::string request(const std::string& method, const std::string& path, const std::string& body) {
    Poco::Net::HTTPClientSession session(uri_.getHost(), uri_.getPort());
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!body.empty()) {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    std::ostream& out = session.sendRequest(request);
    out << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::string text;
    Poco::StreamCopier::copyToString(in, text);
    if (response.getStatus() >= 300) {
      throw std::runtime_error("simulator " + method + " " + path + ": HTTP " +
                               std::to_string(static_cast<int>(response.getStatus())) + " " + text);
    }
    return text;
  }
  Poco::URI uri_;
};

// ---- one scenario -------------------------------------------------------------------------

class ScenarioRun {
 public:
  ScenarioRun(const Scenario& scenario, std::size_t index, const RunnerSettings& settings, const std::string& runToken)
      : s_(scenario), settings_(settings) {
    context_.runToken = runToken;
    context_.scenarioIndex = index;
  }

  ScenarioResult run() {
    ScenarioResult result;
    result.scenario = &s_;
    const auto started = Clock::now();
    const bool needsSimulator = !s_.faults.empty() || std::any_of(s_.steps.begin(), s_.steps.end(), [](const Step& st) {
      return !st.expect.accesses.empty() || !st.expect.mailboxes.empty() || !st.priorAccessNumbers().empty();
    });
    if (s_.usesUnsupported()) {
      result.verdict = ScenarioResult::Verdict::Skipped;
      result.skipReason = "audit expectations: not supported yet";
      return result;
    }
    if (s_.usesNotifications() && !settings_.webhooks) {
      result.verdict = ScenarioResult::Verdict::Skipped;
      result.skipReason = "needs the webhook receiver (--webhook-port)";
      return result;
    }
    if (s_.usesAudit() && !settings_.audit) {
      result.verdict = ScenarioResult::Verdict::Skipped;
      result.skipReason = "needs the engine's audit store (--audit-db)";
      return result;
    }
    if (s_.usesLateResults() && !settings_.returns) {
      result.verdict = ScenarioResult::Verdict::Skipped;
      result.skipReason = "needs the return listener (--return-port)";
      return result;
    }
    if (needsSimulator && settings_.simulatorUrl.empty()) {
      result.verdict = ScenarioResult::Verdict::Skipped;
      result.skipReason = "needs the simulator's admin API (--simulator or --start-simulator)";
      return result;
    }
    if (!settings_.simulatorUrl.empty()) simulator_.emplace(settings_.simulatorUrl);
    try {
      for (const auto& f : s_.faults) simulator_->setFault(f);
      for (std::size_t i = 0; i < s_.steps.size(); ++i) {
        result.steps.push_back(runStep(i));
        if (!result.steps.back().passed()) break;  // later steps build on this one
      }
    } catch (const std::exception& e) {
      result.error = e.what();
    }
    try {
      for (const auto& f : s_.faults) simulator_->clearFault(f.nhsNumber);
    } catch (const std::exception& e) {
      if (result.error.empty()) result.error = std::string("clearing the simulator's faults: ") + e.what();
    }
    client_.reset();
    bool passed = result.error.empty();
    for (const auto& step : result.steps) passed = passed && step.passed();
    result.verdict = passed ? ScenarioResult::Verdict::Passed : ScenarioResult::Verdict::Failed;
    result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return result;
  }

 private:
  Endpoint endpoint() const {
    const auto it = settings_.feeds.find(s_.feed);
    Endpoint e = it != settings_.feeds.end() ? it->second : settings_.engine;
    if (s_.transport == "plain") e.tls = false;
    if (s_.transport == "tls") e.tls = true;
    return e;
  }

  void connect() {
    const Endpoint e = endpoint();
    std::optional<mllp::ClientTls> tls;
    if (e.tls) {
      tls = mllp::ClientTls{settings_.tlsCa, settings_.tlsCertificate, settings_.tlsKey, ""};
      if (s_.clientCertificate == "none") tls->certificateFile = tls->privateKeyFile = "";
    }
    client_ = std::make_unique<mllp::MllpClient>(e.host, e.port, 5s, tls);
  }

  std::string messageBytes(const Step& step) {
    std::string text = fillPlaceholders(step.text, context_);
    for (auto& c : text) {
      if (c == '\n') c = '\r';
    }
    if (step.padTo && text.size() + 9 < *step.padTo) {
      text += "NTE|1||" + std::string(*step.padTo - text.size() - 8, 'X') + "\r";
    }
    bool latin1 = step.charset == "ISO-8859-1";
    if (step.charset == "auto") {
      const auto msh = text.substr(0, text.find('\r'));
      latin1 = msh.find("|8859/1|") != std::string::npos;
    }
    return latin1 ? utf8ToLatin1(text) : text;
  }

  struct Snapshot {
    std::vector<std::size_t> accesses, mailboxes;
  };
  Snapshot snapshot(const StepExpect& e) {
    Snapshot s;
    for (const auto& a : e.accesses) s.accesses.push_back(simulator_->accesses(a.nhsNumber));
    for (const auto& m : e.mailboxes) s.mailboxes.push_back(simulator_->mailbox(m.la, m.nhsNumber));
    return s;
  }

  StepResult runStep(std::size_t index) {
    const Step& step = s_.steps[index];
    context_.step = static_cast<std::uint32_t>(index + 1);
    const auto deadline = Clock::now() + step.untilPass.value_or(0ms);
    StepResult result;
    for (int attempt = 0;; ++attempt) {
      context_.attempt = static_cast<std::uint32_t>(attempt);
      result = attemptStep(step);
      result.attempts = attempt + 1;
      if (result.passed() || !step.untilPass || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(100ms);  // polling the engine for a condition, with a deadline
    }
    firstReplies_.push_back(result.replies.empty() ? std::string("<no reply>") : result.replies.front());
    return result;
  }

  // The expectations with ${priorAccesses:N} and equalsPriorAccesses made concrete: what the
  // simulator held before the step, at most the 25 a reply carries.
  StepExpect withPriorAccesses(const Step& step) {
    StepExpect expect = step.expect;
    const auto numbers = step.priorAccessNumbers();
    if (numbers.empty()) return expect;
    std::map<std::string, std::string> prior;
    for (const auto& n : numbers) prior[n] = std::to_string(std::min<std::size_t>(simulator_->accesses(n), 25));
    auto fill = [&](std::string& value) {
      for (const auto& [n, count] : prior) {
        const std::string marker = "${priorAccesses:" + n + "}";
        for (auto at = value.find(marker); at != std::string::npos; at = value.find(marker)) value.replace(at, marker.size(), count);
      }
    };
    for (auto& reply : expect.replies) {
      for (auto& f : reply.fields) fill(f.value);
      for (auto& seg : reply.segments) {
        for (auto& f : seg.fields) fill(f.value);
      }
      for (auto& c : reply.counts) {
        if (!c.equalsPriorAccesses.empty()) c.equals = static_cast<std::uint32_t>(std::stoul(prior[c.equalsPriorAccesses]));
      }
    }
    return expect;
  }

  StepResult attemptStep(const Step& step) {
    StepResult r;
    r.name = step.name.empty() ? "step " + std::to_string(context_.step) : step.name;
    std::vector<std::string> parts;
    std::string controlId;
    if (step.kind == Step::Kind::Message) {
      parts.push_back(messageBytes(step));
      controlId = controlIdFor(context_);
      r.sent = parts.back();
    } else if (step.kind == Step::Kind::Raw) {
      for (const auto& p : step.rawParts) parts.push_back(unescapeBytes(fillPlaceholders(p, context_)));
      for (const auto& p : parts) r.sent += p;
      controlId = controlIdFor(context_);
    } else {
      const Sent& earlier = sent_.at(step.resendOf - 1);
      parts = earlier.parts;
      controlId = earlier.controlId;
      r.sent = earlier.display;
    }
    const bool framed = step.kind != Step::Kind::Raw;
    if (sent_.size() < context_.step) sent_.push_back(Sent{parts, controlId, r.sent});
    r.sent = printable(r.sent);

    const Snapshot before = snapshot(step.expect);
    // The engine stamps audit entries in whole milliseconds, and its lookup can start within
    // the millisecond the step does: compare at the audit's resolution.
    const auto stepStarted = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now())
                                     .time_since_epoch())
                                 .count();
    const StepExpect expect = withPriorAccesses(step);
    // Connect and send; a refused connection shows here or on the first read.
    bool refused = false;
    std::string refusal;
    try {
      if (!client_ || s_.connectionPerStep) connect();
      for (const auto& p : parts) framed ? client_->send(p) : client_->sendRaw(p);
    } catch (const Poco::Exception& e) {
      refused = true;
      refusal = e.displayText();
    } catch (const std::exception& e) {
      refused = true;
      refusal = e.what();
    }
    bool closed = false;
    if (!refused) {
      for (std::size_t i = 0; i < expect.replies.size(); ++i) {
        try {
          auto reply = client_->receive(settings_.replyTimeout);
          if (!reply) {
            closed = true;
            break;
          }
          r.replies.push_back(*reply);
        } catch (const Poco::TimeoutException&) {
          r.error = "no reply " + std::to_string(i + 1) + " within " + std::to_string(settings_.replyTimeout.count()) + " ms";
          client_.reset();
          return r;
        } catch (const Poco::Exception& e) {
          refused = true;
          refusal = e.displayText();
          break;
        }
      }
    }
    // The replies that came, against their expectations.
    for (std::size_t i = 0; i < expect.replies.size(); ++i) {
      if (i >= r.replies.size()) {
        r.checks.push_back(CheckResult{"reply " + std::to_string(i + 1), "an acknowledgement",
                                       refused ? "refused: " + refusal : "the connection closed", false});
        continue;
      }
      auto checks = checkReply(expect.replies[i], r.replies[i], controlId, firstReplies_);
      r.checks.insert(r.checks.end(), checks.begin(), checks.end());
    }
    // What became of the connection.
    switch (expect.connection) {
      case ConnectionOutcome::Unspecified:
        if (refused && expect.replies.empty()) r.error = "cannot connect or send: " + refusal;
        break;
      case ConnectionOutcome::Refused: {
        if (!refused && !closed) {
          try {
            auto more = client_->receive(settings_.replyTimeout);
            if (more) {
              r.replies.push_back(*more);
            } else {
              closed = true;
            }
          } catch (const Poco::TimeoutException&) {
          } catch (const Poco::Exception& e) {
            refused = true;
            refusal = e.displayText();
          }
        }
        const bool ok = (refused || closed) && r.replies.empty();
        r.checks.push_back(CheckResult{"connection", "refused (no reply)",
                                       refused ? "refused: " + refusal
                                       : closed ? "closed without a reply"
                                                : std::to_string(r.replies.size()) + " reply(ies), connection open",
                                       ok});
        client_.reset();
        break;
      }
      case ConnectionOutcome::Closed: {
        bool ok = closed || refused;
        if (!ok) {
          try {
            ok = client_->closedByPeer(settings_.replyTimeout);
          } catch (const Poco::Exception&) {
            ok = true;  // reset by the peer
          }
        }
        r.checks.push_back(CheckResult{"connection", "closed by the engine", ok ? "closed" : "still open", ok});
        client_.reset();
        break;
      }
      case ConnectionOutcome::NoReply:
      case ConnectionOutcome::Open: {
        const bool quiet = expect.connection == ConnectionOutcome::NoReply;
        std::string actual = quiet ? "no reply, open" : "open";
        bool ok = !refused && !closed;
        if (ok) {
          try {
            auto more = client_->receive(quiet ? settings_.quietPeriod : settings_.quietPeriod / 5);
            ok = false;
            actual = more ? "a reply: " + printable(*more) : "closed";
          } catch (const Poco::TimeoutException&) {
          } catch (const Poco::Exception& e) {
            ok = false;
            actual = e.displayText();
          }
        } else {
          actual = refused ? "refused: " + refusal : "closed";
        }
        r.checks.push_back(CheckResult{"connection", quiet ? "no reply within " + std::to_string(settings_.quietPeriod.count()) + " ms, still open" : "still open", actual, ok});
        if (quiet) client_.reset();
        break;
      }
    }
    if (closed && expect.connection != ConnectionOutcome::Refused) client_.reset();
    // Notifications and late results come in the engine's own time: waited for first, so that
    // an access a deferred check records is in the simulator's records below.
    const std::string visit = fillPlaceholders("${visit}", context_);
    for (const auto& n : expect.notifications) checkNotification(n, visit, r);
    for (const auto& l : expect.lateResults) checkLateResult(l, visit, r);
    for (const auto& a : expect.audits) checkAudit(a, stepStarted, r);
    // What the simulated Spine recorded.
    if (!expect.accesses.empty() || !expect.mailboxes.empty()) {
      const Snapshot after = snapshot(expect);
      for (std::size_t i = 0; i < expect.accesses.size(); ++i) {
        const auto added = after.accesses[i] - before.accesses[i];
        const auto& a = expect.accesses[i];
        r.checks.push_back(CheckResult{"simulator: accesses recorded for " + a.nhsNumber,
                                       a.added == 0 ? "none (silent)" : std::to_string(a.added),
                                       std::to_string(added), added == a.added});
      }
      for (std::size_t i = 0; i < expect.mailboxes.size(); ++i) {
        const auto added = after.mailboxes[i] - before.mailboxes[i];
        const auto& m = expect.mailboxes[i];
        r.checks.push_back(CheckResult{"simulator: " + m.la + " notifications about " + m.nhsNumber,
                                       std::to_string(m.added), std::to_string(added), added == m.added});
      }
    }
    return r;
  }

  // The distinct deliveries (by idempotency key) of `n.sink` about `visit`, of `n.kind`.
  static std::vector<WebhookDelivery> matching(const std::vector<WebhookDelivery>& all, const NotificationExpect& n,
                                               const std::string& visit) {
    std::vector<WebhookDelivery> out;
    std::set<std::string> keys;
    for (const auto& d : all) {
      if (d.sink != n.sink) continue;
      const auto v = d.fields.find("visit_number");
      if (v == d.fields.end() || v->second != visit) continue;
      const auto k = d.fields.find("kind");
      if (!n.kind.empty() && (k == d.fields.end() || k->second != n.kind)) continue;
      if (!keys.insert(d.idempotencyKey).second) continue;  // a repeated delivery (at least once)
      out.push_back(d);
    }
    return out;
  }

  void checkNotification(const NotificationExpect& n, const std::string& visit, StepResult& r) {
    const auto& recorder = settings_.webhooks->deliveries();
    const std::string what = "notification: " + n.sink + (n.kind.empty() ? "" : " " + n.kind);
    const auto within = n.within.value_or(settings_.notificationWait);
    if (n.count == 0) {
      // Nothing may come: give the engine the quiet period to show otherwise.
      recorder.waitFor([&](const auto& all) { return !matching(all, n, visit).empty(); }, settings_.quietPeriod);
    } else {
      if (recorder.waitFor([&](const auto& all) { return matching(all, n, visit).size() >= n.count; }, within)) {
        // A moment more for one too many (a resend notified twice) to show.
        recorder.waitFor([&](const auto& all) { return matching(all, n, visit).size() > n.count; }, settings_.quietPeriod / 4);
      }
    }
    const auto found = matching(recorder.items(), n, visit);
    r.checks.push_back(CheckResult{what + " (count)", std::to_string(n.count) + (n.count == 0 ? "" : " within " + std::to_string(within.count()) + " ms"),
                                   std::to_string(found.size()), found.size() == n.count});
    for (const auto& d : found) {
      if (d.signatureChecked && !d.signatureValid) {
        r.checks.push_back(CheckResult{what + ": X-Cpis-Signature", "verifies", d.problem, false});
      }
      if (d.idempotencyKey.empty() || d.fields.count("idempotency_key") == 0 ||
          d.fields.at("idempotency_key") != d.idempotencyKey) {
        r.checks.push_back(CheckResult{what + ": Idempotency-Key", "the body's idempotency_key", d.idempotencyKey, false});
      }
    }
    for (const auto& f : n.fields) {
      for (std::size_t i = 0; i < found.size(); ++i) {
        const auto it = found[i].fields.find(f.path);
        const bool present = it != found[i].fields.end();
        const bool ok = f.match == Match::Absent ? !present : present && matches(f, it->second);
        if (!ok || i + 1 == found.size()) {
          r.checks.push_back(CheckResult{what + ": " + f.path, describe(f), present ? it->second : "(absent)", ok});
          break;
        }
      }
    }
  }

  void checkLateResult(const LateResultExpect& l, const std::string& visit, StepResult& r) {
    const auto& recorder = settings_.returns->messages();
    auto ours = [&](const std::vector<std::string>& all) {
      std::vector<std::string> out;
      for (const auto& m : all) {
        if (rawHl7Field(m, "PV1", 19, 1) == visit) out.push_back(m);
      }
      return out;
    };
    const auto within = l.within.value_or(settings_.notificationWait);
    recorder.waitFor([&](const auto& all) { return !ours(all).empty(); }, within);
    const auto found = ours(recorder.items());
    if (found.empty()) {
      r.checks.push_back(CheckResult{"late result", "an ORU^R01 within " + std::to_string(within.count()) + " ms", "none", false});
      return;
    }
    r.replies.push_back(found.front());
    r.checks.push_back(CheckResult{"late result: MSH-9", "equals \"ORU^R01^ORU_R01\"", rawHl7Field(found.front(), "MSH", 9, 0),
                                   rawHl7Field(found.front(), "MSH", 9, 0) == "ORU^R01^ORU_R01"});
    for (auto c : checkReply(l.checks, found.front(), "", firstReplies_)) {
      c.what = "late result: " + c.what;
      r.checks.push_back(std::move(c));
    }
  }

  // Audit rows come from the engine's audit queue shortly after the lookup: polled, bounded.
  void checkAudit(const AuditExpect& a, std::int64_t sinceMicros, StepResult& r) {
    const std::string what = "audit: " + a.event + " of " + a.nhsNumber;
    const auto within = a.within.value_or(settings_.notificationWait);
    const auto deadline = Clock::now() + (a.count == 0 ? settings_.quietPeriod : within);
    std::vector<AuditRecord> rows;
    for (;;) {
      rows = settings_.audit->queries(a.nhsNumber, sinceMicros);
      if ((a.count > 0 && rows.size() >= a.count) || rows.size() > a.count || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(50ms);  // polling the store for a condition, with a deadline
    }
    r.checks.push_back(CheckResult{what + " (count)", std::to_string(a.count), std::to_string(rows.size()),
                                   rows.size() == a.count});
    for (const auto& f : a.fields) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto it = rows[i].find(f.path);
        const bool present = it != rows[i].end();
        const bool ok = f.match == Match::Absent ? !present : present && matches(f, it->second);
        if (!ok || i + 1 == rows.size()) {
          r.checks.push_back(CheckResult{what + ": " + f.path, describe(f), present ? it->second : "(no such column)", ok});
          break;
        }
      }
    }
  }

  struct Sent {
    std::vector<std::string> parts;
    std::string controlId, display;
  };

  const Scenario& s_;
  const RunnerSettings& settings_;
  PlaceholderContext context_;
  std::optional<SimulatorClient> simulator_;
  std::unique_ptr<mllp::MllpClient> client_;
  std::vector<Sent> sent_;
  std::vector<std::string> firstReplies_;
};

}  // namespace

std::string controlIdFor(const PlaceholderContext& c) {
  std::string id = "C" + c.runToken + base36(c.scenarioIndex, 3) + "-" + std::to_string(c.step);
  if (c.attempt > 0) id += "R" + std::to_string(c.attempt);
  return id.substr(0, 20);
}

std::string fillPlaceholders(const std::string& text, const PlaceholderContext& c) {
  const auto now = c.now.time_since_epoch().count() == 0 ? std::chrono::system_clock::now() : c.now;
  const auto today = std::chrono::floor<std::chrono::days>(now);
  const auto secs = std::chrono::floor<std::chrono::seconds>(now - today).count();
  const std::string hh = pad(static_cast<int>(secs / 3600), 2), mm = pad(static_cast<int>(secs / 60 % 60), 2),
                    ss = pad(static_cast<int>(secs % 60), 2);
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto start = text.find("${", i);
    if (start == std::string::npos) {
      out.append(text, i, std::string::npos);
      break;
    }
    out.append(text, i, start - i);
    const auto end = text.find('}', start);
    if (end == std::string::npos) throw std::invalid_argument("an unclosed ${ in a message");
    const std::string inner = text.substr(start + 2, end - start - 2);
    const auto colon = inner.find(':');
    const std::string name = inner.substr(0, colon);
    const std::string arg = colon == std::string::npos ? "" : inner.substr(colon + 1);
    if (name == "controlId") {
      out += controlIdFor(c);
    } else if (name == "visit") {
      out += "V" + c.runToken + base36(c.scenarioIndex, 3);
    } else if (name == "run") {
      out += c.runToken;
    } else if (name == "seq") {
      std::uint64_t token = 0;
      for (char ch : c.runToken) token = token * 36 + static_cast<std::uint64_t>(std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0' : ch - 'A' + 10);
      out += std::to_string(100000 + (token * 1000 + c.scenarioIndex) % 900000);
    } else if (name == "now") {
      out += hl7Date(today) + hh + mm + ss;
    } else if (name == "nowDmy") {
      const std::string d = hl7Date(today);
      out += d.substr(6, 2) + "/" + d.substr(4, 2) + "/" + d.substr(0, 4) + " " + hh + ":" + mm;
    } else if (name == "today") {
      out += hl7Date(today);
    } else if (name == "age") {
      // N years old today, the birthday a month past.
      out += hl7Date(yearsBefore(today, parseInt(arg, inner)) - std::chrono::days(30));
    } else if (name == "ageDays") {
      out += hl7Date(today - std::chrono::days(parseInt(arg, inner)));
    } else {
      throw std::invalid_argument("unknown placeholder ${" + inner + "}");
    }
    i = end + 1;
  }
  return out;
}

std::string unescapeBytes(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    const char e = text[++i];
    if (e == 'v') {
      out += '\x0B';
    } else if (e == 'r') {
      out += '\r';
    } else if (e == 'n') {
      out += '\n';
    } else if (e == '\\') {
      out += '\\';
    } else if (e == 'x' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += '\\';
      out += e;
    }
  }
  return out;
}

std::string printable(const std::string& bytes) {
  std::string out;
  for (const char ch : bytes) {
    switch (ch) {
      case '\x0B': out += "<VT>"; break;
      case '\x1C': out += "<FS>"; break;
      case '\r': out += "<CR>\n"; break;
      case '\n': out += "<LF>\n"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "<%02X>", static_cast<unsigned>(static_cast<unsigned char>(ch)));
          out += hex;
        } else {
          out += ch;
        }
    }
  }
  if (out.size() > 4000) out = out.substr(0, 4000) + "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::vector<ScenarioResult> runScenarios(const std::vector<Scenario>& scenarios, const RunnerSettings& settings) {
  const auto epoch = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  const std::string runToken = base36(static_cast<std::uint64_t>(epoch.count()) % (36ull * 36 * 36 * 36 * 36), 5);
  std::vector<ScenarioResult> results(scenarios.size());
  std::mutex mutex;
  auto finish = [&](std::size_t i, ScenarioResult result) {
    std::lock_guard lock(mutex);
    results[i] = std::move(result);
    if (settings.onFinished) settings.onFinished(results[i]);
  };
  // Exclusive scenarios first, one at a time, nothing else running.
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    if (scenarios[i].exclusive) finish(i, ScenarioRun(scenarios[i], i, settings, runToken).run());
  }
  std::vector<std::set<std::string>> locks;
  for (const auto& s : scenarios) locks.push_back(s.locks());
  std::vector<bool> taken(scenarios.size());
  for (std::size_t i = 0; i < scenarios.size(); ++i) taken[i] = scenarios[i].exclusive;
  std::set<std::string> held;
  std::condition_variable changed;
  auto worker = [&] {
    std::unique_lock lock(mutex);
    for (;;) {
      std::optional<std::size_t> next;
      bool remaining = false;
      for (std::size_t i = 0; i < scenarios.size() && !next; ++i) {
        if (taken[i]) continue;
        remaining = true;
        if (std::none_of(locks[i].begin(), locks[i].end(), [&](const std::string& k) { return held.count(k) > 0; })) {
          next = i;
        }
      }
      if (!remaining) return;
      if (!next) {
        changed.wait(lock);
        continue;
      }
      taken[*next] = true;
      held.insert(locks[*next].begin(), locks[*next].end());
      lock.unlock();
      ScenarioResult result = ScenarioRun(scenarios[*next], *next, settings, runToken).run();
      lock.lock();
      for (const auto& k : locks[*next]) held.erase(k);
      results[*next] = std::move(result);
      if (settings.onFinished) settings.onFinished(results[*next]);
      changed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < std::max(1, settings.jobs); ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace cpis::conformance

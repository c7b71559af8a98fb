#include "conformance/simulator/spine_simulator.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <utility>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include "conformance/simulator/json_time.h"
#include "conformance/simulator/reply_sender.h"

namespace cpis::sim {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using Poco::Net::HTTPResponse;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kMaxBodyBytes = 4 * 1024 * 1024;
constexpr std::size_t kStreamedBodyBytes = 3 * 1024;  // fits the response stream's 4 KB buffer with the header

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.sim");
}

Object::Ptr newObject() {
  return new Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

Object::Ptr toJson(const domain::PriorAccess& a) {
  Object::Ptr o = newObject();
  o->set("at", formatInstant(a.at));
  o->set("bySystem", a.bySystem);
  o->set("personName", a.personName);
  o->set("jobRoleCode", a.jobRoleCode);
  o->set("jobRoleName", a.jobRoleName);
  o->set("orgOdsCode", a.orgOdsCode);
  o->set("orgName", a.orgName);
  if (a.asid) o->set("asid", *a.asid);
  return o;
}

Object::Ptr toJson(const LaNotification& n) {
  Object::Ptr o = newObject();
  o->set("id", n.id);
  o->set("at", formatInstant(n.at));
  o->set("laOdsCode", n.laOdsCode);
  o->set("nhsNumber", n.nhsNumber);
  o->set("subject", std::string(domain::codeOf(n.subject)));
  o->set("access", toJson(n.access));
  o->set("eventId", n.eventId);
  o->set("messageId", n.messageId);
  return o;
}

Object::Ptr toJson(const std::string& key, const Fault& f) {
  Object::Ptr o = newObject();
  o->set("nhsNumber", key);
  o->set("kind", std::string(toString(f.kind)));
  o->set("delayMs", static_cast<Poco::Int64>(f.delay.count()));
  if (f.times) o->set("times", *f.times);
  return o;
}

// The reply's interaction element opened, an element no schema allows there inserted after
// it: well-formed, and invalid.
std::string breakSchema(const std::string& reply) {
  for (const char* interaction : {"<REPC_IN000007GB01", "<QUQI_IN010000UK14", "<MCCI_IN010000UK13"}) {
    const auto open = reply.find(interaction);
    if (open == std::string::npos) continue;
    const auto openEnd = reply.find('>', open);
    if (openEnd == std::string::npos) break;
    return reply.substr(0, openEnd + 1) + "<cpisSimulatorUnexpected/>" + reply.substr(openEnd + 1);
  }
  return reply + "<unexpected/>";  // not even XML any more: still nothing a client may believe
}

}  // namespace

struct SpineSimulator::Impl {
  SimulatorSettings settings;
  const cpis::SpineSchemas& schemas;
  Dataset dataset;
  SimulatorState state;
  std::unique_ptr<ReplySender> sender;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::uint16_t port = 0;
  bool started = false;

  std::mutex holdMutex;
  std::condition_variable holdWake;
  bool stopping = false;

  Impl(SimulatorSettings s, const cpis::SpineSchemas& sc, Dataset d)
      : settings(std::move(s)),
        schemas(sc),
        dataset(std::move(d)),
        state(dataset, settings.clock ? settings.clock : std::function<domain::Instant()>([] {
          return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
        })) {}

  // Waits `duration` unless the simulator stops first (false then).
  bool hold(std::chrono::milliseconds duration) {
    std::unique_lock lock(holdMutex);
    return !holdWake.wait_for(lock, duration, [&] { return stopping; });
  }

  std::string url() const {
    const bool ipv6 = settings.address.find(':') != std::string::npos;
    return std::string(settings.tls ? "https://" : "http://") +
           (ipv6 ? "[" + settings.address + "]" : settings.address) + ":" + std::to_string(port);
  }

  // ---- responses --------------------------------------------------------------------------

  struct Exchange {
    Poco::Net::HTTPServerRequest& request;
    Poco::Net::HTTPServerResponse& response;
    SteadyClock::time_point started;
  };

  // Returns the simulator's own time for the request, as the timing header states it.
  static std::chrono::microseconds send(Exchange& x, HTTPResponse::HTTPStatus status,
                                        const std::string& contentType, const std::string& body) {
    x.response.setStatusAndReason(status);
    x.response.setContentType(contentType);
    x.response.setContentLength(static_cast<std::streamsize>(body.size()));
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - x.started);
    x.response.set(std::string(kTimingHeader), std::to_string(took.count()));
    if (body.size() <= kStreamedBodyBytes) {
      x.response.send().write(body.data(), static_cast<std::streamsize>(body.size()));
      return took;
    }
    // A larger reply (a FOUND one with its accesses) goes out in one write of header and body:
    // Poco's response stream would send it 4 KB at a time, a system call and a TCP segment each.
    std::ostringstream head;
    x.response.write(head);  // the status line and the header, up to the blank line
    std::string message = std::move(head).str();
    message += body;
    Poco::Net::StreamSocket& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(x.request).socket();
    for (std::size_t sent = 0; sent < message.size();) {
      const int n = socket.sendBytes(message.data() + sent, static_cast<int>(message.size() - sent));
      if (n <= 0) throw Poco::Net::ConnectionResetException("reply not written");
      sent += static_cast<std::size_t>(n);
    }
    return took;
  }
  static void sendXml(Exchange& x, HTTPResponse::HTTPStatus status, const std::string& body) {
    send(x, status, "text/xml; charset=utf-8", body);
  }
  static void sendJson(Exchange& x, HTTPResponse::HTTPStatus status, const Poco::Dynamic::Var& json) {
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(json, out);
    send(x, status, "application/json", out.str());
  }
  static void sendError(Exchange& x, HTTPResponse::HTTPStatus status, const std::string& message) {
    Object::Ptr o = newObject();
    o->set("error", message);
    sendJson(x, status, o);
  }
  // The whole reply, status line and headers included, 8 bytes at a time with `pause` between
  // pieces, as a congested link or a stalling proxy would deliver it. Ends early when the client
  // goes or the simulator stops.
  void trickle(Exchange& x, const std::string& body, std::chrono::milliseconds pause) {
    x.response.setStatusAndReason(HTTPResponse::HTTP_OK);
    x.response.setContentType("text/xml; charset=utf-8");
    x.response.setContentLength(static_cast<std::streamsize>(body.size()));
    x.response.setKeepAlive(false);
    std::ostringstream head;
    x.response.write(head);
    const std::string reply = std::move(head).str() + body;
    Poco::Net::StreamSocket& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(x.request).socket();
    try {
      for (std::size_t sent = 0; sent < reply.size(); sent += 8) {
        if (sent > 0 && !hold(pause)) break;
        const std::size_t n = std::min<std::size_t>(8, reply.size() - sent);
        if (socket.sendBytes(reply.data() + sent, static_cast<int>(n)) <= 0) break;
      }
    } catch (const Poco::Exception&) {  // the client gave up
    }
    drop(x);
  }

  // Closes the connection without a reply, as a failing network or server would.
  static void drop(Exchange& x) {
    x.response.setKeepAlive(false);
    try {
      static_cast<Poco::Net::HTTPServerRequestImpl&>(x.request).socket().shutdown();
    } catch (const Poco::Exception&) {  // already gone
    }
  }

  static bool readBody(Exchange& x, std::string& body) {
    char buffer[16 * 1024];
    std::istream& in = x.request.stream();
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      body.append(buffer, static_cast<std::size_t>(in.gcount()));
      if (body.size() > kMaxBodyBytes) {
        x.response.setKeepAlive(false);
        sendError(x, HTTPResponse::HTTP_REQUESTENTITYTOOLARGE, "request body too large");
        return false;
      }
    }
    return true;
  }

  // ---- the CP-IS query --------------------------------------------------------------------

  cpis::MessageHeader replyHeader(const cpis::MessageHeader& query) const {
    cpis::MessageHeader h;
    h.messageId = cpis::newMessageId();
    h.creationTime = state.now();
    h.fromAsid = query.toAsid;
    h.toAsid = query.fromAsid;
    h.relatesTo = query.messageId;
    h.endpoint = query.replyTo;
    h.fromAddress = url() + std::string(kQueryPath);
    return h;
  }

  void handleQuery(Exchange& x) {
    std::string body;
    if (!readBody(x, body)) return;
    state.count(&SimulatorStats::queries);
    auto parsed = cpis::parseQuery(body, schemas);
    auto fault = state.takeFault(parsed.ok() ? &parsed.value().request.nhsNumber : nullptr);
    if (fault) state.count(&SimulatorStats::faults);

    if (!parsed.ok()) {
      // As Spine: an application error naming the first problem ("code: text").
      state.count(&SimulatorStats::rejected);
      const std::string& problem = parsed.error().empty() ? std::string("invalid query") : parsed.error().front();
      const auto colon = problem.find(": ");
      cpis::MessageHeader h;
      h.messageId = cpis::newMessageId();
      h.creationTime = state.now();
      h.fromAsid = settings.serviceAsid.empty() ? std::string("000000000000") : settings.serviceAsid;
      h.toAsid = "000000000000";
      const std::string code = colon == std::string::npos ? std::string("INVALID_QUERY") : problem.substr(0, colon);
      const std::string text = colon == std::string::npos ? problem : problem.substr(colon + 2);
      return sendXml(x, HTTPResponse::HTTP_OK, cpis::buildApplicationError(h, code, text));
    }
    const cpis::ParsedQuery& query = parsed.value();
    if (!settings.serviceAsid.empty() && query.header.toAsid != settings.serviceAsid) {
      state.count(&SimulatorStats::rejected);
      return sendXml(x, HTTPResponse::HTTP_OK,
                     cpis::buildApplicationError(replyHeader(query.header), "INVALID_RECEIVER_ASID",
                                                 "the query is not addressed to this service's ASID"));
    }
    const bool async = settings.asyncReplies && !query.header.replyTo.empty();

    // Faults before (or instead of) Spine processing the query.
    if (fault) {
      switch (fault->kind) {
        case Fault::Kind::Delay:
          if (!hold(fault->delay)) return drop(x);
          break;
        case Fault::Kind::Timeout:
          if (async) return sendXml(x, HTTPResponse::HTTP_ACCEPTED, "");  // accepted, never answered
          hold(fault->delay.count() > 0 ? std::min(fault->delay, settings.maxHold) : settings.maxHold);
          return drop(x);
        case Fault::Kind::Http500:
          send(x, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "text/plain", "simulated server failure\n");
          return;
        case Fault::Kind::DropConnection: return drop(x);
        case Fault::Kind::SoapFault:
          return sendXml(x, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR,
                         cpis::buildSoapFault("SIMULATED_FAULT", "simulated messaging failure"));
        default: break;
      }
    }

    cpis::MessageHeader header = replyHeader(query.header);
    if (fault && fault->kind == Fault::Kind::UnknownMessageId && async) header.relatesTo = cpis::newMessageId();
    std::string reply;
    if (fault && fault->kind == Fault::Kind::ApplicationError) {
      reply = cpis::buildApplicationError(header, "SIMULATED_APPLICATION_ERROR", "simulated application error");
    } else if (fault && fault->kind == Fault::Kind::UnknownCode) {
      reply = cpis::buildQueryFailedReply(header, "SIMULATED_UNKNOWN_CODE", "simulated detected issue");
    } else {
      reply = answer(query, header);
    }
    if (fault && fault->kind == Fault::Kind::MalformedXml) reply.resize(reply.size() / 2);
    if (fault && fault->kind == Fault::Kind::InvalidResponse) reply = breakSchema(reply);

    if (!async && fault && fault->kind == Fault::Kind::SlowReply) return trickle(x, reply, fault->delay);
    if (!async) {
      const auto took = send(x, HTTPResponse::HTTP_OK, "text/xml; charset=utf-8", reply);
      if (settings.onQueryAnswered) settings.onQueryAnswered(query.header.messageId, took);
      if (settings.onQueryAnsweredFor) {
        settings.onQueryAnsweredFor(query.header.messageId, std::string(query.request.nhsNumber.reveal()), took);
      }
      return;
    }
    const auto kind = fault ? fault->kind : Fault::Kind::Delay;
    if (kind == Fault::Kind::AcceptanceLost) {  // Spine took the query and answers; its 202 is lost
      sender->send(query.header.replyTo, reply, std::chrono::milliseconds(0));
      return drop(x);
    }
    sendXml(x, HTTPResponse::HTTP_ACCEPTED, "");
    const auto delay = fault && kind == Fault::Kind::LateReply ? fault->delay : std::chrono::milliseconds(0);
    sender->send(query.header.replyTo, reply, delay);
    if (fault && kind == Fault::Kind::DuplicateReply) sender->send(query.header.replyTo, reply, delay);
  }

  // The dataset's answer; an unscheduled query is recorded (access and LA notification), a
  // scheduled one is a silent read.
  std::string answer(const cpis::ParsedQuery& query, const cpis::MessageHeader& header) {
    const Child* child = dataset.find(query.request.nhsNumber);
    if (child == nullptr) {
      state.count(&SimulatorStats::notFound);
      return cpis::buildNotFoundReply(header, settings.replyOptions);
    }
    state.count(&SimulatorStats::found);
    const auto accesses = state.recentAccesses(child->nhsNumber);  // before this one
    std::string reply = cpis::buildFoundReply(header, child->subject, child->records, accesses);
    if (query.request.mode == domain::AccessMode::Unscheduled) {
      state.recordAccess(*child, query.request, query.header.messageId);
    }
    return reply;
  }

  // ---- the LA mailbox, admin and health ---------------------------------------------------

  void handleNotifications(Exchange& x, const std::string& ods) {
    Array::Ptr list = new Array;
    for (const auto& n : state.notifications(ods)) list->add(toJson(n));
    Object::Ptr o = newObject();
    o->set("laOdsCode", ods);
    o->set("notifications", list);
    sendJson(x, HTTPResponse::HTTP_OK, o);
  }

  void handleAccesses(Exchange& x, const std::string& nhs) {
    const auto number = domain::NhsNumber::parse(nhs);
    if (!number) return sendError(x, HTTPResponse::HTTP_BAD_REQUEST, "not a valid NHS number");
    Array::Ptr list = new Array;
    for (const auto& a : state.accesses(*number)) list->add(toJson(a));
    Object::Ptr o = newObject();
    o->set("nhsNumber", std::string(number->reveal()));
    o->set("known", dataset.find(*number) != nullptr);
    o->set("repliedAccesses", static_cast<Poco::UInt64>(SimulatorState::kRepliedAccesses));
    o->set("accesses", list);
    sendJson(x, HTTPResponse::HTTP_OK, o);
  }

  void handleSetFault(Exchange& x) {
    std::string body;
    if (!readBody(x, body)) return;
    Object::Ptr o;
    try {
      Poco::JSON::Parser parser;
      o = parser.parse(body).extract<Object::Ptr>();
    } catch (const Poco::Exception&) {
      return sendError(x, HTTPResponse::HTTP_BAD_REQUEST, "the body must be a JSON object");
    }
    try {
      const std::string key = o->optValue<std::string>("nhsNumber", "");
      std::string normalised = key;
      if (key != "*") {
        const auto number = domain::NhsNumber::parse(key);
        if (!number) return sendError(x, HTTPResponse::HTTP_BAD_REQUEST, "nhsNumber must be an NHS number or \"*\"");
        normalised = std::string(number->reveal());
      }
      const auto kind = parseFaultKind(o->optValue<std::string>("kind", ""));
      if (!kind) return sendError(x, HTTPResponse::HTTP_BAD_REQUEST, "unknown fault kind");
      Fault fault;
      fault.kind = *kind;
      const int delayMs = o->optValue<int>("delayMs", 0);
      if (delayMs < 0) return sendError(x, HTTPResponse::HTTP_BAD_REQUEST, "delayMs must not be negative");
      fault.delay = std::chrono::milliseconds(delayMs);
      if (o->has("times")) {
        const int times = o->getValue<int>("times");
        if (times < 1) return sendError(x, HTTPResponse::HTTP_BAD_REQUEST, "times must be at least 1");
        fault.times = static_cast<std::uint32_t>(times);
      }
      state.setFault(normalised, fault);
      sendJson(x, HTTPResponse::HTTP_CREATED, toJson(normalised, fault));
    } catch (const Poco::Exception&) {
      sendError(x, HTTPResponse::HTTP_BAD_REQUEST, "nhsNumber and kind are text, delayMs and times numbers");
    }
  }

  void handleListFaults(Exchange& x) {
    Array::Ptr list = new Array;
    for (const auto& [key, fault] : state.faults()) list->add(toJson(key, fault));
    Object::Ptr o = newObject();
    o->set("faults", list);
    sendJson(x, HTTPResponse::HTTP_OK, o);
  }

  void handleClearFaults(Exchange& x, const Poco::URI& uri) {
    for (const auto& [name, value] : uri.getQueryParameters()) {
      if (name != "nhsNumber") continue;
      std::string key = value;
      if (const auto number = domain::NhsNumber::parse(value)) key = std::string(number->reveal());
      Object::Ptr o = newObject();
      o->set("removed", state.clearFault(key));
      return sendJson(x, HTTPResponse::HTTP_OK, o);
    }
    state.clearFaults();
    Object::Ptr o = newObject();
    o->set("removed", "all");
    sendJson(x, HTTPResponse::HTTP_OK, o);
  }

  void handleHealth(Exchange& x) {
    const auto s = state.stats();
    Object::Ptr o = newObject();
    o->set("status", "ok");
    o->set("children", static_cast<Poco::UInt64>(dataset.size()));
    o->set("asyncReplies", settings.asyncReplies);
    o->set("queries", s.queries);
    o->set("found", s.found);
    o->set("notFound", s.notFound);
    o->set("rejected", s.rejected);
    o->set("faults", s.faults);
    o->set("asyncRepliesSent", s.asyncReplies);
    o->set("asyncReplyFailures", s.asyncFailures);
    sendJson(x, HTTPResponse::HTTP_OK, o);
  }

  void dispatch(Exchange& x) {
    const Poco::URI uri(x.request.getURI());
    const std::string& method = x.request.getMethod();
    const std::string path = uri.getPath();
    std::vector<std::string> parts;
    uri.getPathSegments(parts);
    const bool get = method == Poco::Net::HTTPRequest::HTTP_GET;
    const bool post = method == Poco::Net::HTTPRequest::HTTP_POST;
    if (path == kQueryPath) {
      if (post) return handleQuery(x);
    } else if (parts.size() == 3 && parts[0] == "la" && parts[2] == "notifications") {
      if (get) return handleNotifications(x, parts[1]);
    } else if (path == "/admin/faults") {
      if (post) return handleSetFault(x);
      if (get) return handleListFaults(x);
      if (method == Poco::Net::HTTPRequest::HTTP_DELETE) return handleClearFaults(x, uri);
    } else if (parts.size() == 3 && parts[0] == "admin" && parts[1] == "accesses") {
      if (get) return handleAccesses(x, parts[2]);
    } else if (path == "/admin/reset") {
      if (post) {
        state.reset();
        Object::Ptr o = newObject();
        o->set("status", "reset");
        return sendJson(x, HTTPResponse::HTTP_OK, o);
      }
    } else if (path == "/health") {
      if (get) return handleHealth(x);
    } else {
      return sendError(x, HTTPResponse::HTTP_NOT_FOUND, "no such endpoint");
    }
    sendError(x, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method not allowed here");
  }

  class Handler final : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(Impl& impl) : impl_(impl) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
      Exchange x{request, response, SteadyClock::now()};
      try {
        impl_.dispatch(x);
      } catch (const Poco::Net::NetException&) {
        // The client went away; nothing to answer.
      } catch (const std::exception&) {
        logger().error("simulator: a request failed inside the simulator");
        if (!response.sent()) sendError(x, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "simulator error");
      }
    }

   private:
    Impl& impl_;
  };

  class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(Impl& impl) : impl_(impl) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(impl_);
    }

   private:
    Impl& impl_;
  };
};

SpineSimulator::SpineSimulator(SimulatorSettings settings, const cpis::SpineSchemas& schemas, Dataset dataset)
    : impl_(std::make_unique<Impl>(std::move(settings), schemas, std::move(dataset))) {
  const auto& s = impl_->settings;
  const Poco::Net::SocketAddress address(s.address, s.port);
  Poco::Net::ServerSocket socket =
      cpis::listenOn(address, 128, s.tls ? cpis::makeServerContext(*s.tls) : nullptr);
  impl_->port = socket.address().port();
  const int threads = std::max(s.maxThreads, 2);
  impl_->pool = std::make_unique<Poco::ThreadPool>(2, threads + 2);
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(threads);
  params->setMaxQueued(256);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);  // unlimited
  params->setKeepAliveTimeout(Poco::Timespan(30, 0));
  params->setServerName("cpis-spine-sim");
  impl_->sender = std::make_unique<ReplySender>(s.replyTls, impl_->state);
  impl_->server =
      std::make_unique<Poco::Net::HTTPServer>(new Impl::Factory(*impl_), *impl_->pool, socket, params);
}

SpineSimulator::~SpineSimulator() {
  stop();
}

void SpineSimulator::start() {
  if (impl_->started) return;
  {
    const std::lock_guard lock(impl_->holdMutex);
    impl_->stopping = false;
  }
  impl_->server->start();
  impl_->started = true;
}

void SpineSimulator::stop() {
  if (!impl_->started) return;
  {
    const std::lock_guard lock(impl_->holdMutex);
    impl_->stopping = true;
  }
  impl_->holdWake.notify_all();
  impl_->server->stopAll(true);
  impl_->pool->joinAll();
  impl_->sender->stop();
  impl_->started = false;
}

std::uint16_t SpineSimulator::port() const {
  return impl_->port;
}

std::string SpineSimulator::baseUrl() const {
  return impl_->url();
}

std::string SpineSimulator::queryUrl() const {
  return impl_->url() + std::string(kQueryPath);
}

SimulatorState& SpineSimulator::state() {
  return impl_->state;
}

const Dataset& SpineSimulator::dataset() const {
  return impl_->dataset;
}

}  // namespace cpis::sim

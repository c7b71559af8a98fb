#include "engine/pipeline/respond.h"

#include <string_view>

#include <Poco/Logger.h>

#include "engine/plugin/adapter_plugin.h"
#include "engine/plugin/alert_segments.h"

namespace cpis::pipeline {
namespace {

// The engine's standard encoders, offered to adapters as their "standard alerts".
class StandardEncoder final : public plugin::AlertEncoder {
 public:
  explicit StandardEncoder(const AlertOptions& options) : options_(options) {}
  core::Status encode(const domain::CheckOutcome& outcome, plugin::AlertEncoding encoding,
                      plugin::AlertSegments& out) const override {
    AlertOptions options = options_;
    options.encoding = encoding == plugin::AlertEncoding::Obx ? AlertEncoding::Obx : AlertEncoding::Zseg;
    std::string segments;
    encodeAlerts(outcome, options, out.delimiters(), out.charset(), segments);
    return out.addSerialized(segments);
  }

 private:
  const AlertOptions& options_;
};

}  // namespace

bool carriesStatus(std::string_view segments, const hl7v2::Delimiters& delimiters) {
  // Field `n` of a segment (the segment id is field 0), up to its first component.
  const auto field = [&](std::string_view segment, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto next = segment.find(delimiters.field);
      if (next == std::string_view::npos) return std::string_view();
      segment.remove_prefix(next + 1);
    }
    return segment.substr(0, segment.find(delimiters.field));
  };
  // The first component of a field's first repetition; HL7's explicit null ("") is no value.
  const auto firstComponent = [&](std::string_view value) {
    const char stops[] = {delimiters.component, delimiters.repetition, delimiters.subComponent, '\0'};
    value = value.substr(0, value.find_first_of(std::string_view(stops, 3)));
    return value == "\"\"" ? std::string_view() : value;
  };
  while (!segments.empty()) {
    const auto end = segments.find('\r');
    const std::string_view segment = segments.substr(0, end);
    const std::string_view id = segment.substr(0, 3);
    if (id == "ZCP" && !firstComponent(field(segment, 2)).empty()) return true;
    if (id == "OBX" && firstComponent(field(segment, 3)) == "CPIS-STATUS" && !firstComponent(field(segment, 5)).empty()) {
      return true;
    }
    if (end == std::string_view::npos) break;
    segments.remove_prefix(end + 1);
  }
  return false;
}

std::string Responder::acknowledge(const hl7v2::Message& inbound, hl7v2::AckCode code,
                                   std::span<const core::Issue> issues, hl7v2::AckOptions ack,
                                   const domain::CheckOutcome& outcome) const {
  // NONE: the feed's EPR takes no alert segments, so an adapter that composes its own is not
  // asked either; the outcome travels in MSA-3 / ERR only.
  if (plugin_ == nullptr || !plugin_->composesAlerts() || options_.encoding == AlertEncoding::None) {
    return buildAlertAck(inbound, code, issues, std::move(ack), outcome, options_);
  }
  if (ack.textMessage.empty() && !anyError(issues)) ack.textMessage = alertSummary(outcome);
  std::string reply = hl7v2::buildAck(inbound, code, issues, ack);
  reply += composed(outcome, inbound.delimiters(), inbound.charset(), inbound.controlId());
  return reply;
}

std::string Responder::composed(const domain::CheckOutcome& outcome, const hl7v2::Delimiters& delimiters,
                                hl7v2::Charset charset, std::string_view controlId) const {
  plugin::AlertSegments segments(delimiters, charset);
  const StandardEncoder encoder(options_);
  const plugin::StandardAlerts standard{&encoder, options_.encoding == AlertEncoding::Obx
                                                      ? plugin::AlertEncoding::Obx
                                                      : plugin::AlertEncoding::ZSegments};
  if (const auto status = plugin_->composeAlerts(outcome, segments, standard); !status.isOk()) {
    Poco::Logger::get("cpis.pipeline")
        .error("adapter %s could not compose the alerts of MSH-10 %s; the standard alerts were sent",
               plugin_->name(), std::string(controlId));
    segments.truncate(0);
    (void)encoder.encode(outcome, standard.feedEncoding, segments);
    return segments.serialize();
  }
  std::string written = segments.serialize();
  if (carriesStatus(written, delimiters)) return written;
  // The adapter answered without the status (a note alone, say): the EPR must still learn what
  // the check found, so the standard alerts go out instead, as for a failed compose (what the
  // adapter wrote, before or after them, would break their order and numbering).
  Poco::Logger::get("cpis.pipeline")
      .warning("adapter %s composed no status (a ZCP, or an OBX CPIS-STATUS row) for MSH-10 %s; the standard "
               "alerts were sent",
               plugin_->name(), std::string(controlId));
  segments.truncate(0);
  (void)encoder.encode(outcome, standard.feedEncoding, segments);
  return segments.serialize();
}

void Responder::appendTo(std::string& ack, const domain::CheckOutcome& outcome) const {
  // The feed's adapter composes these alerts too when it composes its own (an EPR that refuses
  // Z-segments must not get them in an AR or a late result either).
  if (plugin_ == nullptr || !plugin_->composesAlerts() || options_.encoding == AlertEncoding::None) {
    appendAlerts(ack, outcome, options_);
    return;
  }
  hl7v2::Delimiters delimiters;
  hl7v2::Charset charset = hl7v2::Charset::Ascii;
  std::string controlId;
  if (const auto parsed = hl7v2::parse(std::string_view(ack))) {
    delimiters = parsed->delimiters();
    charset = parsed->charset();
    controlId = parsed->get("MSA-2");  // the answered message's MSH-10, as acknowledge() logs
  }
  ack += composed(outcome, delimiters, charset, controlId);
}

}  // namespace cpis::pipeline

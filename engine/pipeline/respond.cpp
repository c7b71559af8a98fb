#include "engine/pipeline/respond.h"

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
  plugin::AlertSegments segments(inbound.delimiters(), inbound.charset());
  const StandardEncoder encoder(options_);
  const plugin::StandardAlerts standard{&encoder, options_.encoding == AlertEncoding::Obx
                                                      ? plugin::AlertEncoding::Obx
                                                      : plugin::AlertEncoding::ZSegments};
  if (const auto status = plugin_->composeAlerts(outcome, segments, standard); !status.isOk()) {
    Poco::Logger::get("cpis.pipeline")
        .error("adapter %s could not compose the alerts of MSH-10 %s; the standard alerts were sent",
               plugin_->name(), inbound.controlId());
    segments.truncate(0);
    if (options_.encoding != AlertEncoding::None) (void)encoder.encode(outcome, standard.feedEncoding, segments);
  }
  reply += segments.serialize();
  return reply;
}

void Responder::appendTo(std::string& ack, const domain::CheckOutcome& outcome) const {
  appendAlerts(ack, outcome, options_);
}

}  // namespace cpis::pipeline

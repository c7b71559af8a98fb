// A notification sink that answers what the notification's "answer" value says: ok, retry,
// error, or throw.
#include <stdexcept>
#include <string>

#include <cpis/plugin.hpp>

namespace cpis::test_plugins {

class EchoSink final : public sdk::Sink {
 public:
  explicit EchoSink(const sdk::Config& config) : peer_(config.getString("peer")) {}

  sdk::DeliveryResult deliver(const sdk::Notification& notification) const override {
    const std::string_view answer = notification.get("answer");
    if (answer == "ok") return sdk::DeliveryResult::ok();
    if (answer == "retry") return sdk::DeliveryResult::retry(peer_ + " is down");
    if (answer == "throw") throw std::runtime_error("sink exploded on purpose");
    return sdk::DeliveryResult::error(peer_ + " refused " + std::string(notification.get("idempotency_key")));
  }

 private:
  std::string peer_;
};

}  // namespace cpis::test_plugins

CPIS_EXPORT_SINK(cpis::test_plugins::EchoSink, "echo", "1.0.0",
                 cpis::sdk::stringKey("peer", "the peer", "who receives the notifications"))

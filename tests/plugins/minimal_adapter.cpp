// The smallest adapter: no configuration keys, no composeAlerts (so the engine writes the
// standard alerts), a constructor without a Config.
#include <cpis/plugin.hpp>

namespace cpis::test_plugins {

class MinimalAdapter final : public sdk::Adapter {
 public:
  sdk::AdaptResult adapt(const sdk::MessageView& message, sdk::AttendanceBuilder& out) const override {
    out.visitNumber(message.get("PV1-19"));
    return sdk::AdaptResult::attendance();
  }
};

}  // namespace cpis::test_plugins

CPIS_EXPORT_ADAPTER(cpis::test_plugins::MinimalAdapter, "minimal", "0.1.0")

#pragma once

#include <optional>
#include <string>

#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

namespace cpis::app {

// cpis-engine: the daemon. Foreground by default (systemd, containers); SIGTERM or SIGINT
// stops it cleanly (stop accepting, finish what is in flight, flush the store, exit 0).
//
//   cpis-engine [--config FILE]        run (without --config: the built-in demo configuration)
//   cpis-engine --validate-config FILE check a file, print the effective configuration
//   cpis-engine [--config FILE] --dry-run FEED [--show-patient-data] MESSAGE-FILE...
//                                      what FEED's mapping, adapter and decision make of each
//                                      message (Checks::dryRun): nothing stored, CP-IS not asked
//
// Exit status: 0, 78 (EX_CONFIG) for a configuration problem, 69 (EX_UNAVAILABLE) when the
// store or a listener cannot start.
class EngineApplication final : public Poco::Util::ServerApplication {
 protected:
  void defineOptions(Poco::Util::OptionSet& options) override;
  void handleOption(const std::string& name, const std::string& value) override;
  int main(const ArgVec& args) override;

 private:
  std::optional<std::string> configFile_;
  bool validateOnly_ = false;
  std::optional<std::string> dryRunFeed_;
  bool showPatientData_ = false;
  bool help_ = false;
};

}  // namespace cpis::app

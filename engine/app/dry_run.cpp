#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "engine/app/checks.h"
#include "engine/domain/london_time.h"
#include "engine/hl7v2/batch.h"
#include "engine/mapping/mapping.h"
#include "engine/mapping/mapping_loader.h"
#include "engine/pipeline/adapt.h"
#include "engine/pipeline/decide.h"
#include "engine/pipeline/intake.h"
#include "engine/plugin/adapter_plugin.h"
#include "engine/plugin/plugin_registry.h"

// cpis-engine --dry-run: a feed's adapt and decide stages (Checks builds the same for a running
// engine) over message files, for the supplier writing an adapter and the trust engineer
// mapping a feed. Nothing is stored, nothing is sent, CP-IS is not asked.

namespace cpis::app {
namespace {

domain::Instant now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// Patient data only when asked (--show-patient-data): the tool's output is often pasted into
// tickets and chat, and its input may be a live message.
class Shown {
 public:
  explicit Shown(bool reveal) : reveal_(reveal) {}
  std::string operator()(std::string_view value) const {
    if (value.empty()) return "(none)";
    return reveal_ ? std::string(value) : std::string("(present)");
  }

 private:
  bool reveal_;
};

std::string nhsNumberLine(const domain::Attendance& a, const Shown& shown) {
  std::string line = "NHS number ";
  if (a.nhsNumber) {
    line += shown(a.nhsNumber->reveal()) + (a.nhsNumberFrom.empty() ? "" : " from " + a.nhsNumberFrom) +
            ", valid";
  } else if (!a.nhsNumberProblem.empty()) {
    line += (a.refusedNhsNumber ? shown(a.refusedNhsNumber->reveal()) : std::string("(present)")) +
            ", refused: " + a.nhsNumberProblem;
  } else {
    line += "(none)";
  }
  line += "; trace status ";
  if (a.nhsStatus != domain::NhsNumberStatus::Absent) {
    line += std::string(domain::codeOf(a.nhsStatus));
  } else {
    line += a.nhsStatusUnreadable ? "unreadable" : "(none)";
  }
  if (a.priorNhsNumber) line += "; merged from " + shown(a.priorNhsNumber->reveal());
  if (!a.furtherMerges.empty()) line += "; " + std::to_string(a.furtherMerges.size()) + " further merge(s)";
  return line;
}

std::string patientLine(const domain::Attendance& a, const Shown& shown) {
  std::string line = "name " + shown(a.name.family.empty() && a.name.given.empty()
                                         ? std::string_view()
                                         : std::string_view(a.name.family + ", " + a.name.given));
  line += "; born " + (a.birthDate ? shown(domain::hl7Date(*a.birthDate)) : std::string("(none)"));
  line += "; sex " + std::string(domain::codeOf(a.sex));
  if (a.pregnant) {
    line += "; pregnant";
  } else if (a.pregnancyUnreadable) {
    line += "; pregnancy unreadable (checked as if pregnant)";
  }
  if (a.expectedDeliveryDate) line += "; due " + shown(domain::hl7Date(*a.expectedDeliveryDate));
  return line;
}

std::string encounterLine(const domain::Attendance& a) {
  auto value = [](const std::string& v) { return v.empty() ? std::string("(none)") : v; };
  std::string line = "visit " + value(a.visitNumber);
  line += "; arrived " + (a.arrivedAt ? domain::hl7LondonTimestamp(*a.arrivedAt) : std::string("(none)"));
  line += "; location " + value(a.locationKey);
  line += "; setting " + (a.setting ? std::string(domain::codeOf(*a.setting)) : std::string("(unmapped)"));
  if (a.settingByDefault) line += " (the mapping's default rule)";
  line += "; site " + value(a.siteOdsCode) + "; department " + value(a.department) + "; patient class " +
          value(a.patientClass);
  if (a.accessMode) {
    line += "; access mode " + std::string(domain::codeOf(*a.accessMode)) +
            (a.accessModeByAdapter ? " (the adapter)" : " (the mapping)");
  }
  return line;
}

std::string decisionLine(const pipeline::Decision& d) {
  switch (d.kind) {
    case pipeline::DecisionKind::CheckDue:
      return "CHECK DUE: CP-IS is queried, " +
             std::string(d.mode && *d.mode == domain::AccessMode::Scheduled ? "a silent read (SCHEDULED)"
                                                                             : "UNSCHEDULED (an access recorded, "
                                                                               "the local authority told)") +
             (d.birthDateMissing ? "; no birth date: checked anyway" : "");
    case pipeline::DecisionKind::RepeatPrevious:
      return "REPEAT: the attendance's earlier check is repeated";
    case pipeline::DecisionKind::NotChecked:
      break;
  }
  return "NOT_CHECKED " + (d.reason ? std::string(domain::codeOf(*d.reason)) : std::string()) + ": " +
         d.reasonText + (d.emitAlert ? "" : " (no alert segment in the ACK)");
}

}  // namespace

int Checks::dryRun(const config::EngineConfig& config, const config::XercesPlatform& xerces, const std::string& feedName,
                   const std::vector<std::string>& files, bool showPatientData, std::ostream& out, std::ostream& err) {
  const config::FeedConfig* feed = nullptr;
  for (const auto& f : config.feeds) {
    if (f.name == feedName) feed = &f;
  }
  if (feed == nullptr) {
    err << "cpis-engine: " << config.source << " has no feed named '" << feedName << "' (it has:";
    for (const auto& f : config.feeds) err << " " << f.name;
    err << ")\n";
    return kExitConfig;
  }
  if (!feed->check || !feed->mappingFile) {
    err << "cpis-engine: feed " << feedName << " does not check CP-IS (no <check> and <mapping>): nothing to try\n";
    return kExitConfig;
  }
  // The registry (the loaded libraries) outlives the plugin instance made from it.
  plugin::PluginRegistry plugins(pluginDirectories());
  std::unique_ptr<mapping::Mapping> mapping;
  std::unique_ptr<plugin::AdapterPlugin> adapterPlugin;
  try {
    mapping = std::make_unique<mapping::Mapping>(loadMappingFor(config, mapping::MappingLoader(xerces), *feed->mappingFile));
    if (feed->adapter) adapterPlugin = adapterPluginFor(plugins, *feed->adapter);
  } catch (const std::exception& e) {
    err << "cpis-engine: feed " << feedName << ": " << e.what() << (std::string_view(e.what()).ends_with('\n') ? "" : "\n");
    return kExitConfig;
  }
  const pipeline::Adapter adapter(feedName, mapping.get(), adapterPlugin.get());
  pipeline::InMemoryCheckMemory memory(now);
  pipeline::MergedNumbers merges(now);
  const pipeline::Decider decider(decisionPolicyFor(config, *feed->check), now, memory, &merges);
  const Shown shown(showPatientData);

  out << "feed " << feedName << ": mapping " << feed->mappingFile->string()
      << (adapterPlugin ? ", adapter " + describe(*adapterPlugin) : std::string(", no adapter plugin"))
      << "; each message decided as its attendance's first (no memory of earlier checks); nothing stored, "
         "nothing sent, CP-IS not asked\n";
  bool allRead = true;
  // A folder stands for its files, in name order, as cpis-send takes it.
  std::vector<std::pair<std::string, bool>> inputs;  // file, found in a folder
  for (const std::string& named : files) {
    std::error_code ec;
    if (!std::filesystem::is_directory(named, ec)) {
      inputs.emplace_back(named, false);
      continue;
    }
    std::vector<std::string> inFolder;
    std::filesystem::directory_iterator it(named, ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      std::error_code kind;
      if (it->is_regular_file(kind)) {
        inFolder.push_back(it->path().string());
      } else {
        err << "cpis-engine: " << it->path().string() << ": not a file; skipped\n";
      }
    }
    if (ec) {
      err << "cpis-engine: " << named << ": cannot be read (" << ec.message() << ")\n";
      allRead = false;
    } else if (inFolder.empty()) {
      err << "cpis-engine: " << named << ": no files in it\n";
      allRead = false;
    }
    std::sort(inFolder.begin(), inFolder.end());
    for (auto& file : inFolder) inputs.emplace_back(std::move(file), true);
  }
  for (const auto& [file, inFolder] : inputs) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes;
    if (in) bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) {
      err << "cpis-engine: " << file << ": cannot be read\n";
      allRead = false;
      continue;
    }
    const hl7v2::Stream stream = hl7v2::parseStream(bytes, charsetWhenUnstatedOf(*feed));
    if (stream.messages.empty()) {
      // Never passed over in silence; a folder's other file (a README beside the messages) is
      // noted without failing the run.
      err << "cpis-engine: " << file << ": no HL7 v2 message in it (no MSH segment)"
          << (inFolder ? "; skipped" : "") << "\n";
      if (!inFolder) allRead = false;
    }
    for (std::size_t i = 0; i < stream.messages.size(); ++i) {
      const auto& item = stream.messages[i];
      out << "\n" << file << ": message " << (i + 1);
      if (!item.message.ok()) {
        out << ": does not parse (the engine answers it AR/AE with this ERR): " << item.message.error() << "\n";
        allRead = false;
        continue;
      }
      const hl7v2::Message& message = item.message.value();
      out << " (MSH-10 " << message.controlId() << ", " << message.messageCode() << "^" << message.triggerEvent()
          << ", v" << message.version() << ")\n";
      // What the feed refuses before any mapping, in the running engine's order: another sender,
      // a training message in LIVE, another HL7 version.
      auto refusal =
          pipeline::refusedSender(message, feed->expectedSendingApplication, feed->expectedSendingFacility);
      if (!refusal) refusal = pipeline::refusedProcessingId(message, decider.policy().environment);
      if (!refusal) refusal = pipeline::refusedVersionId(message);
      if (refusal) {
        out << "  refused (AR; stored as rejected; NOT_CHECKED MESSAGE_REJECTED): " << *refusal << "\n";
        allRead = false;
        continue;
      }
      const pipeline::AdaptResult adapted = adapter.adapt(message);
      const domain::Attendance& a = adapted.attendance;
      switch (adapted.kind) {
        case pipeline::AdaptResult::Kind::Failed:
          out << "  adapter failed (AE, ERR 207; stored as failed): " << adapted.reason << "\n";
          allRead = false;
          continue;
        case pipeline::AdaptResult::Kind::DataError:
          out << "  refused (AE; stored as failed; NOT_CHECKED MESSAGE_REJECTED):\n";
          for (const core::Issue& issue : adapted.issues) out << "    " << issue << "\n";
          allRead = false;
          continue;
        case pipeline::AdaptResult::Kind::NotAnAttendance:
          out << "  not an attendance (NOT_CHECKED NOT_AN_ATTENDANCE): " << adapted.reason << "\n";
          continue;
        case pipeline::AdaptResult::Kind::Attendance:
          break;
      }
      out << "  attendance " << domain::codeOf(a.event) << " (trigger " << a.triggerEvent << ")"
          << (a.scheduledOnly ? ", scheduled by nature" : "") << "\n";
      out << "  patient: " << nhsNumberLine(a, shown) << "\n";
      out << "           " << patientLine(a, shown) << "\n";
      out << "  encounter: " << encounterLine(a) << "\n";
      for (const core::Issue& warning : a.warnings) out << "  warning: " << warning << "\n";
      out << "  decision: " << decisionLine(decider.decide(a)) << "\n";
    }
  }
  return allRead ? 0 : 1;
}

}  // namespace cpis::app

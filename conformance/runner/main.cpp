// cpis-conformance: runs the conformance pack against a running engine (`run`), or writes a
// feed readiness report from captured messages (`analyse`, conformance/analyse).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/SSLManager.h>

#include "conformance/analyse/analyse_command.h"
#include "conformance/runner/report.h"
#include "conformance/runner/runner.h"
#include "conformance/runner/scenario.h"
#include "conformance/simulator/dataset.h"
#include "conformance/simulator/spine_simulator.h"
#include "engine/config/config_error.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_schemas.h"

namespace {

using cpis::conformance::Endpoint;

constexpr const char* kUsage = R"(usage:
  cpis-conformance run --engine HOST:PORT [--feed NAME=HOST:PORT[:tls]]...
                       [--tls-ca FILE --tls-cert FILE --tls-key FILE]
                       [--simulator URL | --start-simulator [--simulator-port N] [--schemas DIR] [--dataset FILE]]
                       [--webhook-port N [--webhook-secret FILE]] [--return-port N] [--audit-db FILE]
                       [--jobs N] [--timeout-ms N] [--junit FILE] [--html FILE] [--quiet] SCENARIOS...
  cpis-conformance analyse ...   (cpis-conformance analyse --help)

run: sends each scenario's messages to the engine's feeds over MLLP and checks the replies and
the CP-IS simulator's records. SCENARIOS are files or folders of *.xml (conformance/scenarios).
Exit status: 0 all passed, 1 some failed, 2 usage or input error.
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Endpoint parseEndpoint(const std::string& text) {
  // HOST:PORT[:tls]
  Endpoint e;
  std::string rest = text;
  if (rest.size() > 4 && rest.compare(rest.size() - 4, 4, ":tls") == 0) {
    e.tls = true;
    rest.resize(rest.size() - 4);
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) throw UsageError("expected HOST:PORT, not " + text);
  e.host = rest.substr(0, colon);
  try {
    const int port = std::stoi(rest.substr(colon + 1));
    if (port < 1 || port > 65535) throw UsageError("port out of range in " + text);
    e.port = static_cast<std::uint16_t>(port);
  } catch (const std::logic_error&) {
    throw UsageError("expected HOST:PORT, not " + text);
  }
  return e;
}

int runCommand(const std::vector<std::string>& args) {
  cpis::conformance::RunnerSettings settings;
  std::vector<std::filesystem::path> paths;
  std::string junit, html, schemas, dataset;
  bool startSimulator = false, quiet = false, haveEngine = false;
  int simulatorPort = 8970, webhookPort = -1, returnPort = -1;
  std::string webhookSecretFile, auditDb;
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&]() -> const std::string& {
        if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
        return args[++i];
      };
      if (a == "--engine") {
        settings.engine = parseEndpoint(value());
        haveEngine = true;
      } else if (a == "--feed") {
        const std::string& v = value();
        const auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) throw UsageError("--feed needs NAME=HOST:PORT[:tls]");
        settings.feeds[v.substr(0, eq)] = parseEndpoint(v.substr(eq + 1));
      } else if (a == "--tls-ca") {
        settings.tlsCa = value();
      } else if (a == "--tls-cert") {
        settings.tlsCertificate = value();
      } else if (a == "--tls-key") {
        settings.tlsKey = value();
      } else if (a == "--simulator") {
        settings.simulatorUrl = value();
      } else if (a == "--start-simulator") {
        startSimulator = true;
      } else if (a == "--simulator-port") {
        simulatorPort = std::stoi(value());
      } else if (a == "--schemas") {
        schemas = value();
      } else if (a == "--dataset") {
        dataset = value();
      } else if (a == "--webhook-port") {
        webhookPort = std::stoi(value());
        if (webhookPort < 0 || webhookPort > 65535) throw UsageError("--webhook-port must be 0 to 65535");
      } else if (a == "--webhook-secret") {
        webhookSecretFile = value();
      } else if (a == "--return-port") {
        returnPort = std::stoi(value());
        if (returnPort < 0 || returnPort > 65535) throw UsageError("--return-port must be 0 to 65535");
      } else if (a == "--audit-db") {
        auditDb = value();
      } else if (a == "--jobs") {
        settings.jobs = std::stoi(value());
        if (settings.jobs < 1 || settings.jobs > 256) throw UsageError("--jobs must be 1 to 256");
      } else if (a == "--timeout-ms") {
        settings.replyTimeout = std::chrono::milliseconds(std::stoi(value()));
      } else if (a == "--junit") {
        junit = value();
      } else if (a == "--html") {
        html = value();
      } else if (a == "--quiet") {
        quiet = true;
      } else if (a == "--help" || a == "-h") {
        std::cout << kUsage;
        return 0;
      } else if (!a.empty() && a[0] == '-') {
        throw UsageError("unknown option " + a);
      } else {
        paths.emplace_back(a);
      }
    }
    if (!haveEngine && settings.feeds.empty()) throw UsageError("--engine HOST:PORT is required");
    if (paths.empty()) throw UsageError("no scenarios given");
    if (startSimulator && !settings.simulatorUrl.empty()) throw UsageError("--simulator and --start-simulator exclude each other");
    if (!webhookSecretFile.empty() && webhookPort < 0) throw UsageError("--webhook-secret needs --webhook-port");
  } catch (const UsageError& e) {
    std::cerr << "cpis-conformance: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::logic_error&) {
    std::cerr << "cpis-conformance: a number was expected\n" << kUsage;
    return 2;
  }
  if (!haveEngine && !settings.feeds.empty()) settings.engine = settings.feeds.begin()->second;

  cpis::config::XercesPlatform xerces;
  std::vector<cpis::conformance::Scenario> scenarios;
  try {
    cpis::conformance::ScenarioReader reader;
    scenarios = reader.load(paths);
  } catch (const cpis::config::ConfigError& e) {
    for (const auto& p : e.problems()) std::cerr << p << "\n";
    return 2;
  }
  if (scenarios.empty()) {
    std::cerr << "cpis-conformance: no scenarios found\n";
    return 2;
  }

  Poco::Net::initializeSSL();
  std::unique_ptr<cpis::cpis::SpineSchemas> spineSchemas;
  std::unique_ptr<cpis::sim::SpineSimulator> simulator;
  if (startSimulator) {
    try {
      if (schemas.empty()) {
        const char* env = std::getenv("CPIS_SPINE_SCHEMAS");
        if (!env) throw std::runtime_error("--start-simulator needs --schemas DIR or CPIS_SPINE_SCHEMAS");
        schemas = env;
      }
      if (dataset.empty()) dataset = CPIS_DEFAULT_DATASET;
      spineSchemas = std::make_unique<cpis::cpis::SpineSchemas>(schemas);
      cpis::sim::SimulatorSettings simSettings;
      simSettings.port = static_cast<std::uint16_t>(simulatorPort);
      simulator = std::make_unique<cpis::sim::SpineSimulator>(simSettings, *spineSchemas,
                                                              cpis::sim::Dataset::load(dataset));
      simulator->start();
      settings.simulatorUrl = simulator->baseUrl();
      std::cout << "cpis-conformance: simulator at " << simulator->queryUrl() << std::endl;
    } catch (const std::exception& e) {
      std::cerr << "cpis-conformance: cannot start the simulator: " << e.what() << "\n";
      return 2;
    }
  }

  std::unique_ptr<cpis::conformance::WebhookReceiver> webhooks;
  std::unique_ptr<cpis::conformance::ReturnListener> returns;
  std::unique_ptr<cpis::conformance::AuditReader> audit;
  try {
    if (!auditDb.empty()) {
      audit = std::make_unique<cpis::conformance::AuditReader>(auditDb);
      settings.audit = audit.get();
    }
    if (webhookPort >= 0) {
      std::string secret;
      if (!webhookSecretFile.empty()) {
        std::ifstream in(webhookSecretFile, std::ios::binary);
        if (!in) throw std::runtime_error("cannot read --webhook-secret " + webhookSecretFile);
        secret.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
        if (secret.empty()) throw std::runtime_error("--webhook-secret " + webhookSecretFile + " is empty");
      }
      webhooks = std::make_unique<cpis::conformance::WebhookReceiver>(static_cast<std::uint16_t>(webhookPort), secret);
      settings.webhooks = webhooks.get();
      std::cout << "cpis-conformance: webhook receiver at http://127.0.0.1:" << webhooks->port() << "/hooks/" << std::endl;
    }
    if (returnPort >= 0) {
      returns = std::make_unique<cpis::conformance::ReturnListener>(static_cast<std::uint16_t>(returnPort));
      settings.returns = returns.get();
      std::cout << "cpis-conformance: return listener at 127.0.0.1:" << returns->port() << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "cpis-conformance: cannot start: " << e.what() << "\n";
    return 2;
  }

  std::mutex outMutex;
  if (!quiet) {
    settings.onFinished = [&](const cpis::conformance::ScenarioResult& r) {
      const char* word = r.verdict == cpis::conformance::ScenarioResult::Verdict::Passed   ? "ok     "
                         : r.verdict == cpis::conformance::ScenarioResult::Verdict::Failed ? "FAILED "
                                                                                            : "skipped";
      std::lock_guard lock(outMutex);
      std::cout << word << " " << r.scenario->id << std::endl;
    };
  }
  std::vector<cpis::conformance::ScenarioResult> results;
  try {
    results = cpis::conformance::runScenarios(scenarios, settings);
  } catch (const std::exception& e) {
    std::cerr << "cpis-conformance: " << e.what() << "\n";
    return 2;
  }
  if (simulator) simulator->stop();
  cpis::conformance::writeConsoleSummary(std::cout, results);
  if (!junit.empty()) {
    std::ofstream out(junit);
    cpis::conformance::writeJUnit(out, results);
    if (!out) {
      std::cerr << "cpis-conformance: cannot write " << junit << "\n";
      return 2;
    }
  }
  if (!html.empty()) {
    std::ofstream out(html);
    cpis::conformance::writeHtml(out, results);
    if (!out) {
      std::cerr << "cpis-conformance: cannot write " << html << "\n";
      return 2;
    }
  }
  return cpis::conformance::totals(results).failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "run") return runCommand(args);
  if (command == "analyse") return cpis::conformance::analyseCommand(args, std::cout, std::cerr);
  std::cerr << "cpis-conformance: unknown command " << command << "\n" << kUsage;
  return 2;
}

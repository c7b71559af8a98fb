#include "engine/app/engine_application.h"

#include <csignal>
#include <iostream>
#include <pthread.h>

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>

#include "engine/app/checks.h"
#include "engine/app/embedded_defaults.h"
#include "engine/app/engine.h"
#include "engine/app/logging.h"
#include "engine/config/config_loader.h"
#include "engine/config/xerces_platform.h"

namespace cpis::app {

void EngineApplication::defineOptions(Poco::Util::OptionSet& options) {
  ServerApplication::defineOptions(options);
  options.addOption(Poco::Util::Option("config", "c", "run with this configuration file")
                        .required(false)
                        .repeatable(false)
                        .argument("FILE"));
  options.addOption(Poco::Util::Option("validate-config", "", "check a configuration file and print it")
                        .required(false)
                        .repeatable(false)
                        .argument("FILE"));
  options.addOption(
      Poco::Util::Option("dry-run", "",
                         "print what the feed's mapping, adapter plugin and decision make of each "
                         "message file given after the options: nothing stored, CP-IS not asked")
          .required(false)
          .repeatable(false)
          .argument("FEED"));
  options.addOption(
      Poco::Util::Option("show-patient-data", "",
                         "with --dry-run: print NHS numbers, names and dates of birth (otherwise "
                         "\"(present)\")")
          .required(false)
          .repeatable(false));
  options.addOption(Poco::Util::Option("help", "h", "show this help").required(false).repeatable(false));
}

void EngineApplication::handleOption(const std::string& name, const std::string& value) {
  ServerApplication::handleOption(name, value);
  if (name == "config") configFile_ = value;
  if (name == "validate-config") {
    configFile_ = value;
    validateOnly_ = true;
  }
  if (name == "dry-run") dryRunFeed_ = value;
  if (name == "show-patient-data") showPatientData_ = true;
  if (name == "help") {
    help_ = true;
    stopOptionsProcessing();
  }
}

int EngineApplication::main(const ArgVec& args) {
  if (help_) {
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage(
        "[--config FILE | --validate-config FILE] | [--config FILE] --dry-run FEED MESSAGE-FILE...");
    help.setHeader(
        "cpis-engine: CP-IS interface engine. Without --config it runs the built-in demo configuration.");
    help.format(std::cout);
    return EXIT_OK;
  }
  if (!dryRunFeed_ && !args.empty()) {
    std::cerr << "cpis-engine: unexpected argument '" << args.front() << "' (see --help)\n";
    return EXIT_USAGE;
  }
  if (dryRunFeed_ && (args.empty() || validateOnly_)) {
    std::cerr
        << "cpis-engine: --dry-run FEED takes message files after the options, and not --validate-config "
           "(see --help)\n";
    return EXIT_USAGE;
  }
  // Block the stop signals before any thread starts: threads inherit the mask, and a SIGTERM
  // that arrives before waitForTerminationRequest() stays pending instead of killing us.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  for (const int signal : {SIGINT, SIGQUIT, SIGTERM}) sigaddset(&stopSignals, signal);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  // A peer that closes while we write (an EPR, Spine, a return connection) is an error on
  // that connection, reported there; never a reason for the whole engine to die.
  signal(SIGPIPE, SIG_IGN);

  const config::XercesPlatform xerces;
  config::EngineConfig configuration;
  try {
    const config::ConfigLoader loader(xerces);
    configuration = configFile_ ? loader.loadFile(*configFile_)
                                : loader.loadString(embeddedDefaults(), "<built-in demo configuration>");
  } catch (const config::ConfigError& e) {
    std::cerr << "cpis-engine: the configuration is not valid:\n" << e.what();
    if (std::string_view(e.what()).empty() || std::string_view(e.what()).back() != '\n') std::cerr << '\n';
    return EXIT_CONFIG;
  }
  if (dryRunFeed_) {
    Poco::Logger::root().setLevel(Poco::Message::PRIO_WARNING);  // plugins say hello at information
    return Checks::dryRun(configuration, xerces, *dryRunFeed_, args, showPatientData_, std::cout, std::cerr);
  }
  // What start-up would load (mappings, plugins, TLS keys), each problem with its line in the
  // file: with --validate-config, "valid" means the engine starts; before a start, nothing
  // (no store, no recovery, no dispatcher) has begun when the engine refuses.
  Poco::Logger::root().setLevel(Poco::Message::PRIO_WARNING);  // plugins say hello at information
  if (const auto problems = Checks::unloadable(configuration, xerces); !problems.empty()) {
    std::cerr << "cpis-engine: " << configuration.source << " names what cannot be loaded:\n";
    for (const auto& problem : problems) std::cerr << "  " << problem << "\n";
    return EXIT_CONFIG;
  }
  if (validateOnly_) {
    std::cout << configuration << "cpis-engine: " << configuration.source << " is valid\n";
    return EXIT_OK;
  }
  configureLogging(configuration.logging);
  Poco::Net::initializeSSL();
  int status = EXIT_OK;
  {
    Engine engine(configuration);
    try {
      engine.start();
      // One line a listener on standard output: what a supervisor or a test waits for.
      for (const auto& l : engine.listeners()) {
        std::cout << "cpis-engine: feed " << l.feed << " listening on " << l.address << ":" << l.port
                  << (l.tls ? " (MLLP/TLS)" : " (MLLP)") << "\n";
      }
      std::cout << "cpis-engine: ready" << std::endl;
      waitForTerminationRequest();
      std::cout << "cpis-engine: stopping" << std::endl;
      Poco::Logger::get("cpis.engine")
          .notice("stopping: asked to (SIGTERM, SIGINT or SIGQUIT); the listeners close, messages in flight are "
                  "answered and the store is flushed first");
    } catch (const Poco::Exception& e) {  // a listener cannot bind, TLS files unusable, ...
      std::cerr << "cpis-engine: cannot start: " << e.displayText() << "\n";
      status = EXIT_UNAVAILABLE;
    } catch (const std::exception& e) {  // the store cannot open, ...
      std::cerr << "cpis-engine: cannot start: " << e.what() << "\n";
      status = EXIT_UNAVAILABLE;
    }
    engine.stop();
  }
  Poco::Net::uninitializeSSL();
  if (status == EXIT_OK) std::cout << "cpis-engine: stopped" << std::endl;
  return status;
}

}  // namespace cpis::app

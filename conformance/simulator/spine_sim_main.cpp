// cpis-spine-sim: the CP-IS Spine simulator as a program, for development, demos, the
// conformance runner and suppliers' own testing. Never for a LIVE engine.

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/SSLManager.h>

#include "conformance/simulator/spine_simulator.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_schemas.h"

namespace {

constexpr const char* kUsage =
    "usage: cpis-spine-sim [OPTIONS]\n"
    "  The CP-IS Spine simulator: answers CP-IS queries (SOAP / HL7 v3) from a dataset.\n"
    "  --address ADDR            address to listen on (default 127.0.0.1)\n"
    "  --port N                  port (default 8443; 0 lets the system choose)\n"
    "  --tls CERT KEY            HTTPS with this certificate and key (PEM)\n"
    "  --key-passphrase-file F   the key's passphrase\n"
    "  --client-ca FILE          mutual TLS: clients must present a certificate from these CAs\n"
    "  --dataset FILE            the children (default: the shipped dataset)\n"
    "  --schemas DIR             the CP-IS schema folder (default: $CPIS_SPINE_SCHEMAS)\n"
    "  --async                   honour wsa:ReplyTo: accept with 202, POST the reply there\n"
    "  --reply-ca FILE           CAs for https ReplyTo addresses\n"
    "  --reply-cert CERT KEY     client certificate for https ReplyTo addresses\n"
    "  --service-asid ASID       refuse queries addressed to another ASID\n"
    "  --no-records-code CODE    the QUQI code sent for an unknown NHS number\n"
    "  --threads N               connections served at once (default 64)\n"
    "  Prints 'cpis-spine-sim: listening on URL' then 'cpis-spine-sim: ready'; stops on SIGINT or\n"
    "  SIGTERM. Admin: POST/GET/DELETE /admin/faults, GET /admin/accesses/NHS, POST /admin/reset,\n"
    "  GET /la/ODS/notifications, GET /health (conformance/simulator/README.md).\n";

#ifndef CPIS_DEFAULT_DATASET
#define CPIS_DEFAULT_DATASET ""
#endif

bool number(const std::string& text, long min, long max, long& value) {
  try {
    std::size_t used = 0;
    value = std::stol(text, &used);
    return used == text.size() && value >= min && value <= max;
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<std::string> readSecret(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

struct Options {
  cpis::sim::SimulatorSettings settings;
  std::string dataset = CPIS_DEFAULT_DATASET;
  std::string schemas;
};

// nullopt: fine; "": help; otherwise the problem.
std::optional<std::string> parse(const std::vector<std::string>& args, Options& o) {
  std::optional<cpis::cpis::ServerTlsSettings> tls;
  std::optional<cpis::cpis::ClientTlsSettings> replyTls;
  std::string passphraseFile, clientCa;
  if (const char* env = std::getenv("CPIS_SPINE_SCHEMAS")) o.schemas = env;
  o.settings.port = 8443;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    long n = 0;
    if (a == "--help" || a == "-h") return std::string();
    if (a == "--async") {
      o.settings.asyncReplies = true;
      continue;
    }
    if (a == "--tls" || a == "--reply-cert") {
      const auto cert = value();
      const auto key = value();
      if (!cert || !key) return a + " needs a certificate file and a key file";
      if (a == "--tls") {
        tls = cpis::cpis::ServerTlsSettings{*cert, *key, "", "", false};
      } else {
        if (!replyTls) replyTls.emplace();
        replyTls->certificateFile = *cert;
        replyTls->privateKeyFile = *key;
      }
      continue;
    }
    const auto v = value();
    if (!v) return a + " needs a value";
    if (a == "--address") {
      o.settings.address = *v;
    } else if (a == "--port") {
      if (!number(*v, 0, 65535, n)) return "--port is a number from 0 to 65535";
      o.settings.port = static_cast<std::uint16_t>(n);
    } else if (a == "--key-passphrase-file") {
      passphraseFile = *v;
    } else if (a == "--client-ca") {
      clientCa = *v;
    } else if (a == "--dataset") {
      o.dataset = *v;
    } else if (a == "--schemas") {
      o.schemas = *v;
    } else if (a == "--reply-ca") {
      if (!replyTls) replyTls.emplace();
      replyTls->caFile = *v;
    } else if (a == "--service-asid") {
      o.settings.serviceAsid = *v;
    } else if (a == "--no-records-code") {
      o.settings.replyOptions.noRecordsCode = *v;
    } else if (a == "--threads") {
      if (!number(*v, 2, 4096, n)) return "--threads is a number from 2 to 4096";
      o.settings.maxThreads = static_cast<int>(n);
    } else {
      return "unknown option '" + a + "'";
    }
  }
  if (!clientCa.empty() || !passphraseFile.empty()) {
    if (!tls) return "--client-ca and --key-passphrase-file need --tls";
  }
  if (tls) {
    if (!passphraseFile.empty()) {
      const auto secret = readSecret(passphraseFile);
      if (!secret) return "cannot read the passphrase file";
      tls->privateKeyPassphrase = *secret;
    }
    if (!clientCa.empty()) {
      tls->caFile = clientCa;
      tls->requireClientCertificate = true;
    }
  }
  o.settings.tls = tls;
  o.settings.replyTls = replyTls;
  if (o.schemas.empty()) return std::string("--schemas is missing (or set CPIS_SPINE_SCHEMAS)");
  if (o.dataset.empty()) return std::string("--dataset is missing");
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  Options options;
  if (const auto problem = parse(args, options)) {
    if (problem->empty()) {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << "cpis-spine-sim: " << *problem << "\n" << kUsage;
    return 64;
  }
  // Stop signals wait for sigwait below instead of killing the process half-way.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  // A client that gave up before its reply must not kill the simulator when we write to it.
  signal(SIGPIPE, SIG_IGN);
  Poco::Net::initializeSSL();
  int status = 0;
  try {
    const cpis::config::XercesPlatform xerces;
    const cpis::cpis::SpineSchemas schemas(options.schemas);
    auto dataset = cpis::sim::Dataset::load(options.dataset);
    const auto children = dataset.size();
    cpis::sim::SpineSimulator simulator(options.settings, schemas, std::move(dataset));
    simulator.start();
    std::cout << "cpis-spine-sim: " << children << " children from " << options.dataset << "\n"
              << "cpis-spine-sim: listening on " << simulator.queryUrl()
              << (options.settings.tls && options.settings.tls->requireClientCertificate ? " (mutual TLS)" : "")
              << (options.settings.asyncReplies ? " (asynchronous replies)" : "") << "\n"
              << "cpis-spine-sim: ready" << std::endl;
    int signal = 0;
    sigwait(&stopSignals, &signal);
    simulator.stop();
    std::cout << "cpis-spine-sim: stopped" << std::endl;
  } catch (const Poco::Exception& e) {
    std::cerr << "cpis-spine-sim: " << e.displayText() << "\n";
    status = 1;
  } catch (const std::exception& e) {
    std::cerr << "cpis-spine-sim: " << e.what() << "\n";
    status = 1;
  }
  Poco::Net::uninitializeSSL();
  return status;
}

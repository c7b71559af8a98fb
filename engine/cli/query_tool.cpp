#include "engine/cli/query_tool.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include "engine/config/config_error.h"
#include "engine/config/config_loader.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/lookup_factory.h"
#include "engine/cpis/spine_lookup.h"
#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_schemas.h"

namespace cpis::cli {
namespace {

constexpr const char* kUsage =
    "usage: cpis-query [OPTIONS] --access unscheduled|scheduled NHS_NUMBER\n"
    "  Queries CP-IS (Spine or the simulator) for one NHS number and prints the result.\n"
    "  --access MODE            required: 'unscheduled' records an access in the child's history and\n"
    "                           tells the local authority; 'scheduled' is a silent read\n"
    "  --config FILE            take the endpoint, identity, TLS and time-outs from the engine's <cpis>\n"
    "  --endpoint URL           where queries go (e.g. http://127.0.0.1:8443/syncservice)\n"
    "  --schemas DIR            the CP-IS schema folder (default: $CPIS_SPINE_SCHEMAS)\n"
    "  --from-asid ASID         our ASID (default 200000000001)\n"
    "  --to-asid ASID           the CP-IS service's ASID (default 990000000001)\n"
    "  --ca FILE                CAs the server certificate must chain to (https)\n"
    "  --cert FILE --key FILE   client certificate and key (mutual TLS)\n"
    "  --key-passphrase-file F  the key's passphrase\n"
    "  --timeout MS             per attempt (default 5000)   --retries N (default 0)\n"
    "  --no-records-code CODE   the QUQI code that means no records\n"
    "  --org-ods CODE --org-name NAME --person-name NAME --job-role-code CODE --job-role-name NAME\n"
    "                           who is asking (a system author with our ASID)\n"
    "  --simulator              the endpoint is the simulator (the result says so)\n"
    "  --json                   print the result as JSON\n"
    "  Exit status: 0 found, 1 not found, 2 the check failed (NOT a negative result), 64 usage.\n";

struct Options {
  std::optional<std::string> configFile, endpoint, schemas, fromAsid, toAsid, ca, cert, key, passphraseFile,
      noRecordsCode;
  std::optional<long> timeoutMs, retries;
  std::optional<domain::AccessMode> mode;
  std::string nhsNumber;
  bool json = false;
  bool simulator = false;
  cpis::Author author;
};

bool parseNumber(const std::string& text, long min, long max, long& value) {
  try {
    std::size_t used = 0;
    value = std::stol(text, &used);
    return used == text.size() && value >= min && value <= max;
  } catch (const std::exception&) {
    return false;
  }
}

// nullopt: fine; "": help; otherwise the problem.
std::optional<std::string> parseArgs(const std::vector<std::string>& args, Options& o) {
  o.author.kind = cpis::Author::Kind::System;
  o.author.orgOdsCode = "ZZ999";
  o.author.orgName = "cpis-query";
  o.author.personName = "CP-IS Query Tool";
  o.author.jobRoleCode = "R8000";
  o.author.jobRoleName = "Clinical Practitioner Access Role";
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") return std::string();
    if (a == "--json") {
      o.json = true;
      continue;
    }
    if (a == "--simulator") {
      o.simulator = true;
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      if (i + 1 >= args.size()) return a + " needs a value";
      const std::string v = args[++i];
      long n = 0;
      if (a == "--access") {
        if (v != "unscheduled" && v != "scheduled") return std::string("--access is 'unscheduled' or 'scheduled'");
        o.mode = v == "unscheduled" ? domain::AccessMode::Unscheduled : domain::AccessMode::Scheduled;
      } else if (a == "--config") {
        o.configFile = v;
      } else if (a == "--endpoint") {
        o.endpoint = v;
      } else if (a == "--schemas") {
        o.schemas = v;
      } else if (a == "--from-asid") {
        o.fromAsid = v;
      } else if (a == "--to-asid") {
        o.toAsid = v;
      } else if (a == "--ca") {
        o.ca = v;
      } else if (a == "--cert") {
        o.cert = v;
      } else if (a == "--key") {
        o.key = v;
      } else if (a == "--key-passphrase-file") {
        o.passphraseFile = v;
      } else if (a == "--no-records-code") {
        o.noRecordsCode = v;
      } else if (a == "--timeout") {
        if (!parseNumber(v, 1, 3'600'000, n)) return std::string("--timeout is milliseconds from 1");
        o.timeoutMs = n;
      } else if (a == "--retries") {
        if (!parseNumber(v, 0, 5, n)) return std::string("--retries is a number from 0 to 5");
        o.retries = n;
      } else if (a == "--org-ods") {
        o.author.orgOdsCode = v;
      } else if (a == "--org-name") {
        o.author.orgName = v;
      } else if (a == "--person-name") {
        o.author.personName = v;
      } else if (a == "--job-role-code") {
        o.author.jobRoleCode = v;
      } else if (a == "--job-role-name") {
        o.author.jobRoleName = v;
      } else {
        return "unknown option '" + a + "'";
      }
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 1) return std::string("give exactly one NHS number");
  o.nhsNumber = positional.front();
  if (!o.mode) return std::string("--access is required (unscheduled or scheduled)");
  if (o.cert.has_value() != o.key.has_value()) return std::string("--cert and --key go together");
  if (!o.configFile && !o.endpoint) return std::string("--endpoint (or --config) is required");
  return std::nullopt;
}

std::string isoDate(domain::Date d) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buffer;
}

std::string isoInstant(domain::Instant at) {
  const auto days = std::chrono::floor<std::chrono::days>(at);
  const auto ms = (at - days).count();
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%sT%02lld:%02lld:%02lldZ", isoDate(domain::Date{days}).c_str(),
                static_cast<long long>(ms / 3'600'000), static_cast<long long>(ms / 60'000 % 60),
                static_cast<long long>(ms / 1000 % 60));
  return buffer;
}

std::string milliseconds(std::chrono::microseconds latency) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << static_cast<double>(latency.count()) / 1000.0 << " ms";
  return out.str();
}

void printText(std::ostream& out, const domain::NhsNumber& number, domain::AccessMode mode,
               const std::string& checkId, const cpis::LookupResult& r) {
  const std::string about = "NHS number " + number.display() + ", " + std::string(domain::codeOf(mode)) +
                            " access, source " + std::string(domain::codeOf(r.source));
  switch (r.status) {
    case domain::CheckStatus::Found: {
      out << "CP-IS: FOUND, " << r.records.size() << (r.records.size() == 1 ? " record" : " records") << " for "
          << about << "\n";
      int n = 0;
      for (const auto& record : r.records) {
        out << "\nRecord " << ++n << ": " << record.la.name << " (" << record.la.odsCode << ")"
            << (record.subject == domain::SubjectKind::UnbornChild
                    ? ", UNBORN CHILD (held on the mother's number)"
                    : "")
            << "\n  "
            << (record.la.emergencyPhone.empty()
                    ? "no emergency number in CP-IS"  // mandatory in CP-IS, yet absent
                    : "emergency " + record.la.emergencyPhone);
        if (record.la.workplacePhone) out << ", office hours " << *record.la.workplacePhone;
        out << "\n";
        for (const auto& plan : record.plans) {
          out << "  " << domain::codeOf(plan.type) << " " << domain::displayNameOf(plan.type) << " (SNOMED CT "
              << domain::snomedCodeOf(plan.type) << "), from " << isoDate(plan.start)
              << (plan.end ? ", to " + isoDate(*plan.end) : std::string(", no end date")) << "\n";
        }
      }
      out << "\nEarlier unscheduled accesses: " << r.accesses.size() << (r.accesses.empty() ? "" : ", newest first")
          << "\n";
      for (const auto& a : r.accesses) {
        out << "  " << isoInstant(a.at) << "  " << a.orgName << " (" << a.orgOdsCode << "), " << a.personName;
        if (!a.jobRoleName.empty()) out << ", " << a.jobRoleName;
        out << (a.bySystem ? " [system" + (a.asid ? " " + *a.asid : std::string()) + "]" : std::string(" [person]"))
            << "\n";
      }
      break;
    }
    case domain::CheckStatus::NotFound:
      out << "CP-IS: NOT FOUND, no CP-IS record for " << about << "\n";
      break;
    default: {
      const auto reason = r.failure ? r.failure->reason : domain::ReasonCode::InternalError;
      out << "CP-IS CHECK FAILED: " << domain::codeOf(reason) << ", " << (r.failure ? r.failure->detail : "") << "\n"
          << "This is NOT a negative result: CP-IS could not be checked (" << about << ").\n";
      if (r.failure && r.failure->retryable) out << "Trying again later may succeed.\n";
      break;
    }
  }
  out << "\ncheck id " << checkId << ", message id "
      << (r.transportMessageId.empty() ? std::string("(not sent)") : r.transportMessageId) << ", "
      << milliseconds(r.latency) << (r.possibleDuplicate ? ", possible duplicate" : "") << "\n";
}

void printJson(std::ostream& out, const domain::NhsNumber& number, domain::AccessMode mode,
               const std::string& checkId, const cpis::LookupResult& r) {
  using Poco::JSON::Array;
  using Poco::JSON::Object;
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("status", std::string(domain::codeOf(r.status)));
  o->set("nhsNumber", std::string(number.reveal()));
  o->set("accessMode", std::string(domain::codeOf(mode)));
  o->set("source", std::string(domain::codeOf(r.source)));
  Array::Ptr records = new Array;
  for (const auto& record : r.records) {
    Object::Ptr rec = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Object::Ptr la = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    la->set("odsCode", record.la.odsCode);
    la->set("name", record.la.name);
    la->set("emergencyPhone", record.la.emergencyPhone);
    la->set("workplacePhone", record.la.workplacePhone ? Poco::Dynamic::Var(*record.la.workplacePhone)
                                                       : Poco::Dynamic::Var());
    rec->set("localAuthority", la);
    rec->set("subject", std::string(domain::codeOf(record.subject)));
    Array::Ptr plans = new Array;
    for (const auto& plan : record.plans) {
      Object::Ptr p = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
      p->set("type", std::string(domain::codeOf(plan.type)));
      p->set("snomedCode", std::string(domain::snomedCodeOf(plan.type)));
      p->set("start", isoDate(plan.start));
      p->set("end", plan.end ? Poco::Dynamic::Var(isoDate(*plan.end)) : Poco::Dynamic::Var());
      plans->add(p);
    }
    rec->set("plans", plans);
    records->add(rec);
  }
  o->set("records", records);
  Array::Ptr accesses = new Array;
  for (const auto& a : r.accesses) {
    Object::Ptr acc = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    acc->set("at", isoInstant(a.at));
    acc->set("bySystem", a.bySystem);
    acc->set("personName", a.personName);
    acc->set("jobRoleCode", a.jobRoleCode);
    acc->set("jobRoleName", a.jobRoleName);
    acc->set("orgOdsCode", a.orgOdsCode);
    acc->set("orgName", a.orgName);
    acc->set("asid", a.asid ? Poco::Dynamic::Var(*a.asid) : Poco::Dynamic::Var());
    accesses->add(acc);
  }
  o->set("accesses", accesses);
  if (r.failure) {
    Object::Ptr f = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    f->set("reason", std::string(domain::codeOf(r.failure->reason)));
    f->set("detail", r.failure->detail);
    f->set("retryable", r.failure->retryable);
    o->set("failure", f);
  } else {
    o->set("failure", Poco::Dynamic::Var());
  }
  o->set("checkId", checkId);
  o->set("messageId", r.transportMessageId);
  o->set("latencyMs", static_cast<double>(r.latency.count()) / 1000.0);
  o->set("possibleDuplicate", r.possibleDuplicate);
  Poco::JSON::Stringifier::stringify(o, out, 2);
  out << "\n";
}

std::optional<std::string> readSecret(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

int runQueryTool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (const auto problem = parseArgs(args, o)) {
    if (problem->empty()) {
      out << kUsage;
      return kQueryFound;
    }
    err << "cpis-query: " << *problem << "\n" << kUsage;
    return kQueryUsage;
  }
  const auto number = domain::NhsNumber::parse(o.nhsNumber);
  if (!number) {
    err << "cpis-query: not a valid NHS number: "
        << domain::describe(*domain::NhsNumber::check(o.nhsNumber)) << "\n";
    return kQueryUsage;
  }

  try {
    const config::XercesPlatform xerces;
    cpis::SpineLookupSettings settings;
    std::filesystem::path schemaFolder;
    if (o.configFile) {
      const config::ConfigLoader loader(xerces);
      const auto engine = loader.loadFile(*o.configFile);
      if (!engine.cpis) {
        err << "cpis-query: " << *o.configFile << " has no <cpis> section\n";
        return kQueryUsage;
      }
      settings = cpis::lookupSettings(*engine.cpis);
      schemaFolder = engine.cpis->schemaFolder;
      settings.replyTo.clear();  // no reply endpoint here: ask for a synchronous reply
      settings.retries = 0;
    } else {
      settings.fromAsid = "200000000001";
      settings.toAsid = "990000000001";
      settings.retries = 0;
    }
    if (o.endpoint) {
      auto endpoint = cpis::Endpoint::parse(*o.endpoint);
      if (!endpoint.ok()) {
        err << "cpis-query: " << endpoint.error().message() << "\n";
        return kQueryUsage;
      }
      settings.endpoint = endpoint.value();
    }
    if (o.schemas) {
      schemaFolder = *o.schemas;
    } else if (schemaFolder.empty()) {
      const char* env = std::getenv("CPIS_SPINE_SCHEMAS");
      if (env == nullptr || *env == 0) {
        err << "cpis-query: --schemas is missing (or set CPIS_SPINE_SCHEMAS)\n";
        return kQueryUsage;
      }
      schemaFolder = env;
    }
    if (o.fromAsid) settings.fromAsid = *o.fromAsid;
    if (o.toAsid) settings.toAsid = *o.toAsid;
    if (o.timeoutMs) settings.timeout = std::chrono::milliseconds(*o.timeoutMs);
    if (o.retries) settings.retries = static_cast<std::uint32_t>(*o.retries);
    if (o.noRecordsCode) settings.replyOptions.noRecordsCode = *o.noRecordsCode;
    if (o.simulator) settings.source = domain::Source::Simulator;
    if (o.ca || o.cert) {
      cpis::ClientTlsSettings tls = settings.tls.value_or(cpis::ClientTlsSettings{});
      if (o.ca) tls.caFile = *o.ca;
      if (o.cert) {
        tls.certificateFile = *o.cert;
        tls.privateKeyFile = *o.key;
      }
      if (o.passphraseFile) {
        const auto secret = readSecret(*o.passphraseFile);
        if (!secret) {
          err << "cpis-query: cannot read the passphrase file\n";
          return kQueryUsage;
        }
        tls.privateKeyPassphrase = *secret;
      }
      settings.tls = tls;
    }
    settings.maxConcurrent = 1;

    const cpis::SpineSchemas schemas(schemaFolder);
    cpis::SpineLookup lookup(settings, schemas);
    cpis::LookupRequest request{.nhsNumber = *number,
                                .mode = *o.mode,
                                .author = o.author,
                                .checkId = cpis::newMessageId(),
                                .feedId = {},
                                .locationKey = {},
                                .answerBy = std::nullopt,
                                .earlierMayHaveArrived = false};
    request.author.asid = settings.fromAsid;
    const cpis::LookupResult result = lookup.lookup(request);
    if (o.json) {
      printJson(out, *number, *o.mode, request.checkId, result);
    } else {
      printText(out, *number, *o.mode, request.checkId, result);
    }
    switch (result.status) {
      case domain::CheckStatus::Found: return kQueryFound;
      case domain::CheckStatus::NotFound: return kQueryNotFound;
      default: return kQueryFailed;
    }
  } catch (const config::ConfigError& e) {
    err << e.what() << "\n";
    return kQueryUsage;
  } catch (const Poco::Exception& e) {
    err << "cpis-query: " << e.displayText() << "\n";
    return kQueryFailed;
  } catch (const std::exception& e) {
    err << "cpis-query: " << e.what() << "\n";
    return kQueryFailed;
  }
}

}  // namespace cpis::cli

#pragma once

#include <fstream>
#include <string>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include "tests/support/engine_process.h"
#include "tests/support/temp_dir.h"

namespace cpis::test {

// A configuration in a temporary folder for one engine: the store there, listeners on port 0.
struct EngineFixture {
  TempDir dir{"cpis-engine-test"};

  // One feed "ed" expecting EDSYS/RXX01. `acknowledgement` is the <acknowledgement> element.
  std::string writeConfig(const std::string& acknowledgement = R"(<acknowledgement mode="original"/>)",
                          const std::string& logging = R"(<logging format="json" level="information"/>)") const {
    const std::string path = dir.file("cpis-engine.xml");
    std::ofstream(path) << R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store duplicateWindowHours="168" retentionDays="30" groupCommit="true">
    <sqlite path="store.db"/>
  </store>
  <limits maxMessageBytes="65536" readTimeoutMs="2000" idleTimeoutMs="60000" maxConnectionsPerListener="16"/>
  )" + logging + R"(
  <feed name="ed">
    <expectedSender application="EDSYS" facility="RXX01"/>
    <listener address="127.0.0.1" port="0"/>
    )" + acknowledgement + R"(
  </feed>
</cpisEngine>
)";
    return path;
  }

  std::string storePath() const { return dir.file("store.db"); }

  // (control id, state) of every stored message, read straight from the database file.
  std::vector<std::pair<std::string, std::string>> storedMessages() const {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session session("SQLite", storePath());
    std::vector<std::string> ids, states;
    using Poco::Data::Keywords::into;
    using Poco::Data::Keywords::now;
    session << "SELECT control_id, state FROM message ORDER BY id", into(ids), into(states), now;
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i < ids.size(); ++i) out.emplace_back(ids[i], states[i]);
    return out;
  }
};

inline std::string a04(const std::string& controlId, const std::string& extraMsh = "") {
  return "MSH|^~\\&|EDSYS|RXX01|CPIS|RXX|20261125101500||ADT^A04^ADT_A01|" + controlId + "|P|2.4" + extraMsh +
         "\rEVN|A04|20261125101500\rPID|1||9990000018^^^NHS^NH||TESTPATIENT^ALEX||20150304|F\r"
         "PV1|1|E|ED^^^RXX01\r";
}

}  // namespace cpis::test

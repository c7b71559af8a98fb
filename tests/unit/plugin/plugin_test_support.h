#pragma once

// Shared by the plugin tests: where the test plugins are, sample messages, a log capture.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/hl7v2/message.h"
#include "tests/support/log_capture.h"

namespace cpis::plugin::test {

using cpis::test::LogCapture;

// build/lib, where tests/plugins puts libcpis-adapter-good.so and the others.
inline std::filesystem::path pluginDir() {
  return CPIS_TEST_PLUGIN_DIR;
}
inline std::filesystem::path adapterFile(const std::string& name) {
  return pluginDir() / ("libcpis-adapter-" + name + ".so");
}

// An ED registration (CPIS.md §5 example 1, fictitious): MR and NHS repetitions in PID-3,
// verified number (PID-32), visit number in PV1-19.
inline std::string edRegistration(std::string_view controlId = "ED0000789", std::string_view event = "A04") {
  std::string text = "MSH|^~\\&|EDSYS|RZZ01|CPIS-ENGINE|RZZ|20250612143005+0100||ADT^" + std::string(event) +
                     "^ADT_A01|" + std::string(controlId) + "|P|2.4\r";
  text += "EVN|" + std::string(event) + "|20250612143005+0100\r";
  text += "PID|||K4455667^^^RZZ^MR~9990000018^^^NHS^NH||TESTCHILD^Alex||20150403|M\r";
  text += "PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||A250612001^^^RZZ^VN\r";
  return text;
}

// Parses a sample, optionally setting paths first (PID-32 and friends live far along a segment).
inline hl7v2::Message message(const std::string& text,
                              const std::vector<std::pair<std::string, std::string>>& sets = {}) {
  auto parsed = hl7v2::parse(text);
  if (!parsed.ok()) throw std::runtime_error("sample does not parse: " + parsed.error().text);
  hl7v2::Message m = std::move(parsed).value();
  for (const auto& [path, value] : sets) {
    if (!m.set(path, value).isOk()) throw std::runtime_error("cannot set " + path);
  }
  return m;
}

// The reason a Result failed, or "" (Boost.Test evaluates a check's message even when it passes).
template <typename R>
std::string whyNot(const R& result) {
  return result.ok() ? std::string() : result.error().message();
}

}  // namespace cpis::plugin::test

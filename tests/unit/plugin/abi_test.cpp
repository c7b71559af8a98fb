// The plugin ABI's guard rails: plugin.h cannot change without a version bump, the fields that
// must never move stay put, and a built plugin exports nothing but its entry point.
#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>

#include <Poco/DigestEngine.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/SHA2Engine.h>

#include <boost/test/unit_test.hpp>

#include <cpis/plugin.h>

#include "tests/unit/plugin/plugin_test_support.h"

namespace {

const std::filesystem::path kSdk = std::filesystem::path(CPIS_SOURCE_DIR) / "plugins/sdk";

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool isWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The header as the compiler sees it, give or take: comments dropped, white space only where it
// separates words, so rewording a comment or reformatting needs no version bump, and anything
// else does.
std::string normalised(const std::string& header) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < header.size();) {
    if (header.compare(i, 2, "/*") == 0) {
      const std::size_t end = header.find("*/", i + 2);
      i = end == std::string::npos ? header.size() : end + 2;
      space = true;
      continue;
    }
    if (header.compare(i, 2, "//") == 0) {
      i = header.find('\n', i);
      if (i == std::string::npos) i = header.size();
      space = true;
      continue;
    }
    const char c = header[i++];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    // A space survives only where it separates two words ("const char"), so "char* p" and
    // "char *p" read the same.
    if (space && !out.empty() && isWordChar(out.back()) && isWordChar(c)) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string sha256(const std::string& text) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(text);
  return Poco::DigestEngine::digestToHex(engine.digest());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plugin_abi)

BOOST_AUTO_TEST_CASE(plugin_h_matches_the_hash_recorded_for_its_version) {
  const std::string version =
      std::to_string(CPIS_PLUGIN_ABI_MAJOR) + "." + std::to_string(CPIS_PLUGIN_ABI_MINOR);
  const std::string hash = sha256(normalised(readFile(kSdk / "include/cpis/plugin.h")));
  std::istringstream recorded(readFile(kSdk / "abi-hashes.txt"));
  std::string line;
  std::string recordedHash;
  while (std::getline(recorded, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string v, h;
    fields >> v >> h;
    if (v == version) recordedHash = h;
  }
  BOOST_TEST_MESSAGE("plugin.h ABI " << version << " hash " << hash);
  BOOST_TEST_REQUIRE(!recordedHash.empty(), "plugins/sdk/abi-hashes.txt has no line for ABI "
                                                << version << ": add '" << version << " " << hash
                                                << "' and a CHANGELOG entry");
  BOOST_TEST(
      recordedHash == hash,
      "plugin.h changed but its ABI version "
          << version
          << " did not: bump CPIS_PLUGIN_ABI_MINOR when "
             "you only appended (a field at the end of a struct, an enum value), CPIS_PLUGIN_ABI_MAJOR "
             "otherwise, then record the new version's hash in plugins/sdk/abi-hashes.txt (this run's: "
          << hash << ")");
}

BOOST_AUTO_TEST_CASE(comments_and_layout_do_not_change_the_hash) {
  BOOST_TEST(normalised("/* a */ int  x;\n// b\nint y;") == normalised("int x;\n  int y; /* c */"));
  BOOST_TEST(normalised("const char* name;") == normalised("const char *name ;"));
  BOOST_TEST(normalised("unsigned int x;") != normalised("unsignedint x;"));
  BOOST_TEST(normalised("int x;") != normalised("int y;"));
}

BOOST_AUTO_TEST_CASE(the_version_fields_lead_and_never_move) {
  BOOST_TEST(offsetof(cpis_plugin_descriptor, abi_major) == 0U);
  BOOST_TEST(offsetof(cpis_plugin_descriptor, abi_minor) == 4U);
  BOOST_TEST(offsetof(cpis_plugin_descriptor, struct_size) == 8U);
  BOOST_TEST(offsetof(cpis_host_api, abi_major) == 0U);
  BOOST_TEST(offsetof(cpis_host_api, abi_minor) == 4U);
  BOOST_TEST(offsetof(cpis_host_api, struct_size) == 8U);
  BOOST_TEST(sizeof(cpis_status) == 4U);
  BOOST_TEST(sizeof(cpis_plugin_kind) == 4U);
  BOOST_TEST(sizeof(cpis_attendance_field) == 4U);
  BOOST_TEST(sizeof(cpis_outcome_field) == 4U);
  BOOST_TEST(sizeof(cpis_host_result) == 4U);
}

BOOST_AUTO_TEST_CASE(a_plugin_exports_only_its_entry_point) {
  // nm comes with binutils, which every C++ toolchain here has.
  for (const char* name :
       {"libcpis-adapter-good.so", "libcpis-adapter-c_example.so", "libcpis-sink-echo.so"}) {
    Poco::Pipe out;
    Poco::ProcessHandle nm = Poco::Process::launch(
        "nm", {"-D", "--defined-only", (cpis::plugin::test::pluginDir() / name).string()}, nullptr, &out,
        nullptr);
    Poco::PipeInputStream stream(out);
    std::string line;
    std::string exported;
    while (std::getline(stream, line)) {
      const std::size_t space = line.rfind(' ');
      exported += (exported.empty() ? "" : " ") + line.substr(space + 1);
    }
    BOOST_TEST(nm.wait() == 0);
    BOOST_TEST(exported == "cpis_plugin_entry", name);
  }
}

BOOST_AUTO_TEST_SUITE_END()

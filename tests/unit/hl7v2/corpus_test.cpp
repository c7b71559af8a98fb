// The sample corpus (tests/data/hl7v2, written by generate.py) read end to end: every file
// that manifest.tsv lists parses as the manifest says, serialises back to its own bytes (segment
// ends normalised to '\r') and gets an ACK that pairs with it.

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <exception>
#include <filesystem>
#include <set>
#include <sstream>
#include <vector>

#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/batch.h"
#include "tests/support/hl7_samples.h"

namespace {

constexpr std::string_view kCorpus = "tests/data/hl7v2/";

struct ManifestRow {
  std::string file;
  std::size_t messages = 0;
  std::string version, msh9, controlId, charset;
};
std::ostream& operator<<(std::ostream& os, const ManifestRow& r) { return os << r.file; }

std::vector<std::string> splitOn(std::string_view text, char delim) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(delim, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// Read when the test cases are registered. A missing or malformed manifest gives no rows, which
// manifest_lists_every_sample_file reports.
std::vector<ManifestRow> readManifest() {
  std::vector<ManifestRow> rows;
  try {
    const auto lines = splitOn(cpis::test::readRepoFile(std::string(kCorpus) + "manifest.tsv"), '\n');
    if (lines.empty() || lines[0] != "file\tmessages\tversion\tmsh9\tcontrol_id\tcharset") return {};
    for (std::size_t i = 1; i < lines.size(); ++i) {  // line 0 is the header
      if (lines[i].empty()) continue;
      const auto cols = splitOn(lines[i], '\t');
      if (cols.size() != 6) return {};
      rows.push_back({cols[0], std::stoul(cols[1]), cols[2], cols[3], cols[4], cols[5]});
    }
  } catch (const std::exception&) {  // unreadable file or a bad count: no rows
    return {};
  }
  return rows;
}

const std::vector<ManifestRow> kManifest = readManifest();

bool isEnvelope(std::string_view segment) {
  const auto id = segment.substr(0, 3);
  return id == "FHS" || id == "BHS" || id == "BTS" || id == "FTS";
}

// The messages of a file as the serialiser should write them, worked out without the parser:
// segment ends made '\r', blank lines and the batch envelope dropped, a new message at each MSH.
std::vector<std::string> expectedMessages(std::string_view bytes) {
  std::string text;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') continue;  // CRLF -> CR
    text.push_back(bytes[i] == '\n' ? '\r' : bytes[i]);
  }
  std::vector<std::string> messages;
  for (const auto& segment : splitOn(text, '\r')) {
    if (segment.empty() || isEnvelope(segment)) continue;
    if (segment.substr(0, 3) == "MSH") messages.emplace_back();
    if (messages.empty()) messages.emplace_back();  // segments before any MSH: keep, to fail below
    messages.back() += segment + '\r';
  }
  return messages;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(corpus)

BOOST_AUTO_TEST_CASE(manifest_lists_every_sample_file) {
  BOOST_REQUIRE(!kManifest.empty());
  std::set<std::string> listed;
  for (const auto& row : kManifest) listed.insert(row.file);
  BOOST_TEST(listed.size() == kManifest.size());  // no file twice
  std::set<std::string> onDisk;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CPIS_SOURCE_DIR) + "/" +
                                                                 std::string(kCorpus))) {
    if (entry.path().extension() == ".hl7") onDisk.insert(entry.path().filename().string());
  }
  BOOST_TEST(listed == onDisk, boost::test_tools::per_element());
}

BOOST_DATA_TEST_CASE(sample_file_reads_as_the_manifest_says, boost::unit_test::data::make(kManifest), row) {
  const std::string bytes = cpis::test::readRepoFile(std::string(kCorpus) + row.file);
  const auto stream = cpis::hl7v2::parseStream(bytes);
  BOOST_REQUIRE(stream.messages.size() == row.messages);
  BOOST_TEST(stream.issues.empty());
  for (std::size_t i = 0; i < stream.messages.size(); ++i) {
    const auto& m = stream.messages[i].message;
    if (!m.ok()) {
      std::ostringstream os;
      os << m.error();
      BOOST_FAIL("message " << i + 1 << " does not parse: " << os.str());
    }
    BOOST_TEST(m->warnings().empty(), "message " << i + 1);
    BOOST_TEST(m->checkValues().empty(), "message " << i + 1);
  }

  const auto& first = stream.messages.front().message.value();
  BOOST_TEST(first.version() == row.version);
  BOOST_TEST(first.fieldRaw(0, 9) == row.msh9);
  BOOST_TEST(first.controlId() == row.controlId);
  BOOST_TEST(first.fieldRaw(0, 18) == row.charset);
  BOOST_TEST(cpis::hl7v2::msh18Name(first.charset()) == row.charset);
}

BOOST_DATA_TEST_CASE(sample_file_round_trips_with_cr_segment_ends, boost::unit_test::data::make(kManifest), row) {
  const std::string bytes = cpis::test::readRepoFile(std::string(kCorpus) + row.file);
  const auto stream = cpis::hl7v2::parseStream(bytes);
  const auto expected = expectedMessages(bytes);
  BOOST_REQUIRE(stream.messages.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    BOOST_REQUIRE(stream.messages[i].message.ok());
    const std::string serialized = stream.messages[i].message->serialize();
    BOOST_TEST((serialized == expected[i]), row.file << " message " << i + 1 << " differs");
    // and serialising what was parsed from the serialised text changes nothing
    const auto again = cpis::hl7v2::parse(serialized);
    BOOST_REQUIRE(again.ok());
    BOOST_TEST((again->serialize() == serialized));
    BOOST_TEST((again->raw() == serialized));
  }
}

BOOST_DATA_TEST_CASE(sample_file_gets_an_ack_paired_by_control_id, boost::unit_test::data::make(kManifest),
                     row) {
  const std::string bytes = cpis::test::readRepoFile(std::string(kCorpus) + row.file);
  const auto stream = cpis::hl7v2::parseStream(bytes);
  for (const auto& entry : stream.messages) {
    BOOST_REQUIRE(entry.message.ok());
    const auto& message = entry.message.value();
    cpis::hl7v2::AckOptions options;
    options.controlId = "ACK1";
    options.timestamp = "20240101000000.000+0000";
    const auto mode = cpis::hl7v2::ackModeOf(message);
    const auto code = cpis::hl7v2::ackCodeFor(cpis::hl7v2::Outcome::Accept, mode);
    const auto ack = cpis::hl7v2::parse(cpis::hl7v2::buildAck(message, code, {}, options));
    BOOST_REQUIRE(ack.ok());
    BOOST_TEST(ack->get("MSA-2") == message.controlId());
    BOOST_TEST(ack->get("MSA-1") == cpis::hl7v2::toString(code));
    BOOST_TEST(ack->version() == message.version());
    BOOST_TEST(ack->messageCode() == "ACK");
    BOOST_TEST(ack->triggerEvent() == message.triggerEvent());
    BOOST_TEST((ack->delimiters() == message.delimiters()));
    BOOST_TEST((ack->charset() == message.charset()));
    BOOST_TEST(ack->get("MSH-3") == message.get("MSH-5"));
    BOOST_TEST(ack->get("MSH-5") == message.get("MSH-3"));
  }
}

// Spot checks on the files that exist for one quirk each.
namespace {
struct SpotCase {
  std::string_view file;
  std::size_t message;  // 1-based
  std::string_view path, expected;
};
std::ostream& operator<<(std::ostream& os, const SpotCase& c) {
  return os << c.file << " #" << c.message << ' ' << c.path;
}
const std::vector<SpotCase> kSpots{
    {"latin1_a01.hl7", 1, "PID-5", "Lef\xC3\xA8vre-Testpatient"},                       // Latin-1 to UTF-8
    {"latin1_a01.hl7", 1, "PID-11", "NO\xC3\x8BL COTTAGE"},                             // capital E diaeresis
    {"utf8_a01.hl7", 1, "PID-5", "\xC3\x93'BRIEN-TESTPATIENT"},                          // UTF-8 as sent
    {"utf8_a01.hl7", 1, "PID-11", "T\xC5\xB6 GWYN"},                                    // w circumflex
    {"custom_delimiters_a04.hl7", 1, "PID-3.4.2", "2.16.840.1.113883.2.1.4.1"},         // '%' sub-components
    {"custom_delimiters_a04.hl7", 1, "PID-13(2).1", "07700 900050"},                    // '*' repetitions
    {"custom_delimiters_a04.hl7", 1, "PV2-3.2", "FELL OFF TRAMPOLINE!"},                // $F$ is '!'
    {"truncation_v27_a01.hl7", 1, "PID-11", "FLAT #2 TESTING HOUSE"},                   // \P\ is '#'
    {"adt_a04_v23.hl7", 1, "PV2-3.2", "SOB | WHEEZE"},                                  // \F\ is '|'
    {"adt_a31_v23.hl7", 1, "PID-11", "ROSE & CROWN COTTAGES"},                          // \T\ is '&'
    {"adt_a08_v24.hl7", 1, "PID-13", ""},                                               // explicit null
    {"nhs_england_itk_a04.hl7", 1, "MSH-21", "ITKv1.0"},                                // ITK profile
    {"nhs_england_itk_a04.hl7", 1, "ZU3-2.2", "EMERGENCY DEPARTMENT"},                  // ITK Z-segment
    {"adt_a04_v23.hl7", 1, "ZU1-27", "NSTS01"},                                         // legacy trace status
    {"adt_a01_v251.hl7", 1, "PID-21.4", "NHS"},                                         // mother's identifier
    {"batch_adt.hl7", 2, "MSH-10", "PAS2403280002"},                                    // second in the batch
    {"batch_adt.hl7", 3, "PID-3(2).1", "9992345675"},                                   // NHS number second
    {"multi_message.hl7", 3, "MSH-9.2", "A03"},                                         // third message
    {"lf_terminated_a04.hl7", 1, "PV2-3.2", "WRIST INJURY"},                            // LF file
    {"crlf_terminated_a04.hl7", 1, "PV2-3.2", "FOREIGN BODY IN EAR"},                   // CRLF file
    {"adt_a01_bench.hl7", 1, "OBX(3)-5", "134"},                                        // third OBX
    {"oru_r01_large.hl7", 1, "OBR(2)-4.2", "Paediatric vital signs"},                   // large file
};
}  // namespace

BOOST_DATA_TEST_CASE(sample_values_decode, boost::unit_test::data::make(kSpots), c) {
  const std::string bytes = cpis::test::readRepoFile(std::string(kCorpus) + std::string(c.file));
  const auto stream = cpis::hl7v2::parseStream(bytes);
  BOOST_REQUIRE(stream.messages.size() >= c.message);
  const auto& m = stream.messages[c.message - 1].message;
  BOOST_REQUIRE(m.ok());
  BOOST_TEST(m->get(c.path) == c.expected);
}

BOOST_AUTO_TEST_CASE(special_files_have_their_quirk) {
  const auto read = [](std::string_view file) {
    return cpis::hl7v2::parseStream(cpis::test::readRepoFile(std::string(kCorpus) + std::string(file)));
  };
  const auto batch = read("batch_adt.hl7");
  BOOST_TEST(batch.fileEnvelope);
  BOOST_TEST(batch.batches == 1u);
  const auto oru = read("oru_r01_large.hl7");
  BOOST_REQUIRE(oru.messages.size() == 1u);
  BOOST_TEST(oru.messages[0].message->occurrences("OBX") > 100u);
  const auto enhanced = read("adt_a31_v251.hl7");
  BOOST_TEST((cpis::hl7v2::ackModeOf(enhanced.messages[0].message.value()) == cpis::hl7v2::AckMode::Enhanced));
  const auto original = read("adt_a31_v24.hl7");
  BOOST_TEST((cpis::hl7v2::ackModeOf(original.messages[0].message.value()) == cpis::hl7v2::AckMode::Original));
  const auto a08 = read("adt_a08_v24.hl7");
  BOOST_TEST((a08.messages[0].message->presence(cpis::hl7v2::parsePath("PID-13").value()) ==
              cpis::hl7v2::Presence::Null));
  const auto trunc = read("truncation_v27_a01.hl7");
  BOOST_TEST(trunc.messages[0].message->delimiters().truncation == '#');
  const auto custom = read("custom_delimiters_a04.hl7");
  BOOST_TEST(custom.messages[0].message->delimiters().field == '!');
}

BOOST_AUTO_TEST_SUITE_END()

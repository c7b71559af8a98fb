#define BOOST_TEST_MODULE test_mllp
#include "engine/mllp/framer.h"

#include <string>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using cpis::mllp::FrameEvent;
using cpis::mllp::MllpFramer;
using Kind = cpis::mllp::FrameEvent::Kind;

namespace {

const std::string SB = "\x0B";
const std::string EB = "\x1C";
const std::string CR = "\x0D";

struct FramingCase {
  std::string name;
  std::vector<std::string> reads;  // what each socket read returned
  std::size_t limit;
  std::vector<FrameEvent> events;
  std::uint64_t dropped;
  std::uint64_t missingCr;
  bool insideFrame;
};
std::ostream& operator<<(std::ostream& os, const FramingCase& c) {
  return os << c.name;
}

const std::vector<FramingCase> kCases{
    {"one_frame_in_one_read", {SB + "MSH|a" + EB + CR}, 100, {{Kind::Frame, "MSH|a"}}, 0, 0, false},
    {"two_frames_in_one_read_yield_two_messages",
     {SB + "A" + EB + CR + SB + "B" + EB + CR},
     100,
     {{Kind::Frame, "A"}, {Kind::Frame, "B"}},
     0,
     0,
     false},
    {"frame_split_over_three_reads",
     {SB + "MS", "H|", "a" + EB + CR},
     100,
     {{Kind::Frame, "MSH|a"}},
     0,
     0,
     false},
    {"end_block_and_carriage_return_in_separate_reads",
     {SB + "A" + EB, CR, SB + "B" + EB, CR},
     100,
     {{Kind::Frame, "A"}, {Kind::Frame, "B"}},
     0,
     0,
     false},
    {"start_block_alone_in_a_read", {SB, "A", EB + CR}, 100, {{Kind::Frame, "A"}}, 0, 0, false},
    {"bytes_before_the_start_block_are_dropped_and_counted",
     {"junk" + SB + "A" + EB + CR},
     100,
     {{Kind::Frame, "A"}},
     4,
     0,
     false},
    {"bytes_between_frames_are_dropped_and_counted",
     {SB + "A" + EB + CR + "\r\n" + SB + "B" + EB + CR},
     100,
     {{Kind::Frame, "A"}, {Kind::Frame, "B"}},
     2,
     0,
     false},
    {"missing_carriage_return_still_completes_the_frame",
     {SB + "A" + EB + SB + "B" + EB + CR},
     100,
     {{Kind::Frame, "A"}, {Kind::Frame, "B"}},
     0,
     1,
     false},
    {"missing_carriage_return_then_junk", {SB + "A" + EB + "xy"}, 100, {{Kind::Frame, "A"}}, 2, 1, false},
    {"frame_completes_before_its_carriage_return_arrives",
     {SB + "A" + EB},
     100,
     {{Kind::Frame, "A"}},
     0,
     0,
     false},
    {"new_start_block_before_the_end_block_abandons_the_partial_frame",
     {SB + "PART" + SB + "WHOLE" + EB + CR},
     100,
     {{Kind::Abandoned, "PART"}, {Kind::Frame, "WHOLE"}},
     0,
     0,
     false},
    {"empty_frame", {SB + EB + CR}, 100, {{Kind::Frame, ""}}, 0, 0, false},
    {"frame_of_exactly_the_limit_is_accepted",
     {SB + "12345" + EB + CR},
     5,
     {{Kind::Frame, "12345"}},
     0,
     0,
     false},
    {"frame_over_the_limit_is_oversized_with_its_first_bytes",
     {SB + "123456789" + EB + CR},
     5,
     {{Kind::Oversized, "12345"}},
     4,
     0,
     false},
    {"oversized_frame_over_many_reads_then_a_good_frame",
     {SB + "123", "456", "789" + EB + CR + SB + "ok" + EB + CR},
     5,
     {{Kind::Oversized, "12345"}, {Kind::Frame, "ok"}},
     4,
     0,
     false},
    {"oversized_frame_still_open_is_inside_a_frame",
     {SB + "123456789"},
     5,
     {{Kind::Oversized, "12345"}},
     4,
     0,
     true},
    {"partial_frame_that_stalls_is_inside_a_frame", {SB + "MSH|partial"}, 100, {}, 0, 0, true},
    {"only_junk", {"GET / HTTP/1.1\r\n\r\n"}, 100, {}, 18, 0, false},
    {"nothing", {""}, 100, {}, 0, 0, false},
    {"carriage_returns_inside_a_message_are_kept",
     {SB + "MSH|a\rPID|b\r" + EB + CR},
     100,
     {{Kind::Frame, "MSH|a\rPID|b\r"}},
     0,
     0,
     false},
};

std::vector<FrameEvent> feedAll(MllpFramer& framer, const std::vector<std::string>& reads) {
  std::vector<FrameEvent> events;
  for (const auto& r : reads) framer.feed(r, events);
  return events;
}

}  // namespace

BOOST_DATA_TEST_CASE(framing, boost::unit_test::data::make(kCases), c) {
  MllpFramer framer(c.limit);
  const auto events = feedAll(framer, c.reads);
  BOOST_TEST_REQUIRE(events.size() == c.events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    BOOST_TEST(static_cast<int>(events[i].kind) == static_cast<int>(c.events[i].kind));
    BOOST_TEST(events[i].payload == c.events[i].payload);
  }
  BOOST_TEST(framer.droppedBytes() == c.dropped);
  BOOST_TEST(framer.missingCarriageReturns() == c.missingCr);
  BOOST_TEST(framer.insideFrame() == c.insideFrame);
}

// A sender ending frames with 0x1C 0x0D 0x0A (a common trailing LF) is not one that ignores
// MLLP: its LF is dropped but not stray, so the listener does not warn of it on every connection.
BOOST_AUTO_TEST_CASE(a_line_end_after_a_frame_is_dropped_but_not_stray) {
  MllpFramer framer(100);
  std::vector<FrameEvent> events;
  framer.feed(SB + "A" + EB + CR + "\n" + SB + "B" + EB + CR + "\r\n", events);
  BOOST_TEST(events.size() == 2u);
  BOOST_TEST(framer.droppedBytes() == 3u);
  BOOST_TEST(framer.strayBytes() == 0u);
  framer.feed("GET /\r\n", events);
  BOOST_TEST(framer.strayBytes() == 5u);
}

BOOST_DATA_TEST_CASE(byte_by_byte_reads_give_the_same_events, boost::unit_test::data::make(kCases), c) {
  std::string all;
  for (const auto& r : c.reads) all += r;
  std::vector<std::string> single;
  for (const char ch : all) single.emplace_back(1, ch);
  MllpFramer whole(c.limit);
  MllpFramer bytewise(c.limit);
  BOOST_TEST((feedAll(whole, {all}) == feedAll(bytewise, single)));
  BOOST_TEST(whole.droppedBytes() == bytewise.droppedBytes());
}

BOOST_AUTO_TEST_CASE(a_burst_of_pipelined_frames_yields_each_in_order) {
  std::string burst;
  for (int i = 0; i < 500; ++i)
    burst += cpis::mllp::frame("MSH|^~\\&|A||||||ADT^A01|" + std::to_string(i) + "|P|2.4\r");
  MllpFramer framer(1 << 20);
  std::vector<FrameEvent> events;
  framer.feed(burst, events);
  BOOST_TEST_REQUIRE(events.size() == 500u);
  for (int i = 0; i < 500; ++i) {
    BOOST_TEST(events[static_cast<std::size_t>(i)].payload.find("|" + std::to_string(i) + "|P|") !=
               std::string::npos);
  }
  BOOST_TEST(!framer.insideFrame());
}

BOOST_AUTO_TEST_CASE(frame_wraps_a_payload_in_start_and_end_blocks) {
  BOOST_TEST(cpis::mllp::frame("A") == std::string("\x0B"
                                                   "A"
                                                   "\x1C\x0D"));
}

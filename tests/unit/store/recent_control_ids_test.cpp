#include "engine/store/recent_control_ids.h"

#include <vector>

#include <boost/test/unit_test.hpp>

using cpis::store::MessageId;
using cpis::store::RecentControlIds;

BOOST_AUTO_TEST_SUITE(recent_control_ids)

BOOST_AUTO_TEST_CASE(keys_tell_feeds_and_control_ids_apart) {
  BOOST_TEST(RecentControlIds::keyOf("edsys", "MSG1") == RecentControlIds::keyOf("edsys", "MSG1"));
  BOOST_TEST(RecentControlIds::keyOf("edsys", "MSG1") != RecentControlIds::keyOf("edsys", "MSG2"));
  BOOST_TEST(RecentControlIds::keyOf("edsys", "MSG1") != RecentControlIds::keyOf("lab", "MSG1"));
  BOOST_TEST(RecentControlIds::keyOf("a", "b") != RecentControlIds::keyOf("b", "a"));
}

BOOST_AUTO_TEST_CASE(candidates_are_those_of_the_window_newest_first) {
  RecentControlIds recent;
  std::vector<MessageId> out{99};
  recent.candidates(7, 0, out);
  BOOST_TEST(out.empty());
  recent.add(7, 1, 100);
  recent.add(8, 2, 150);
  recent.add(7, 3, 200);  // the same key again (the window had passed, or two keys share a hash)
  recent.add(7, 4, 200);
  recent.candidates(7, 100, out);
  BOOST_TEST(out == (std::vector<MessageId>{4, 3, 1}), boost::test_tools::per_element());
  recent.candidates(7, 101, out);
  BOOST_TEST(out == (std::vector<MessageId>{4, 3}), boost::test_tools::per_element());
  recent.candidates(8, 0, out);
  BOOST_TEST(out == (std::vector<MessageId>{2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(old_entries_expire_and_a_rollback_forgets_the_newest) {
  RecentControlIds recent;
  recent.add(1, 1, 100);
  recent.add(2, 2, 200);
  recent.add(1, 3, 300);
  recent.expire(200);
  BOOST_TEST(recent.size() == 2U);
  std::vector<MessageId> out;
  recent.candidates(1, 0, out);
  BOOST_TEST(out == (std::vector<MessageId>{3}), boost::test_tools::per_element());
  const auto mark = recent.mark();
  recent.add(2, 4, 400);
  recent.add(5, 5, 400);
  recent.rollback(mark);
  BOOST_TEST(recent.size() == 2U);
  recent.candidates(2, 0, out);
  BOOST_TEST(out == (std::vector<MessageId>{2}), boost::test_tools::per_element());
  recent.candidates(5, 0, out);
  BOOST_TEST(out.empty());
  recent.clear();
  BOOST_TEST(recent.size() == 0U);
}

BOOST_AUTO_TEST_SUITE_END()

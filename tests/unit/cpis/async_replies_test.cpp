#include "engine/cpis/async_replies.h"

#include <thread>

#include <boost/test/unit_test.hpp>

using cpis::cpis::AsyncReplies;
using cpis::cpis::ParsedReply;
using namespace std::chrono_literals;

namespace {

ParsedReply reply(const std::string& relatesTo, cpis::domain::CheckStatus status) {
  ParsedReply r;
  r.relatesTo = relatesTo;
  r.result.status = status;
  return r;
}

const auto kSoon = [] { return std::chrono::steady_clock::now() + 5s; };

}  // namespace

BOOST_AUTO_TEST_SUITE(async_replies)

BOOST_AUTO_TEST_CASE(a_reply_is_matched_by_message_id_whatever_its_case_or_prefix) {
  AsyncReplies replies;
  replies.expect("3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44");
  BOOST_TEST((replies.deliver(reply("uuid:3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44", cpis::domain::CheckStatus::NotFound)) ==
              AsyncReplies::Delivery::Matched));
  const auto got = replies.wait("3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44", kSoon());
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST((got->result.status == cpis::domain::CheckStatus::NotFound));
  BOOST_TEST(replies.stats().pending == 0u);
}

BOOST_AUTO_TEST_CASE(a_waiting_lookup_wakes_when_its_reply_arrives) {
  AsyncReplies replies;
  replies.expect("A");
  std::thread sender([&] { replies.deliver(reply("A", cpis::domain::CheckStatus::Found)); });
  const auto got = replies.wait("A", kSoon());
  sender.join();
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST((got->result.status == cpis::domain::CheckStatus::Found));
}

BOOST_AUTO_TEST_CASE(unknown_late_and_duplicate_replies_are_discarded) {
  AsyncReplies replies;
  BOOST_TEST((replies.deliver(reply("NOBODY", cpis::domain::CheckStatus::Found)) == AsyncReplies::Delivery::Unknown));

  replies.expect("LATE");
  BOOST_TEST(!replies.wait("LATE", std::chrono::steady_clock::now()).has_value());  // gave up
  BOOST_TEST((replies.deliver(reply("LATE", cpis::domain::CheckStatus::Found)) == AsyncReplies::Delivery::Late));

  replies.expect("TWICE");
  BOOST_TEST((replies.deliver(reply("TWICE", cpis::domain::CheckStatus::Found)) == AsyncReplies::Delivery::Matched));
  BOOST_TEST((replies.deliver(reply("TWICE", cpis::domain::CheckStatus::NotFound)) == AsyncReplies::Delivery::Duplicate));
  const auto got = replies.wait("TWICE", kSoon());
  BOOST_TEST((got->result.status == cpis::domain::CheckStatus::Found));  // the first one counts
  BOOST_TEST((replies.deliver(reply("TWICE", cpis::domain::CheckStatus::NotFound)) == AsyncReplies::Delivery::Duplicate));

  const auto stats = replies.stats();
  BOOST_TEST(stats.matched == 1u);
  BOOST_TEST(stats.unknown == 1u);
  BOOST_TEST(stats.late == 1u);
  BOOST_TEST(stats.duplicate == 2u);
}

BOOST_AUTO_TEST_CASE(remembers_a_bounded_number_of_finished_ids) {
  AsyncReplies replies(2);
  for (const char* id : {"A", "B", "C"}) {
    replies.expect(id);
    replies.cancel(id);
  }
  BOOST_TEST((replies.deliver(reply("A", cpis::domain::CheckStatus::Found)) == AsyncReplies::Delivery::Unknown));
  BOOST_TEST((replies.deliver(reply("C", cpis::domain::CheckStatus::Found)) == AsyncReplies::Delivery::Late));
}

BOOST_AUTO_TEST_SUITE_END()

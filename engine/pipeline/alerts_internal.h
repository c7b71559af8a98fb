#pragma once

// Shared by the alert encoders (alerts_zseg.cpp, alerts_obx.cpp): a segment writer and the
// texts both encodings carry. Not for use outside engine/pipeline/alerts*.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/attendance.h"
#include "engine/hl7v2/charset.h"
#include "engine/hl7v2/delimiters.h"
#include "engine/hl7v2/escaping.h"
#include "engine/pipeline/alerts.h"

namespace cpis::pipeline::alerts {

// One segment built field by field. Every component is escaped and written in the ACK's
// character set; trailing empty components and fields are left out.
class SegmentWriter {
 public:
  SegmentWriter(std::string_view id, const hl7v2::Delimiters& delimiters, hl7v2::Charset charset)
      : id_(id), delimiters_(delimiters), charset_(charset) {}

  SegmentWriter& field(std::size_t number, std::initializer_list<std::string_view> components) {
    std::string value;
    std::size_t kept = 0;  // length up to the last non-empty component
    bool first = true;
    for (const std::string_view component : components) {
      if (!first) value += delimiters_.component;
      first = false;
      value += hl7v2::escapeText(component, delimiters_, charset_);
      if (!component.empty()) kept = value.size();
    }
    value.resize(kept);
    if (fields_.size() < number) fields_.resize(number);
    fields_[number - 1] = std::move(value);
    return *this;
  }
  SegmentWriter& field(std::size_t number, std::string_view text) { return field(number, {text}); }

  void appendTo(std::string& out) const {
    std::size_t last = fields_.size();
    while (last > 0 && fields_[last - 1].empty()) --last;
    out += id_;
    for (std::size_t i = 0; i < last; ++i) {
      out += delimiters_.field;
      out += fields_[i];
    }
    out += '\r';
  }

 private:
  std::string id_;
  const hl7v2::Delimiters& delimiters_;
  hl7v2::Charset charset_;
  std::vector<std::string> fields_;
};

// Texts -----------------------------------------------------------------------------------

std::string_view statusName(domain::CheckStatus status);      // "Found", "Not found", ...
std::string_view reasonLabel(domain::ReasonCode reason);      // ZCP-3.2 when the outcome has no text
std::string_view snomedTermOf(domain::PlanType type);         // "Subject to child protection plan"
std::string reasonText(const domain::CheckOutcome& outcome);  // outcome.reasonText, else the label
// The local authority and how to reach it, for display texts: "Name, emergency NUMBER", or what
// CP-IS left out.
std::string laContactText(const domain::LocalAuthority& la);
// ZCP-19 of one plan of a FOUND outcome.
std::string planDisplayText(const domain::CheckOutcome& outcome, const domain::CpisRecord& record,
                            const domain::ProtectionPlan& plan);
// ZCP-13's number: the one checked, else the refused value as sent, else empty.
inline std::string_view echoedNhsNumber(const domain::CheckOutcome& outcome) {
  if (outcome.queried) return outcome.queried->reveal();
  return outcome.refusedNhsNumber ? outcome.refusedNhsNumber->reveal() : std::string_view{};
}
// ACTIVE or ENDED: ended when the end date is before the London date of the check.
std::string_view planState(const domain::CheckOutcome& outcome, const domain::ProtectionPlan& plan);

inline constexpr std::size_t kMaxAccesses = 25;

void encodeZseg(const domain::CheckOutcome& outcome, const AlertOptions& options,
                const hl7v2::Delimiters& delimiters, hl7v2::Charset charset, std::string& out);
void encodeObx(const domain::CheckOutcome& outcome, const AlertOptions& options,
               const hl7v2::Delimiters& delimiters, hl7v2::Charset charset, std::string& out);

}  // namespace cpis::pipeline::alerts

#include "conformance/simulator/fault.h"

#include <array>
#include <utility>

namespace cpis::sim {

namespace {

constexpr std::array kKinds{
    std::pair{Fault::Kind::Delay, std::string_view{"delay"}},
    std::pair{Fault::Kind::Timeout, std::string_view{"timeout"}},
    std::pair{Fault::Kind::Http500, std::string_view{"http500"}},
    std::pair{Fault::Kind::SoapFault, std::string_view{"soapFault"}},
    std::pair{Fault::Kind::MalformedXml, std::string_view{"malformedXml"}},
    std::pair{Fault::Kind::InvalidResponse, std::string_view{"invalidResponse"}},
    std::pair{Fault::Kind::DropConnection, std::string_view{"dropConnection"}},
    std::pair{Fault::Kind::ApplicationError, std::string_view{"applicationError"}},
    std::pair{Fault::Kind::UnknownCode, std::string_view{"unknownCode"}},
    std::pair{Fault::Kind::SlowReply, std::string_view{"slowReply"}},
    std::pair{Fault::Kind::DuplicateReply, std::string_view{"duplicateReply"}},
    std::pair{Fault::Kind::LateReply, std::string_view{"lateReply"}},
    std::pair{Fault::Kind::UnknownMessageId, std::string_view{"unknownMessageId"}},
    std::pair{Fault::Kind::AcceptanceLost, std::string_view{"acceptanceLost"}},
};

}  // namespace

std::string_view toString(Fault::Kind kind) {
  for (const auto& [k, text] : kKinds) {
    if (k == kind) return text;
  }
  return "?";
}

std::optional<Fault::Kind> parseFaultKind(std::string_view text) {
  for (const auto& [k, name] : kKinds) {
    if (name == text) return k;
  }
  return std::nullopt;
}

bool queryProcessed(Fault::Kind kind) {
  switch (kind) {
    case Fault::Kind::Delay:
    case Fault::Kind::SlowReply:
    case Fault::Kind::MalformedXml:
    case Fault::Kind::InvalidResponse:
    case Fault::Kind::DuplicateReply:
    case Fault::Kind::LateReply:
    case Fault::Kind::UnknownMessageId:
    case Fault::Kind::AcceptanceLost: return true;
    case Fault::Kind::Timeout:
    case Fault::Kind::Http500:
    case Fault::Kind::SoapFault:
    case Fault::Kind::DropConnection:
    case Fault::Kind::ApplicationError:
    case Fault::Kind::UnknownCode: return false;
  }
  return false;
}

}  // namespace cpis::sim

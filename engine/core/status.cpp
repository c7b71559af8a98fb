#include "engine/core/status.h"

namespace cpis::core {

std::string_view toString(Status::Code code) {
  switch (code) {
    case Status::Code::Ok: return "ok";
    case Status::Code::InvalidArgument: return "invalid argument";
    case Status::Code::NotFound: return "not found";
    case Status::Code::Unavailable: return "unavailable";
    case Status::Code::Timeout: return "timeout";
    case Status::Code::Internal: return "internal error";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, const Status& status) {
  os << toString(status.code());
  if (!status.message().empty()) {
    os << ": " << status.message();
  }
  return os;
}

}  // namespace cpis::core

#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace cpis::core {

// What went wrong in the environment (I/O, a peer, a database) or in our own code, as
// opposed to what is wrong with the data (that is an Issue). A Status never carries
// patient data: its message names ids, files, codes and positions only.
class [[nodiscard]] Status {
 public:
  enum class Code : std::uint8_t {
    Ok = 0,
    InvalidArgument,  // the caller passed something unusable
    NotFound,
    Unavailable,  // a dependency is down; retrying later may help
    Timeout,
    Internal,  // our bug: logged and counted, the sender gets AR + 207
  };

  Status() = default;
  static Status ok() { return {}; }
  static Status invalidArgument(std::string message) { return {Code::InvalidArgument, std::move(message)}; }
  static Status notFound(std::string message) { return {Code::NotFound, std::move(message)}; }
  static Status unavailable(std::string message) { return {Code::Unavailable, std::move(message)}; }
  static Status timeout(std::string message) { return {Code::Timeout, std::move(message)}; }
  static Status internal(std::string message) { return {Code::Internal, std::move(message)}; }

  bool isOk() const noexcept { return code_ == Code::Ok; }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // Whether trying the same operation again may succeed.
  bool retryable() const noexcept { return code_ == Code::Unavailable || code_ == Code::Timeout; }

  friend bool operator==(const Status&, const Status&) = default;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::Ok;
  std::string message_;
};

std::string_view toString(Status::Code code);
std::ostream& operator<<(std::ostream& os, const Status& status);

}  // namespace cpis::core

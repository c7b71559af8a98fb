#include "engine/store/exception_status.h"

#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <typeinfo>

#include "engine/store/pg_connection.h"
#include "engine/store/sqlite_statement.h"

namespace cpis::store {

std::string exceptionClassName(const std::exception& e) {
  const char* mangled = typeid(e).name();
  int status = 0;
  const std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && demangled ? std::string(demangled.get()) : std::string(mangled);
}

core::Status unavailableFrom(std::string_view doing, const std::exception& e) {
  std::string message(doing);
  message += " (";
  // SqliteError's text is SQLite's description of the result code, PgError's the SQLSTATE and
  // its condition name: neither holds data.
  const bool safeText = dynamic_cast<const SqliteError*>(&e) != nullptr || dynamic_cast<const PgError*>(&e) != nullptr;
  message += safeText ? std::string(e.what()) : exceptionClassName(e);
  message += ')';
  return core::Status::unavailable(std::move(message));
}

}  // namespace cpis::store

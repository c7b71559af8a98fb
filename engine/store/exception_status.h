#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "engine/core/status.h"

namespace cpis::store {

// The dynamic class of an exception, demangled: "Poco::Data::SQLite::DBLockedException".
// (Poco::Exception::className() is typeid().name(), which g++ leaves mangled.)
std::string exceptionClassName(const std::exception& e);

// An environment failure as a Status: what we were doing and the exception's class (for a
// SqliteError, the result code's description; for a PgError, the SQLSTATE), never e.what() of
// any other exception or displayText(), which drivers fill with SQL, bound values and keys.
core::Status unavailableFrom(std::string_view doing, const std::exception& e);

}  // namespace cpis::store

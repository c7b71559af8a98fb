#pragma once

namespace cpis::config {

// Holds Xerces-C++ initialised for its lifetime: XMLPlatformUtils::Initialize in the
// constructor, Terminate in the destructor. Xerces counts these calls, so guards may nest
// (the daemon holds one for its whole run, a test one per case). Every Xerces object, a
// ConfigLoader included, must be destroyed before the last guard: loaders take a reference to
// one to make that ordering visible. Construct on one thread before any other Xerces use.
class XercesPlatform {
 public:
  XercesPlatform();  // throws std::runtime_error when Xerces cannot initialise
  ~XercesPlatform();

  XercesPlatform(const XercesPlatform&) = delete;
  XercesPlatform& operator=(const XercesPlatform&) = delete;
  XercesPlatform(XercesPlatform&&) = delete;
  XercesPlatform& operator=(XercesPlatform&&) = delete;
};

}  // namespace cpis::config

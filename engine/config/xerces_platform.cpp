#include "engine/config/xerces_platform.h"

#include <stdexcept>
#include <string>

#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/XMLException.hpp>

namespace cpis::config {

XercesPlatform::XercesPlatform() {
  try {
    xercesc::XMLPlatformUtils::Initialize();
  } catch (const xercesc::XMLException& e) {
    // No transcoder can be trusted when initialisation failed: keep the ASCII of the message.
    std::string message;
    for (const XMLCh* c = e.getMessage(); c != nullptr && *c != 0; ++c)
      message += *c < 0x80 ? static_cast<char>(*c) : '?';
    throw std::runtime_error("cannot initialise Xerces-C++: " + message);
  }
}

XercesPlatform::~XercesPlatform() {
  xercesc::XMLPlatformUtils::Terminate();
}

}  // namespace cpis::config

#include <iostream>
#include <string>
#include <vector>

#include <Poco/Net/SSLManager.h>

#include "engine/cli/send_tool.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  Poco::Net::initializeSSL();
  const std::vector<std::string> args(argv + 1, argv + argc);
  const int status = cpis::cli::runSendTool(args, std::cin, std::cout, std::cerr);
  Poco::Net::uninitializeSSL();
  return status;
}

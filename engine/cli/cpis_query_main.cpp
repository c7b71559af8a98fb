#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include <Poco/Net/SSLManager.h>

#include "engine/cli/query_tool.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a server closing on us is an error to report, not a reason to die
  Poco::Net::initializeSSL();
  const std::vector<std::string> args(argv + 1, argv + argc);
  const int status = cpis::cli::runQueryTool(args, std::cout, std::cerr);
  Poco::Net::uninitializeSSL();
  return status;
}

#include <iostream>
#include <string>
#include <vector>

#include "engine/cli/admin_tool.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return cpis::cli::runAdminTool(args, std::cout, std::cerr);
}

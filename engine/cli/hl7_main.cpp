#include <iostream>
#include <string>
#include <vector>

#include "engine/cli/hl7_tool.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv + 1, argv + argc);
  return cpis::cli::runHl7Tool(args, std::cin, std::cout, std::cerr);
}

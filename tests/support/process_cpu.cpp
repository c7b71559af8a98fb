#include "tests/support/process_cpu.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cpis::test {

namespace {

bool fileHolds(const std::string& path, const std::string& word) {
  std::ifstream in(path);
  std::string token;
  while (in >> token) {
    if (token == word) return true;
  }
  return false;
}

void write(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value << std::flush;
  if (!out) throw std::runtime_error("cannot write " + value + " to " + path);
}

}  // namespace

double processCpuMicros(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  const auto close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

CpuLimit::CpuLimit(const std::string& name, double cores) {
  if (!(cores > 0)) throw std::runtime_error("a CPU limit must be more than 0 cores");
  constexpr long kPeriodMicros = 100'000;
  const long quota = std::lround(cores * kPeriodMicros);
  if (fileHolds("/sys/fs/cgroup/cgroup.controllers", "cpu")) {  // cgroup v2, unified
    root_ = "/sys/fs/cgroup";
    if (!fileHolds(root_ + "/cgroup.subtree_control", "cpu")) write(root_ + "/cgroup.subtree_control", "+cpu");
    path_ = root_ + "/" + name;
    std::filesystem::create_directory(path_);
    write(path_ + "/cpu.max", std::to_string(quota) + " " + std::to_string(kPeriodMicros));
  } else if (std::filesystem::exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) {  // cgroup v1
    root_ = "/sys/fs/cgroup/cpu";
    path_ = root_ + "/" + name;
    std::filesystem::create_directory(path_);
    write(path_ + "/cpu.cfs_period_us", std::to_string(kPeriodMicros));
    write(path_ + "/cpu.cfs_quota_us", std::to_string(quota));
  } else {
    throw std::runtime_error("no cgroup cpu controller under /sys/fs/cgroup (a CPU limit needs one, and root)");
  }
}

CpuLimit::~CpuLimit() {
  std::vector<std::string> pids;
  {
    std::ifstream in(path_ + "/cgroup.procs");
    std::string pid;
    while (in >> pid) pids.push_back(pid);
  }
  for (const auto& pid : pids) {
    std::ofstream(root_ + "/cgroup.procs") << pid << std::flush;
  }
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);  // rmdir: a cgroup folder's files are not real files
}

void CpuLimit::add(long pid) { write(path_ + "/cgroup.procs", std::to_string(pid)); }

}  // namespace cpis::test

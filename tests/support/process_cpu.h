#pragma once

// For benchmarks: what a process costs in CPU, and a cap on what it may use.
#include <string>
#include <vector>

namespace cpis::test {

// utime + stime of a process (all its threads), in microseconds; 0 once it is gone.
double processCpuMicros(long pid);

// A control group with a CPU quota, standing for a host of that many cores: a process moved
// into it (with every thread it has or starts) gets at most `cores` of CPU time per second,
// whatever the machine has. Uses cgroup v2's cpu.max where the cpu controller is there, else
// cgroup v1's cpu controller (cfs_quota_us). Needs root. The group is removed on destruction
// (its processes are moved back to the root group first).
class CpuLimit {
 public:
  // Throws std::runtime_error naming what failed (no cgroup file system, not root, ...).
  CpuLimit(const std::string& name, double cores);
  ~CpuLimit();
  CpuLimit(const CpuLimit&) = delete;
  CpuLimit& operator=(const CpuLimit&) = delete;

  void add(long pid);
  const std::string& path() const { return path_; }

 private:
  std::string root_, path_;
};

}  // namespace cpis::test

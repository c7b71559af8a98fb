// cpis-bench-mllp-ref: the bare reference servers of the MLLP benchmark (scripts/bench-mllp).
//
//   cpis-bench-mllp-ref [--mode memory|group-commit|fsync-each] [--address A] [--port N]
//                       [--threads N] [--file PATH]
//
// What an MLLP server costs when it does nothing else, so the engine's figures have a floor to
// be read against:
//   memory        frames MLLP and answers each message at once with a fixed minimal AA ACK
//                 whose MSA-2 is the message's MSH-10; stores nothing.
//   group-commit  the same, but each message is first appended to --file and answered only
//                 after an fdatasync that covers it. Messages that arrive while a sync runs
//                 share the next one (group commit): the durable limit of this machine.
//   fsync-each    as group-commit, but one write + fdatasync per message, one at a time.
//
// epoll, level-triggered: --threads workers (default: the number of cores), each with its own
// SO_REUSEPORT listening socket on the same port; in the durable modes one more thread appends
// and syncs, and hands the ACKs back to the workers through an eventfd. Prints
// "cpis-bench-mllp-ref: listening on ADDR:PORT (MODE)" and "cpis-bench-mllp-ref: ready" on
// standard output; on SIGTERM or SIGINT it prints what it did to standard error and exits 0.
// Not a product: no limits, no time-outs, no TLS; loopback benchmarks only.
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

enum class Mode { Memory, GroupCommit, FsyncEach };

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "cpis-bench-mllp-ref: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// MSH-10 of an HL7 v2 message: the field after the ninth field separator of MSH (MSH-1, the
// separator itself, being the first). Empty when the message has none.
std::string_view controlId(std::string_view message) {
  if (message.size() < 4 || message.substr(0, 3) != "MSH") return {};
  const char separator = message[3];
  const std::size_t segmentEnd = std::min(message.find('\r'), message.size());
  std::size_t at = 3;
  for (int seen = 1; seen < 9; ++seen) {
    at = message.find(separator, at + 1);
    if (at >= segmentEnd) return {};
  }
  const std::size_t begin = at + 1;
  const std::size_t end = std::min(message.find(separator, begin), segmentEnd);
  return message.substr(begin, end - begin);
}

// The whole framed ACK: fixed but for MSA-2 (and MSH-10, the same id: it is unique too).
void appendAck(std::string& out, std::string_view id) {
  out += "\x0bMSH|^~\\&|CPISREF|CPISREF|||20240101000000||ACK|";
  out += id;
  out += "|P|2.4\rMSA|AA|";
  out += id;
  out += "\r\x1c\r";
}

struct Completion {
  int fd;
  std::uint64_t generation;  // the connection's, so an ACK never reaches a later socket on the same fd
  std::string ack;           // framed
};

class Worker;

// The durable modes: messages queue here; one thread appends them to the file and syncs.
class Journal {
 public:
  Journal(int fd, std::size_t maxBatch) : fd_(fd), maxBatch_(maxBatch) {}

  void add(Worker* worker, Completion completion, std::string_view framedMessage) {
    {
      const std::lock_guard lock(mutex_);
      bytes_.append(framedMessage);
      items_.push_back(Item{worker, std::move(completion), framedMessage.size()});
    }
    wake_.notify_one();
  }

  void run();  // the sync thread

  std::atomic<std::uint64_t> syncs{0};
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::size_t> largestBatch{0};

 private:
  struct Item {
    Worker* worker;
    Completion completion;
    std::size_t size;
  };
  const int fd_;
  const std::size_t maxBatch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string bytes_;
  std::vector<Item> items_;
};

class Worker {
 public:
  Worker(int listenFd, Mode mode, Journal* journal) : listenFd_(listenFd), mode_(mode), journal_(journal) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) die("epoll_create1");
    wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd_ < 0) die("eventfd");
    watch(listenFd_, EPOLLIN);
    watch(wakeFd_, EPOLLIN);
  }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // From the sync thread: ACKs whose messages are now on disk.
  void complete(std::vector<Completion>& done) {
    {
      const std::lock_guard lock(mutex_);
      for (auto& c : done) completed_.push_back(std::move(c));
    }
    const std::uint64_t one = 1;
    if (write(wakeFd_, &one, sizeof one) < 0 && errno != EAGAIN) die("write eventfd");
  }

  std::uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }
  std::uint64_t connections() const { return connections_.load(std::memory_order_relaxed); }

 private:
  struct Connection {
    bool open = false;
    std::uint64_t generation = 0;
    std::string in;   // bytes not yet framed
    std::string out;  // ACKs not yet written (only when the socket would block)
  };

  void watch(int fd, std::uint32_t events) {
    epoll_event e{};
    e.events = events;
    e.data.fd = fd;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl");
  }

  Connection& connection(int fd) {
    if (static_cast<std::size_t>(fd) >= table_.size()) table_.resize(static_cast<std::size_t>(fd) + 64);
    return table_[static_cast<std::size_t>(fd)];
  }

  void run() {
    std::vector<epoll_event> events(256);
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
        if (fd == listenFd_) {
          accept();
        } else if (fd == wakeFd_) {
          deliver();
        } else {
          if (what & EPOLLOUT) flush(fd);
          if (what & (EPOLLIN | EPOLLHUP | EPOLLERR)) read(fd, buffer);
        }
      }
    }
  }

  void accept() {
    for (;;) {
      const int fd = accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return;
        if (errno == EMFILE || errno == ENFILE) return;  // try again on the next event
        die("accept4");
      }
      const int on = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      Connection& c = connection(fd);
      c.open = true;
      ++c.generation;
      c.in.clear();
      c.out.clear();
      watch(fd, EPOLLIN);
      connections_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void close(int fd) {
    Connection& c = connection(fd);
    c.open = false;
    ++c.generation;
    c.in.clear();
    c.out.clear();
    epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
  }

  void read(int fd, std::vector<char>& buffer) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close(fd);
      return;
    }
    if (n < 0) return;
    Connection& c = connection(fd);
    c.in.append(buffer.data(), static_cast<std::size_t>(n));
    // Frames: 0x0B payload 0x1C 0x0D. Bytes before a start block are dropped.
    std::size_t consumed = 0;
    std::string pending;
    for (;;) {
      const std::size_t start = c.in.find('\x0b', consumed);
      if (start == std::string::npos) {
        consumed = c.in.size();
        break;
      }
      const std::size_t end = c.in.find("\x1c\r", start + 1);
      if (end == std::string::npos) {
        consumed = start;
        break;
      }
      const std::string_view payload(c.in.data() + start + 1, end - start - 1);
      messages_.fetch_add(1, std::memory_order_relaxed);
      if (mode_ == Mode::Memory) {
        appendAck(pending, controlId(payload));
      } else {
        Completion completion{fd, c.generation, {}};
        appendAck(completion.ack, controlId(payload));
        journal_->add(this, std::move(completion), std::string_view(c.in.data() + start, end + 2 - start));
      }
      consumed = end + 2;
    }
    c.in.erase(0, consumed);
    if (!pending.empty()) send(fd, c, pending);
  }

  void send(int fd, Connection& c, std::string_view bytes) {
    if (!c.out.empty()) {  // already waiting for the socket: keep the order
      c.out.append(bytes);
      return;
    }
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      close(fd);
      return;
    }
    const std::size_t sent = n < 0 ? 0 : static_cast<std::size_t>(n);
    if (sent < bytes.size()) {
      c.out.assign(bytes.substr(sent));
      epoll_event e{};
      e.events = EPOLLIN | EPOLLOUT;
      e.data.fd = fd;
      epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &e);
    }
  }

  void flush(int fd) {
    Connection& c = connection(fd);
    if (!c.open) return;
    std::string out;
    out.swap(c.out);
    send(fd, c, out);
    if (c.open && c.out.empty()) {
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.fd = fd;
      epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &e);
    }
  }

  void deliver() {
    std::uint64_t count = 0;
    if (::read(wakeFd_, &count, sizeof count) < 0 && errno != EAGAIN) die("read eventfd");
    {
      const std::lock_guard lock(mutex_);
      delivering_.swap(completed_);
    }
    for (const auto& done : delivering_) {
      Connection& c = connection(done.fd);
      if (c.open && c.generation == done.generation) send(done.fd, c, done.ack);
    }
    delivering_.clear();
  }

  const int listenFd_;
  const Mode mode_;
  Journal* const journal_;
  int epoll_ = -1;
  int wakeFd_ = -1;
  std::vector<Connection> table_;  // by file descriptor
  std::mutex mutex_;               // guards completed_
  std::vector<Completion> completed_;
  std::vector<Completion> delivering_;
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::thread thread_;
};

void Journal::run() {
  std::string bytes;
  std::vector<Item> batch;
  std::vector<std::pair<Worker*, std::vector<Completion>>> byWorker;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return !items_.empty(); });
      if (items_.size() <= maxBatch_) {
        bytes.swap(bytes_);
        batch.swap(items_);
      } else {  // fsync-each: the oldest message alone
        std::size_t size = 0;
        for (std::size_t i = 0; i < maxBatch_; ++i) size += items_[i].size;
        bytes.assign(bytes_, 0, size);
        bytes_.erase(0, size);
        batch.assign(std::make_move_iterator(items_.begin()),
                     std::make_move_iterator(items_.begin() + static_cast<std::ptrdiff_t>(maxBatch_)));
        items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(maxBatch_));
      }
    }
    for (std::size_t written = 0; written < bytes.size();) {
      const ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("write");
      }
      written += static_cast<std::size_t>(n);
    }
    if (fdatasync(fd_) < 0) die("fdatasync");
    syncs.fetch_add(1, std::memory_order_relaxed);
    messages.fetch_add(batch.size(), std::memory_order_relaxed);
    if (batch.size() > largestBatch.load(std::memory_order_relaxed)) largestBatch.store(batch.size());
    // Only now are the ACKs released, each to the worker that owns its connection.
    for (auto& item : batch) {
      auto it = std::find_if(byWorker.begin(), byWorker.end(),
                             [&](const auto& w) { return w.first == item.worker; });
      if (it == byWorker.end()) it = byWorker.insert(byWorker.end(), {item.worker, {}});
      it->second.push_back(std::move(item.completion));
    }
    for (auto& [worker, completions] : byWorker) {
      if (!completions.empty()) worker->complete(completions);
      completions.clear();
    }
    bytes.clear();
    batch.clear();
  }
}

int listenOn(const std::string& address, std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) {
    std::fprintf(stderr, "cpis-bench-mllp-ref: not an IPv4 address: %s\n", address.c_str());
    std::exit(2);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind");
  if (listen(fd, 1024) < 0) die("listen");
  return fd;
}

std::uint16_t portOf(int fd) {
  sockaddr_in a{};
  socklen_t size = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) < 0) die("getsockname");
  return ntohs(a.sin_port);
}

int usage() {
  std::fprintf(stderr,
               "usage: cpis-bench-mllp-ref [--mode memory|group-commit|fsync-each] [--address A] [--port N]\n"
               "                           [--threads N] [--file PATH]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Mode mode = Mode::Memory;
  std::string modeName = "memory";
  std::string address = "127.0.0.1";
  long port = 0;
  long threads = std::max(1u, std::thread::hardware_concurrency());
  std::string file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string v = argv[++i];
    if (a == "--mode") {
      modeName = v;
      if (v == "memory") {
        mode = Mode::Memory;
      } else if (v == "group-commit") {
        mode = Mode::GroupCommit;
      } else if (v == "fsync-each") {
        mode = Mode::FsyncEach;
      } else {
        return usage();
      }
    } else if (a == "--address") {
      address = v;
    } else if (a == "--port") {
      port = std::strtol(v.c_str(), nullptr, 10);
      if (port < 0 || port > 65535) return usage();
    } else if (a == "--threads") {
      threads = std::strtol(v.c_str(), nullptr, 10);
      if (threads < 1 || threads > 256) return usage();
    } else if (a == "--file") {
      file = v;
    } else {
      return usage();
    }
  }
  if (mode != Mode::Memory && file.empty()) {
    std::fprintf(stderr, "cpis-bench-mllp-ref: --mode %s needs --file\n", modeName.c_str());
    return 2;
  }

  // SIGTERM and SIGINT are taken by sigwait below, in no other thread.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  std::unique_ptr<Journal> journal;
  int journalFd = -1;
  if (mode != Mode::Memory) {
    journalFd = open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600);
    if (journalFd < 0) die(file.c_str());
    journal = std::make_unique<Journal>(journalFd, mode == Mode::FsyncEach ? 1 : SIZE_MAX);
  }

  std::vector<std::unique_ptr<Worker>> workers;
  const int first = listenOn(address, static_cast<std::uint16_t>(port));
  const std::uint16_t bound = portOf(first);
  for (long t = 0; t < threads; ++t) {
    workers.push_back(
        std::make_unique<Worker>(t == 0 ? first : listenOn(address, bound), mode, journal.get()));
  }
  std::thread syncer;
  if (journal) syncer = std::thread([&] { journal->run(); });
  for (auto& w : workers) w->start();

  std::printf("cpis-bench-mllp-ref: listening on %s:%u (%s, %ld threads)\ncpis-bench-mllp-ref: ready\n",
              address.c_str(), bound, modeName.c_str(), threads);
  std::fflush(stdout);

  int received = 0;
  sigwait(&stopSignals, &received);
  std::uint64_t messages = 0, connections = 0;
  for (const auto& w : workers) {
    messages += w->messages();
    connections += w->connections();
  }
  std::fprintf(stderr, "cpis-bench-mllp-ref: %s: %llu connections, %llu messages", modeName.c_str(),
               static_cast<unsigned long long>(connections), static_cast<unsigned long long>(messages));
  if (journal) {
    const auto syncs = journal->syncs.load();
    std::fprintf(stderr, ", %llu fdatasyncs (mean batch %.1f, largest %zu)",
                 static_cast<unsigned long long>(syncs),
                 syncs ? static_cast<double>(journal->messages.load()) / static_cast<double>(syncs) : 0.0,
                 journal->largestBatch.load());
  }
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
  std::_Exit(0);  // the threads never return; nothing to flush but what was printed
}

#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/cpis/async_replies.h"
#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/cpis/tls_context.h"

namespace cpis::cpis {

struct AsyncReplyServerSettings {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;              // 0: the system chooses (tests); see port()
  std::string path = "/cpis/replies";  // where replies are POSTed (the query's wsa:ReplyTo)
  std::optional<ServerTlsSettings> tls;
  int maxThreads = 16;
  std::size_t maxBodyBytes = 16 * 1024 * 1024;
};

// The engine's own HTTPS endpoint for asynchronous CP-IS replies (POCO HTTPServer, TLS or
// mutual TLS). Each POSTed SOAP reply is parsed and validated (parseReply) and handed to the
// AsyncReplies registry, which matches it to its waiting lookup by wsa:RelatesTo; replies for
// unknown, finished or already answered queries are discarded there and counted. The sender
// gets 202 Accepted for any reply it delivered whole, and 400/404/413 otherwise.
class AsyncReplyServer {
 public:
  // Binds at once (port() is known); throws Poco::Exception (address in use, TLS files).
  AsyncReplyServer(AsyncReplyServerSettings settings, AsyncReplies& replies, const SpineSchemas& schemas,
                   ReplyOptions options);
  ~AsyncReplyServer();  // stop()
  AsyncReplyServer(const AsyncReplyServer&) = delete;
  AsyncReplyServer& operator=(const AsyncReplyServer&) = delete;

  void start();
  void stop();
  std::uint16_t port() const;
  // "https://address:port/path" as the query's wsa:ReplyTo would name this endpoint.
  std::string url() const;
  std::uint64_t received() const;  // POSTs taken, matched or not

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cpis::cpis

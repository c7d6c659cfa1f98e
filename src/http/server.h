// HttpServer: the Boost.Beast HTTP/1.1 server. This header is Beast-free on purpose (Beast costs ~18 s per
// translation unit); server.cc is the only file that includes it.
//
// I/O threads read and write sockets, run inline-safe requests (static files, /healthz, /metrics) and start
// asynchronous ones (WeCom's callbacks), which answer from their own thread; every other request runs on a worker
// pool so database work never blocks the event loop. Keep-alive, header and body
// limits (431/413 envelopes), read and idle timeouts. Stop() is graceful: it stops accepting, lets in-flight
// requests finish (their responses close the connection), closes idle connections, and returns within the
// grace period.
// Thread safety: Start once, Stop once (from any thread, e.g. a signal watcher).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "http/dispatcher.h"

namespace koi::http {

class HttpServer {
 public:
  // Binds the listening socket (so a port clash fails here, at start). Port 0 picks a free port.
  static Result<std::unique_ptr<HttpServer>> Create(const ServerSettings& settings, const Dispatcher& dispatcher);
  ~HttpServer();

  int port() const;
  void Start();
  // Returns when all connections are closed or the grace period ran out.
  void Stop(std::chrono::milliseconds grace);
  // Blocks until SIGINT or SIGTERM arrives (uses its own signal set; call from the main thread).
  static int WaitForTerminationSignal();

  class Impl;  // opaque; public only so server.cc's connection class can name it

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace koi::http

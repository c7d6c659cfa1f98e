#include "http/server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "http/envelope.h"

namespace koi::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class Connection;

class HttpServer::Impl {
 public:
  // One event loop per I/O thread, each connection on one of them: a loop run by one thread needs no strand, and
  // Asio's shared scheduler woke the other I/O thread for nearly every handler (a futex call each; on this VM a
  // syscall costs more than decrypting a callback — bench/results/wecom-callbacks.md).
  struct Loop {
    asio::io_context ioc{1};
    // Keeps the thread running until Stop(): a loop other than the acceptor's has nothing pending until it is dealt
    // a connection, and any loop may have none while a request is on the worker pool or the callback inbox.
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  };

  Impl(const ServerSettings& s, const Dispatcher& d)
      : settings(s), dispatcher(d), loops(MakeLoops(s.io_threads)), acceptor(loops.front()->ioc),
        workers(s.worker_threads) {}

  void Accept();
  void Track(const std::shared_ptr<Connection>& c);
  void Untrack(Connection* c);

  static std::vector<std::unique_ptr<Loop>> MakeLoops(int n) {
    std::vector<std::unique_ptr<Loop>> out;
    for (int i = 0; i < std::max(1, n); ++i) out.push_back(std::make_unique<Loop>());
    return out;
  }

  ServerSettings settings;
  const Dispatcher& dispatcher;
  // Declared before the loops so they outlive them: destroying a loop destroys pending handlers, whose connections
  // untrack.
  std::mutex mu;
  std::condition_variable all_closed;
  std::map<Connection*, std::weak_ptr<Connection>> connections;  // GUARDED_BY(mu)
  std::vector<std::unique_ptr<Loop>> loops;
  size_t next_loop = 0;  // the loop the next accepted connection runs on; used by Accept() only (Start, then loop 0)
  tcp::acceptor acceptor;
  asio::thread_pool workers;
  std::vector<std::thread> io_threads;
  std::atomic<bool> stopping{false};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {
    // Beast reads as much as the buffer has room for, at least 512 bytes: from an empty buffer a typical request
    // (a WeCom callback is ~800 bytes) took two reads, one syscall more per request (bench/results/wecom-callbacks.md).
    buffer_.reserve(kReadChunk);
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }
  ~Connection() { server_.Untrack(this); }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // Called on stop: closes the connection if it is waiting for a request; busy ones close after responding.
  void CloseIfIdle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.settings.max_header_bytes));
    parser_->body_limit(static_cast<std::uint64_t>(server_.settings.max_body_bytes));
    int seconds = first_ ? server_.settings.read_timeout_seconds : server_.settings.idle_timeout_seconds;
    stream_.expires_after(std::chrono::seconds(seconds));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    first_ = false;
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::eof || ec == asio::error::bad_descriptor) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return WriteError(413, "body_too_large",
                        "request body is larger than " + std::to_string(server_.settings.max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      return WriteError(431, "headers_too_large", "request headers are too large");
    }
    if (ec) return WriteError(400, "bad_request", "malformed HTTP request: " + ec.message());

    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(field.value());
    }
    req.body = std::move(msg.body());
    req.remote_addr = remote_;
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    busy_ = true;

    switch (server_.dispatcher.Place(req)) {
      case Dispatcher::Placement::kInline:
        return Write(server_.dispatcher.Handle(req));
      case Dispatcher::Placement::kAsync:
        // The reply may come from this very call (a refusal) or from the route's own thread; either way the write
        // happens on the connection's loop.
        return server_.dispatcher.HandleAsync(req, [self = shared_from_this()](Response res) {
          asio::dispatch(self->stream_.get_executor(),
                         [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
        });
      case Dispatcher::Placement::kWorker:
        break;
    }
    asio::post(server_.workers, [self = shared_from_this(), req = std::move(req)]() mutable {
      Response res = self->server_.dispatcher.Handle(req);
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
    });
  }

  void WriteError(int status, const std::string& reason, const std::string& message) {
    Response r = JsonError(status, reason, message);
    Dispatcher::AddCommonHeaders(r, "-");
    keep_alive_ = false;
    version_ = 11;
    busy_ = true;
    Write(std::move(r));
  }

  void Write(Response res) {
    if (res.body_source) return WriteStreamed(std::move(res));
    const bool keep = keep_alive_ && !server_.stopping.load();
    auto out = std::make_shared<std::string>(Serialize(res, version_, keep));
    stream_.expires_after(std::chrono::seconds(server_.settings.read_timeout_seconds));
    asio::async_write(stream_, asio::buffer(*out), [self = shared_from_this(), out, keep](beast::error_code ec,
                                                                                          std::size_t) {
      self->busy_ = false;
      if (ec || !keep) return self->Close();
      self->Read();
    });
  }

  // The response's bytes, put together by hand: Beast's serializer walks a chain of buffer views field by field and
  // was the largest single cost of answering a small request (bench/results/wecom-callbacks.md). The same fields
  // as Beast's keep_alive() and prepare_payload() give: Content-Length except on 1xx, 204 and 304, and Connection
  // when it differs from the version's default.
  static std::string Serialize(Response& res, unsigned version, bool keep) {
    const auto status = static_cast<unsigned>(res.status);
    const bool has_length = !(status < 200 || status == 204 || status == 304);
    if (!has_length) res.body.clear();
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    std::string out;
    size_t size = 128 + res.content_type.size() + res.body.size();
    for (const auto& [k, v] : res.headers) size += k.size() + v.size() + 4;
    out.reserve(size);
    out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(std::to_string(status)).append(" ");
    out.append(reason.data(), reason.size()).append("\r\nServer: koi\r\n");
    if (!res.content_type.empty()) out.append("Content-Type: ").append(res.content_type).append("\r\n");
    for (const auto& [k, v] : res.headers) {
      out.append(k).append(": ");
      // A value never ends the header early (a file name or a redirect built from input cannot add a header).
      for (char c : v) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
      out.append("\r\n");
    }
    if (has_length) out.append("Content-Length: ").append(std::to_string(res.body.size())).append("\r\n");
    if (version == 10 && keep) out.append("Connection: keep-alive\r\n");
    if (version != 10 && !keep) out.append("Connection: close\r\n");
    out.append("\r\n").append(res.body);
    return out;
  }

  // The header with the body's length, then the body as the source gives it, one piece at a time: the source runs on
  // the worker pool (it may read a database), each write on the connection's loop.
  void WriteStreamed(Response res) {
    auto head = std::make_shared<bhttp::response<bhttp::empty_body>>();
    head->version(version_);
    head->result(static_cast<unsigned>(res.status));
    head->set(bhttp::field::server, "koi");
    if (!res.content_type.empty()) head->set(bhttp::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers) head->insert(k, v);
    const bool keep = keep_alive_ && !server_.stopping.load();
    head->keep_alive(keep);
    head->content_length(static_cast<std::uint64_t>(res.body_size));
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*head);
    Source source = std::make_shared<std::function<bool(std::string&)>>(std::move(res.body_source));
    stream_.expires_after(std::chrono::seconds(server_.settings.read_timeout_seconds));
    bhttp::async_write_header(stream_, *serializer, [self = shared_from_this(), head, serializer, source, keep,
                                                     size = res.body_size](beast::error_code ec, std::size_t) {
      if (ec) return self->Close();
      self->StreamNext(source, size, keep);
    });
  }

  using Source = std::shared_ptr<std::function<bool(std::string&)>>;

  void StreamNext(Source source, int64_t remaining, bool keep) {
    asio::post(server_.workers, [self = shared_from_this(), source, remaining, keep] {
      auto piece = std::make_shared<std::string>();
      bool ok = false;
      try {
        ok = (*source)(*piece);
      } catch (const std::exception& e) {  // as the dispatcher does for handlers: log it, fail this response only
        spdlog::error("a streamed body failed: {}", e.what());
      }
      asio::post(self->stream_.get_executor(), [self, source, piece, ok, remaining, keep] {
        const auto size = static_cast<int64_t>(piece->size());
        if (!ok || size > remaining || (piece->empty() && remaining > 0)) {
          if (ok) spdlog::error("a streamed body did not match its length ({} bytes left)", remaining);
          return self->Close();
        }
        if (piece->empty()) {
          self->busy_ = false;
          // Decided again now: the server may have begun stopping during a long download.
          if (!keep || self->server_.stopping.load()) return self->Close();
          return self->Read();
        }
        self->WriteSlices(source, piece, 0, remaining - size, keep);
      });
    });
  }

  // Writes a piece in slices of 64 KiB, each with its own timeout, so a slow but steady client is not cut off.
  void WriteSlices(Source source, std::shared_ptr<std::string> piece, size_t at, int64_t remaining, bool keep) {
    constexpr size_t kSlice = 64 * 1024;
    const size_t n = std::min(kSlice, piece->size() - at);
    stream_.expires_after(std::chrono::seconds(server_.settings.read_timeout_seconds));
    asio::async_write(stream_, asio::buffer(piece->data() + at, n),
                      [self = shared_from_this(), source, piece, at, n, remaining, keep](beast::error_code ec,
                                                                                          std::size_t) {
                        if (ec) return self->Close();
                        if (at + n < piece->size()) return self->WriteSlices(source, piece, at + n, remaining, keep);
                        self->StreamNext(source, remaining, keep);
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  static constexpr size_t kReadChunk = 4096;
  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool first_ = true;
  bool busy_ = false;
};

void HttpServer::Impl::Track(const std::shared_ptr<Connection>& c) {
  std::lock_guard lock(mu);
  connections[c.get()] = c;
}

void HttpServer::Impl::Untrack(Connection* c) {
  std::lock_guard lock(mu);
  connections.erase(c);
  if (connections.empty()) all_closed.notify_all();
}

void HttpServer::Impl::Accept() {
  asio::io_context& loop = loops[next_loop++ % loops.size()]->ioc;
  acceptor.async_accept(loop, [this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      auto c = std::make_shared<Connection>(std::move(socket), *this);
      Track(c);
      c->Start();
    } else if (ec != asio::error::operation_aborted) {
      spdlog::warn("accept failed: {}", ec.message());
    }
    if (acceptor.is_open()) Accept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (!impl_->io_threads.empty()) Stop(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const ServerSettings& settings, const Dispatcher& dispatcher) {
  auto impl = std::make_unique<Impl>(settings, dispatcher);
  beast::error_code ec;
  auto address = asio::ip::make_address(settings.listen_host, ec);
  if (ec) return Status::InvalidArgument("bad_config", "server.listen host is not an IP address: " + settings.listen_host);
  tcp::endpoint ep(address, static_cast<unsigned short>(settings.listen_port));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::Unavailable("listen_failed", "cannot listen on " + settings.listen_host + ":" +
                                                    std::to_string(settings.listen_port) + ": " + ec.message());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Start() {
  impl_->Accept();
  for (auto& loop : impl_->loops) impl_->io_threads.emplace_back([&ioc = loop->ioc] { ioc.run(); });
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (impl_->stopping.exchange(true)) return;
  asio::post(impl_->acceptor.get_executor(), [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [ptr, weak] : impl_->connections)
      if (auto c = weak.lock()) live.push_back(c);
  }
  for (auto& c : live) c->CloseIfIdle();
  live.clear();
  {
    std::unique_lock lock(impl_->mu);
    impl_->all_closed.wait_for(lock, grace, [&] { return impl_->connections.empty(); });
  }
  impl_->workers.join();
  for (auto& loop : impl_->loops) {
    loop->work.reset();
    loop->ioc.stop();
  }
  for (auto& t : impl_->io_threads) t.join();
  impl_->io_threads.clear();
}

int HttpServer::WaitForTerminationSignal() {
  asio::io_context ioc;
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](const beast::error_code&, int sig) { received = sig; });
  ioc.run();
  return received;
}

}  // namespace koi::http

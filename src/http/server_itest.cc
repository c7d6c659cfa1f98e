// The Beast server over real sockets: keep-alive, limits, timeouts and graceful shutdown.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <stdexcept>
#include <thread>

#include "http/envelope.h"
#include "http/server.h"

namespace koi::http {
namespace {

using namespace std::chrono_literals;

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

void SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Reads one response (headers + Content-Length body). Returns "" on EOF/timeout.
std::string ReadResponse(int fd) {
  std::string buf;
  char tmp[4096];
  size_t header_end = std::string::npos;
  size_t want = 0;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        auto cl = buf.find("Content-Length: ");
        size_t len = cl != std::string::npos && cl < header_end ? std::stoul(buf.substr(cl + 16)) : 0;
        want = header_end + 4 + len;
      }
    }
    if (header_end != std::string::npos && buf.size() >= want) return buf.substr(0, want);
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return buf.size() >= want && header_end != std::string::npos ? buf : "";
    buf.append(tmp, static_cast<size_t>(n));
  }
}

int StatusOf(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/healthz", [](Request&) { return JsonOk("ok"); }, {.inline_safe = true});
    router_.Add("POST", "/api/v1/echo", [](Request& r) { return JsonOk(boost::json::string(r.body)); });
    router_.Add("GET", "/api/v1/slow", [](Request&) {
      std::this_thread::sleep_for(500ms);
      return JsonOk("slow");
    });
    // A body of three pieces (the last 100 KB, larger than a socket write), and one whose source fails midway.
    router_.Add("GET", "/api/v1/stream", [](Request&) {
      Response r;
      r.content_type = "text/csv";
      r.body_size = 3 + 3 + 100'000;
      r.body_source = [n = 0](std::string& piece) mutable {
        piece = n == 0 ? "abc" : n == 1 ? "def" : n == 2 ? std::string(100'000, 'x') : "";
        ++n;
        return true;
      };
      return r;
    });
    router_.Add("GET", "/api/v1/stream-long", [](Request&) {  // 200 pieces of 100 KB, for a client that leaves
      Response r;
      r.body_size = 200 * 100'000;
      r.body_source = [n = 0](std::string& piece) mutable {
        piece = n++ < 200 ? std::string(100'000, 'y') : "";
        return true;
      };
      return r;
    });
    router_.Add("GET", "/api/v1/stream-throws", [](Request&) {
      Response r;
      r.body_size = 10;
      r.body_source = [](std::string&) -> bool { throw std::runtime_error("boom"); };
      return r;
    });
    router_.Add("GET", "/api/v1/stream-broken", [](Request&) {
      Response r;
      r.body_size = 10;
      r.body_source = [n = 0](std::string& piece) mutable {
        piece = "12345";
        return n++ == 0;
      };
      return r;
    });
    router_.Add("GET", "/api/v1/not-modified", [](Request&) {
      Response r;
      r.status = 304;
      r.body = "ignored";
      return r;
    });
    router_.Add("GET", "/api/v1/injected", [](Request&) {
      Response r = JsonOk("ok");
      r.SetHeader("Content-Disposition", "attachment; filename=\"a\r\nSet-Cookie: evil=1\"");
      return r;
    });
    // Answers from another thread, as the WeCom callback route answers from the inbox's writer.
    router_.AddAsync("POST", "/api/v1/later", [](Request& r, Reply reply) {
      std::thread([body = r.body, reply] { reply(JsonOk(boost::json::string(body))); }).detach();
    });
    dispatcher_ = std::make_unique<Dispatcher>(router_, nullptr);
    ServerSettings s;
    s.listen_port = 0;
    s.max_body_bytes = 1024;
    s.max_header_bytes = 2048;
    s.read_timeout_seconds = 2;
    s.idle_timeout_seconds = 2;
    auto server = HttpServer::Create(s, *dispatcher_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    server_->Start();
  }
  void TearDown() override {
    if (server_) server_->Stop(1s);
  }

  Router router_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 3; ++i) {
    SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string r = ReadResponse(fd);
    EXPECT_EQ(StatusOf(r), 200) << r;
    EXPECT_NE(r.find("{\"code\":0,\"data\":\"ok\"}"), std::string::npos);
  }
  SendAll(fd, "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  std::string echo = ReadResponse(fd);
  EXPECT_NE(echo.find("\"hello\""), std::string::npos) << echo;
  close(fd);
}

// Koi writes a response's bytes itself: the status line for the request's version, Content-Length except where HTTP
// forbids it, Connection where the version's default differs, and no header a value could smuggle in.
TEST_F(ServerTest, ResponsesAreWellFormedForEitherVersion) {
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "POST /api/v1/later HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nlater");
  std::string later = ReadResponse(fd);
  EXPECT_EQ(later.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << later;
  EXPECT_NE(later.find("\"later\""), std::string::npos) << later;
  EXPECT_EQ(later.find("Connection:"), std::string::npos) << "keep-alive is HTTP/1.1's default";
  SendAll(fd, "GET /api/v1/not-modified HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string not_modified = ReadResponse(fd);
  EXPECT_EQ(StatusOf(not_modified), 304) << not_modified;
  EXPECT_EQ(not_modified.find("Content-Length"), std::string::npos) << not_modified;
  EXPECT_EQ(not_modified.find("ignored"), std::string::npos) << not_modified;
  SendAll(fd, "GET /api/v1/injected HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string injected = ReadResponse(fd);
  EXPECT_EQ(StatusOf(injected), 200) << injected;
  EXPECT_EQ(injected.find("\r\nSet-Cookie"), std::string::npos) << injected;
  close(fd);

  fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /healthz HTTP/1.0\r\n\r\n");
  std::string old = ReadResponse(fd);
  EXPECT_EQ(old.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << old;
  EXPECT_EQ(old.find("Connection: keep-alive"), std::string::npos) << old;
  char c;
  EXPECT_EQ(recv(fd, &c, 1, 0), 0) << "an HTTP/1.0 request without keep-alive is answered and closed";
  close(fd);
  fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  std::string kept = ReadResponse(fd);
  EXPECT_NE(kept.find("Connection: keep-alive\r\n"), std::string::npos) << kept;
  SendAll(fd, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(StatusOf(ReadResponse(fd)), 200);
  close(fd);
}

TEST_F(ServerTest, StreamedBodiesArriveWholeWithTheirLengthOrTheConnectionCloses) {
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 2; ++i) {  // and the connection stays usable afterwards
    SendAll(fd, "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string r = ReadResponse(fd);
    ASSERT_EQ(StatusOf(r), 200) << r.substr(0, 300);
    EXPECT_NE(r.find("Content-Length: 100006"), std::string::npos);
    EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "abcdef" + std::string(100'000, 'x'));
  }
  SendAll(fd, "GET /api/v1/stream-broken HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string broken;
  char tmp[4096];
  ssize_t n = 0;
  while ((n = recv(fd, tmp, sizeof tmp, 0)) > 0) broken.append(tmp, static_cast<size_t>(n));
  EXPECT_EQ(n, 0) << "the server closes the connection (not a receive timeout)";
  EXPECT_NE(broken.find("Content-Length: 10"), std::string::npos) << broken;
  EXPECT_EQ(broken.substr(broken.find("\r\n\r\n") + 4), "12345");  // short, then closed
  close(fd);
}

TEST_F(ServerTest, AClientLeavingMidStreamOrASourceThrowingHarmsNoOneElse) {
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /api/v1/stream-long HTTP/1.1\r\nHost: x\r\n\r\n");
  char tmp[4096];
  ASSERT_GT(recv(fd, tmp, sizeof tmp, 0), 0);
  close(fd);  // gone after the first bytes
  fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /api/v1/stream-throws HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r;
  ssize_t n = 0;
  while ((n = recv(fd, tmp, sizeof tmp, 0)) > 0) r.append(tmp, static_cast<size_t>(n));
  EXPECT_EQ(n, 0);
  EXPECT_EQ(StatusOf(r), 200);  // the header went out; the body stops short and the connection closes
  close(fd);
  fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(ReadResponse(fd)), 200);
  close(fd);
}

TEST_F(ServerTest, OversizedBodyGets413Envelope) {
  int fd = Connect(server_->port());
  SendAll(fd, "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a'));
  std::string r = ReadResponse(fd);
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_NE(r.find("body_too_large"), std::string::npos);
  close(fd);
}

TEST_F(ServerTest, OversizedHeadersGet431Envelope) {
  int fd = Connect(server_->port());
  SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'b') + "\r\n\r\n");
  std::string r = ReadResponse(fd);
  EXPECT_EQ(StatusOf(r), 431) << r;
  EXPECT_NE(r.find("headers_too_large"), std::string::npos);
  close(fd);
}

TEST_F(ServerTest, GarbageGets400AndTheServerStaysUp) {
  int fd = Connect(server_->port());
  SendAll(fd, "THIS IS NOT HTTP\r\n\r\n");
  std::string r = ReadResponse(fd);
  EXPECT_EQ(StatusOf(r), 400) << r;
  close(fd);
  int fd2 = Connect(server_->port());
  SendAll(fd2, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(ReadResponse(fd2)), 200);
  close(fd2);
}

TEST_F(ServerTest, IdleConnectionsAreClosedAfterTheTimeout) {
  int fd = Connect(server_->port());
  char c;
  auto start = std::chrono::steady_clock::now();
  ssize_t n = recv(fd, &c, 1, 0);  // the server closes: recv returns 0
  EXPECT_EQ(n, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4500ms);
  close(fd);
}

TEST_F(ServerTest, StopFinishesInFlightRequestsAndRefusesNewOnes) {
  int fd = Connect(server_->port());
  SendAll(fd, "GET /api/v1/slow HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  int port = server_->port();
  std::thread stopper([&] { server_->Stop(5s); });
  std::string r = ReadResponse(fd);
  EXPECT_EQ(StatusOf(r), 200) << "in-flight request must complete";
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  stopper.join();
  server_.reset();
  EXPECT_LT(Connect(port), 0) << "no new connections after stop";
  close(fd);
}

TEST(ServerCreate, PortInUseFailsAtStart) {
  Router router;
  Dispatcher d(router, nullptr);
  ServerSettings s;
  s.listen_port = 0;
  auto a = HttpServer::Create(s, d);
  ASSERT_TRUE(a.ok());
  s.listen_port = (*a)->port();
  auto b = HttpServer::Create(s, d);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().reason(), "listen_failed");
}

}  // namespace
}  // namespace koi::http

#include "http/https_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>

namespace koi::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

struct Url {
  bool tls = true;
  std::string host;
  std::string port;
  std::string target;
};

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    u.tls = false;
    rest = url.substr(7);
  } else {
    return Status::InvalidArgument("bad_url", "outbound URL must start with https:// or http://");
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  u.host = colon == std::string::npos ? authority : authority.substr(0, colon);
  u.port = colon == std::string::npos ? (u.tls ? "443" : "80") : authority.substr(colon + 1);
  if (u.host.empty()) return Status::InvalidArgument("bad_url", "outbound URL has no host");
  return u;
}

template <typename Stream>
Result<HttpReply> Exchange(Stream& stream, const Url& u, bhttp::verb verb,
                             const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  bhttp::request<bhttp::string_body> req{verb, u.target, 11};
  req.set(bhttp::field::host, u.host);
  req.set(bhttp::field::user_agent, "koi");
  for (const auto& [k, v] : headers)
    if (!beast::iequals(k, "host")) req.set(k, v);
  if (verb != bhttp::verb::get) {
    req.body() = body;
    req.prepare_payload();
  }
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);
  return HttpReply{static_cast<int>(res.result_int()), std::move(res.body())};
}

}  // namespace

Result<std::string> HttpsPostJson(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body) {
  return HttpsRequest("POST", url, headers, body);
}

Result<std::string> HttpsRequest(const std::string& method, const std::string& url,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string& body) {
  KOI_ASSIGN_OR_RETURN(HttpReply reply, HttpExchange(method, url, headers, body, 10'000));
  return std::move(reply.body);
}

Result<HttpReply> HttpExchange(const std::string& method, const std::string& url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body, int64_t timeout_ms) {
  KOI_ASSIGN_OR_RETURN(Url u, ParseUrl(url));
  const bhttp::verb verb = method == "GET" ? bhttp::verb::get : bhttp::verb::post;
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(u.host, u.port);
    const auto deadline = std::chrono::milliseconds(timeout_ms);
    if (!u.tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(deadline);
      stream.connect(endpoints);
      return Exchange(stream, u, verb, headers, body);
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str()))
      return Status::Unavailable("outbound_failed", "cannot set the TLS server name");
    stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
    beast::get_lowest_layer(stream).expires_after(deadline);
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(asio::ssl::stream_base::client);
    return Exchange(stream, u, verb, headers, body);
  } catch (const std::exception& e) {
    return Status::Unavailable("outbound_failed", method + " to " + u.host + " failed: " + e.what());
  }
}

}  // namespace koi::http

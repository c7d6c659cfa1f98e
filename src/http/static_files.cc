#include "http/static_files.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace koi::http {
namespace {

std::string ContentTypeFor(const std::string& ext) {
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"}, {".svg", "image/svg+xml"},
      {".png", "image/png"},                    {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},                  {".gif", "image/gif"},
      {".ico", "image/x-icon"},                 {".webp", "image/webp"},
      {".woff", "font/woff"},                   {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},                     {".map", "application/json; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},    {".webmanifest", "application/manifest+json"},
  };
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

bool IsText(const std::string& ct) {
  return ct.rfind("text/", 0) == 0 || ct.find("json") != std::string::npos || ct.find("svg") != std::string::npos;
}

}  // namespace

std::string GzipCompress(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out;
  out.resize(deflateBound(&zs, in.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

Result<std::unique_ptr<StaticFiles>> StaticFiles::Load(const std::string& dir) {
  auto sf = std::unique_ptr<StaticFiles>(new StaticFiles());
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    spdlog::warn("console folder {} not found; only the API is served (build it with: make web)", dir);
    return sf;
  }
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream f(it->path(), std::ios::binary);
    if (!f) return Status::Unavailable("static_read_failed", "cannot read " + it->path().string());
    std::stringstream buf;
    buf << f.rdbuf();
    File file;
    file.body = buf.str();
    file.content_type = ContentTypeFor(it->path().extension().string());
    std::string rel = "/" + std::filesystem::relative(it->path(), dir).generic_string();
    file.immutable = rel.rfind("/assets/", 0) == 0;
    file.etag = fmt::format("\"{:x}-{:x}\"", file.body.size(), std::hash<std::string>{}(file.body));
    if (IsText(file.content_type) && file.body.size() > 512) {
      std::string gz = GzipCompress(file.body);
      if (!gz.empty() && gz.size() < file.body.size() * 9 / 10) file.gzip = std::move(gz);
    }
    sf->files_.emplace(rel, std::move(file));
  }
  if (ec) return Status::Unavailable("static_read_failed", "cannot list " + dir + ": " + ec.message());
  spdlog::info("serving {} console files from {}", sf->files_.size(), dir);
  return sf;
}

std::optional<Response> StaticFiles::Respond(const File& file, const Request& request) const {
  Response r;
  r.content_type = file.content_type;
  r.SetHeader("ETag", file.etag);
  r.SetHeader("Cache-Control", file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.SetHeader("Vary", "Accept-Encoding");
  if (request.Header("if-none-match") == file.etag) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  if (!file.gzip.empty() && request.Header("accept-encoding").find("gzip") != std::string::npos) {
    r.SetHeader("Content-Encoding", "gzip");
    r.body = file.gzip;
  } else {
    r.body = file.body;
  }
  return r;
}

std::optional<Response> StaticFiles::Serve(const Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") return std::nullopt;
  if (request.path.rfind("/api/", 0) == 0) return std::nullopt;
  std::string path = request.path == "/" ? "/index.html" : request.path;
  auto it = files_.find(path);
  if (it != files_.end()) return Respond(it->second, request);
  // SPA fallback: extension-less paths are client routes.
  auto slash = path.rfind('/');
  if (path.find('.', slash) != std::string::npos) return std::nullopt;
  auto index = files_.find("/index.html");
  if (index == files_.end()) return std::nullopt;
  auto out = Respond(index->second, request);
  if (out && !frame_origin_.empty() && request.path.rfind(frame_prefix_, 0) == 0) out->frame_ancestor = frame_origin_;
  return out;
}

}  // namespace koi::http

// StaticFiles: the built console, loaded into memory at start and served with SPA fallback.
//
// Every file under the folder is read once; text types (html, js, css, json, svg, map, txt) also get a gzip copy
// served when the client accepts gzip. Hashed assets under /assets/ are cached for a year (immutable);
// index.html is revalidated every time (ETag). A GET for a path that is not a file, not under /api/ and has no
// file extension returns index.html, so client-side routes survive a reload.
// Thread safety: immutable after Load; Serve is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "http/http_types.h"

namespace koi::http {

class StaticFiles {
 public:
  // A missing folder is not an error (the API still works); Load logs a warning and serves nothing.
  static Result<std::unique_ptr<StaticFiles>> Load(const std::string& dir);

  // The response for a GET/HEAD of request.path, or nullopt if this is not a static file request.
  std::optional<Response> Serve(const Request& request) const;

  size_t file_count() const { return files_.size(); }

  // Client routes under `path_prefix` ("/sidebar/") may be framed by `origin` (the WeCom sandbox's chat page, which
  // stands in for WeCom's client around the chat toolbar). Call before serving.
  void AllowFraming(std::string path_prefix, std::string origin) {
    frame_prefix_ = std::move(path_prefix);
    frame_origin_ = std::move(origin);
  }

 private:
  struct File {
    std::string content_type;
    std::string body;
    std::string gzip;  // empty when not worth compressing
    std::string etag;
    bool immutable = false;
  };
  std::optional<Response> Respond(const File& file, const Request& request) const;

  std::map<std::string, File> files_;  // "/assets/index-abc.js" -> file
  std::string frame_prefix_, frame_origin_;
};

// Gzip-compresses `in` (zlib, best compression). Exposed for tests.
std::string GzipCompress(std::string_view in);

}  // namespace koi::http

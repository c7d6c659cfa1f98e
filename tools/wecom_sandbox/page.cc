#include "page.h"

#include "http/target.h"

namespace koi::sandbox {

std::string Html(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::multimap<std::string, std::string> ParseForm(const std::string& body) {
  std::multimap<std::string, std::string> out;
  size_t at = 0;
  while (at <= body.size()) {
    size_t end = body.find('&', at);
    if (end == std::string::npos) end = body.size();
    std::string_view pair(body.data() + at, end - at);
    size_t eq = pair.find('=');
    std::string k, v;
    if (!pair.empty() && http::PercentDecode(pair.substr(0, eq), true, k) &&
        (eq == std::string_view::npos || http::PercentDecode(pair.substr(eq + 1), true, v)))
      out.emplace(std::move(k), std::move(v));
    at = end + 1;
  }
  return out;
}

std::string FormValue(const std::multimap<std::string, std::string>& form, const std::string& key) {
  auto it = form.find(key);
  return it == form.end() ? std::string() : it->second;
}

http::Response Page(int status, const std::string& title, const std::string& body) {
  http::Response resp;
  resp.status = status;
  resp.content_type = "text/html; charset=utf-8";
  resp.body = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>" + Html(title) +
              "</title><style>body{font-family:sans-serif;background:#f5f6f7;margin:0}main{max-width:560px;margin:48px "
              "auto;background:#fff;border-radius:8px;padding:28px 32px;box-shadow:0 1px 4px #0002}h1{font-size:20px;"
              "margin:0 0 6px}.muted{color:#777;font-size:13px}fieldset{border:1px solid #ddd;border-radius:6px;"
              "margin:16px 0;padding:10px 14px}label{display:block;margin:6px 0}button{background:#2e7cf6;color:#fff;"
              "border:0;border-radius:4px;padding:9px 22px;font-size:15px;cursor:pointer}.error{color:#c0392b}"
              "</style></head><body><main>" +
              body + "</main></body></html>";
  return resp;
}

}  // namespace koi::sandbox

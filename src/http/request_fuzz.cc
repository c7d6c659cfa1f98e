// Fuzz target for the request paths Koi owns: target parsing, routing with parameters, JSON bodies and the
// dispatcher's error handling. Built as a libFuzzer target with clang, or driven by fuzz_driver.cc otherwise.
// The property: any input yields a well-formed envelope or a static response, never a crash or a 5xx.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "http/dispatcher.h"
#include "http/envelope.h"
#include "http/target.h"

#include <vector>

// Seeds for fuzz_driver.cc (libFuzzer builds ignore it).
std::vector<std::string> KoiFuzzCorpus() {
  return {
      "0/api/v1/items/42\n",
      "1/api/v1/items\n{\"name\":\"锦鲤\",\"tags\":[1,2,{\"a\":null}]}",
      "1/api/v1/items?x=%E9%94%A6&y=+\n[[[[[[[[[[]]]]]]]]]]",
      "3/api/v1/items/1\n",
      "0/a/%2e%2e/b?%zz\n",
      "0/api/v1/items/%E9%94%A6%20x\n",
      "1/api/v1/items\n{\"a\":1e999,\"b\":\"\\ud800\"}",
  };
}

namespace {

const koi::http::Dispatcher& FuzzDispatcher() {
  static koi::http::Router* router = [] {
    auto* r = new koi::http::Router();
    r->Add("GET", "/api/v1/items/:id", [](koi::http::Request& req) {
      return koi::http::JsonOk(boost::json::object{{"id", req.path_params["id"]}});
    });
    r->Add("POST", "/api/v1/items", [](koi::http::Request& req) {
      auto body = koi::http::ParseJsonBody(req);
      if (!body.ok()) return koi::http::JsonError(body.status());
      return koi::http::JsonOk(*body);
    });
    return r;
  }();
  static koi::http::Dispatcher* d = new koi::http::Dispatcher(*router, nullptr);
  return *d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  // Input layout: method byte, then target up to the first '\n', then the body.
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};
  koi::http::Request req;
  req.method = kMethods[size ? data[0] % 6 : 0];
  std::string rest = size ? in.substr(1) : in;
  auto nl = rest.find('\n');
  req.target = rest.substr(0, nl);
  req.body = nl == std::string::npos ? "" : rest.substr(nl + 1);
  req.headers["content-type"] = "application/json";
  koi::http::Response res = FuzzDispatcher().Handle(req);
  bool bad = res.status >= 500;
  if (!bad && req.method != "HEAD") {
    boost::system::error_code ec;
    auto v = boost::json::parse(res.body, ec);
    bad = ec || !v.is_object() || !v.as_object().contains("code");
  }
  if (bad) {
    std::fprintf(stderr, "fuzz failure: %s %s (body %zu bytes) -> %d %s\n", req.method.c_str(), req.target.c_str(),
                 req.body.size(), res.status, res.body.c_str());
    std::abort();
  }
  return 0;
}

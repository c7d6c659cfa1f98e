// The HTML the sandbox serves where WeCom shows a person a page rather than answering a program: the install page
// (suite.h), the OAuth errors and the simulated WeCom client's chat window (toolbar.h). Pages are plain HTML with
// inline CSS; the dispatcher's Content-Security-Policy allows scripts from the sandbox's own origin only, so a page
// that needs one loads it from a route of its own.
// Thread safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "http/http_types.h"

namespace koi::sandbox {

// `text` escaped for HTML text and attribute values (double- or single-quoted).
std::string Html(std::string_view text);

// An application/x-www-form-urlencoded body: every value of every name, in order (pairs that do not decode are
// dropped).
std::multimap<std::string, std::string> ParseForm(const std::string& body);
// The first value of `key`, or "".
std::string FormValue(const std::multimap<std::string, std::string>& form, const std::string& key);

// A small centred card page (the install page's look) with `body` as its content, already HTML.
http::Response Page(int status, const std::string& title, const std::string& body);

}  // namespace koi::sandbox

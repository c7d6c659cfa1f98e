// UTF-8 validation. All text in Koi is UTF-8: request paths, query values and JSON strings that are not valid
// UTF-8 are refused at the edge, and text echoed back to clients is repaired first.
#pragma once

#include <string>
#include <string_view>

namespace koi {

// Replaces every invalid sequence (bad lead or continuation bytes, overlong forms, surrogates, code points above
// U+10FFFF) and control characters other than tab with U+FFFD.
std::string ToValidUtf8(std::string_view in);

// True if `in` is well-formed UTF-8 (control characters allowed).
bool IsValidUtf8(std::string_view in);

// Characters as people count them: the code points of well-formed UTF-8 (锦 is one, not three).
size_t CodePointCount(std::string_view in);

// `in` without leading and trailing ASCII whitespace (spaces, tabs, line breaks).
std::string TrimSpace(std::string_view in);

// `in` percent-encoded for a URL's query: every byte but A-Z a-z 0-9 - _ . ~ becomes %XX.
std::string PercentEncode(std::string_view in);

}  // namespace koi

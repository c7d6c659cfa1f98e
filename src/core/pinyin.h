// Pinyin initials (拼音首字母) for searching Chinese names by the letters operators type: 王小明 is "wxm".
//
// Each CJK Unified Ideograph (U+4E00..U+9FFF) maps to the first letter of its usual reading (pinyin_table.cc,
// generated from ICU). Characters read two ways in names and places (曾 zeng/ceng, 单 shan/dan, 长 chang/zhang …)
// also give their other initial, so a text can have several initials strings: Initials() returns them all (at most
// kMaxVariants, separated by spaces), e.g. 曾小明 → "cxm zxm". ASCII letters and digits are kept (lowercased); other
// characters are skipped.
#pragma once

#include <string>
#include <string_view>

namespace koi {

inline constexpr int kMaxInitialsVariants = 4;
inline constexpr size_t kMaxInitialsLength = 64;  // letters per variant; longer texts are cut

std::string PinyinInitials(std::string_view utf8);

// A search that may be initials: 1 to 32 ASCII letters. Returned lowercased, or "" when it is not one.
std::string InitialsQuery(std::string_view query);

}  // namespace koi

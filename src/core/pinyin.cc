#include "core/pinyin.h"

#include <cstdint>
#include <vector>

namespace koi {
namespace pinyin_internal {
extern const char kInitials[20993];
}  // namespace pinyin_internal

namespace {

constexpr uint32_t kFirst = 0x4E00, kLast = 0x9FFF;

// Other initials of characters whose reading in names and places differs from the common one (surnames first).
struct Alternate {
  char32_t ch;
  char initial;
};
constexpr Alternate kAlternates[] = {
    {U'曾', 'z'}, {U'单', 's'}, {U'单', 'c'}, {U'长', 'c'}, {U'长', 'z'}, {U'重', 'c'}, {U'重', 'z'}, {U'解', 'x'},
    {U'查', 'z'}, {U'查', 'c'}, {U'仇', 'q'}, {U'区', 'o'}, {U'尉', 'y'}, {U'乐', 'y'}, {U'覃', 'q'}, {U'翟', 'z'},
    {U'召', 's'}, {U'秘', 'b'}, {U'万', 'm'}, {U'藏', 'z'}, {U'藏', 'c'}, {U'朝', 'c'}, {U'朝', 'z'}, {U'石', 'd'},
    {U'厦', 's'}, {U'厦', 'x'}, {U'行', 'h'}, {U'行', 'x'}, {U'车', 'j'}, {U'阿', 'e'}, {U'奇', 'j'}, {U'句', 'g'},
    {U'种', 'c'}, {U'种', 'z'}, {U'盖', 'g'}, {U'缪', 'm'}, {U'柏', 'b'}, {U'宿', 'x'}, {U'员', 'y'}, {U'都', 'd'},
    {U'传', 'z'}, {U'传', 'c'}, {U'参', 's'}, {U'参', 'c'}, {U'薄', 'b'}, {U'便', 'p'}, {U'便', 'b'}, {U'会', 'k'},
    {U'会', 'h'},
};

// Decodes one code point at `i` (advancing it); U+FFFD for a bad sequence.
char32_t Next(std::string_view s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i++]);
  if (c < 0x80) return c;
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (extra < 0) return 0xFFFD;
  char32_t cp = c & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

}  // namespace

std::string PinyinInitials(std::string_view utf8) {
  std::vector<std::string> variants{std::string()};
  for (size_t i = 0; i < utf8.size() && variants[0].size() < kMaxInitialsLength;) {
    const char32_t cp = Next(utf8, i);
    char letter = 0;
    if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) letter = static_cast<char>(cp);
    else if (cp >= 'A' && cp <= 'Z') letter = static_cast<char>(cp - 'A' + 'a');
    else if (cp >= kFirst && cp <= kLast && pinyin_internal::kInitials[cp - kFirst] != '-')
      letter = pinyin_internal::kInitials[cp - kFirst];
    if (!letter) continue;
    // Each other reading forks the variants so far, while there is room.
    std::vector<std::string> forks;
    for (const auto& alt : kAlternates) {
      if (alt.ch != cp || alt.initial == letter) continue;
      for (const auto& v : variants)
        if (variants.size() + forks.size() < static_cast<size_t>(kMaxInitialsVariants)) forks.push_back(v + alt.initial);
    }
    for (auto& v : variants) v += letter;
    for (auto& f : forks) variants.push_back(std::move(f));
  }
  if (variants[0].empty()) return "";
  // Distinct by construction: a fork differs from its origin in its last letter (an alternate is never the usual
  // initial), and forks of different origins differ where their origins did.
  std::string out = variants[0];
  for (size_t i = 1; i < variants.size(); ++i) (out += ' ') += variants[i];
  return out;
}

std::string InitialsQuery(std::string_view query) {
  if (query.empty() || query.size() > 32) return "";
  std::string out;
  for (char c : query) {
    if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
    else if (c >= 'a' && c <= 'z') out += c;
    else return "";
  }
  return out;
}

}  // namespace koi

#include "core/utf8.h"

#include <cstdint>

namespace koi {
namespace {

// Length of the well-formed sequence starting at in[i], or 0.
size_t SequenceLength(std::string_view in, size_t i) {
  auto c = static_cast<unsigned char>(in[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > in.size()) return 0;
  if (len == 1) return 1;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(in[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::string ToValidUtf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    size_t len = SequenceLength(in, i);
    auto c = static_cast<unsigned char>(in[i]);
    if (len == 0 || (c < 0x20 && c != '\t') || c == 0x7F) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(in.substr(i, len));
      i += len;
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view in) {
  for (size_t i = 0; i < in.size();) {
    size_t len = SequenceLength(in, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

size_t CodePointCount(std::string_view in) {
  size_t n = 0;
  for (unsigned char c : in)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string TrimSpace(std::string_view in) {
  const auto first = in.find_first_not_of(" \t\r\n\f\v");
  if (first == std::string_view::npos) return "";
  return std::string(in.substr(first, in.find_last_not_of(" \t\r\n\f\v") - first + 1));
}

std::string PercentEncode(std::string_view in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                 c == '.' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace koi

#include "wecom/protocol/media.h"

namespace koi::wecom {
namespace {
constexpr int64_t kMb = 1024 * 1024;
}  // namespace

int64_t MaxMediaBytes(std::string_view type) {
  if (type == "image" || type == "video") return 10 * kMb;
  if (type == "voice") return 2 * kMb;
  if (type == "file") return 20 * kMb;
  return 0;
}

bool MediaFormatOk(std::string_view type, std::string_view bytes) {
  auto starts = [bytes](std::string_view magic) { return bytes.substr(0, magic.size()) == magic; };
  if (type == "image") return starts("\xFF\xD8\xFF") || starts("\x89PNG");
  if (type == "voice") return starts("#!AMR");
  if (type == "video") return bytes.size() >= 8 && bytes.substr(4, 4) == "ftyp";
  return true;
}

std::string_view MediaFormats(std::string_view type) {
  if (type == "image") return "JPG or PNG";
  if (type == "voice") return "AMR";
  if (type == "video") return "MP4";
  return "any format";
}

}  // namespace koi::wecom

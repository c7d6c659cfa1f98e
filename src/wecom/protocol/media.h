// WeCom's temporary media (上传临时素材, POST /cgi-bin/media/upload): the types it takes, their size limits and
// formats, and how long a media id lives. Shared by Koi (which checks a file before uploading it, with reasons a
// person can act on) and koi-wecom-sandbox (which refuses what WeCom refuses, with WeCom's errcodes).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace koi::wecom {

inline constexpr int64_t kMediaLifetimeS = 3 * 86'400;  // a temporary media id is valid for 3 days
inline constexpr int64_t kMinMediaBytes = 6;            // "every file must be larger than 5 bytes"

// The most bytes media/upload takes for `type`: image 10 MB, voice 2 MB, video 10 MB, file 20 MB; 0 for any other
// type (WeCom's 40004).
int64_t MaxMediaBytes(std::string_view type);

// Whether `bytes` are in a format WeCom takes for `type`, told by their magic bytes: an image JPG (FF D8 FF) or PNG
// (89 50 4E 47), a voice AMR ("#!AMR"), a video MP4 ("ftyp" at bytes 4..7); a file anything (WeCom's 40005).
bool MediaFormatOk(std::string_view type, std::string_view bytes);

// The formats of `type` in words, for messages: "JPG or PNG", "AMR", "MP4", or "any format".
std::string_view MediaFormats(std::string_view type);

}  // namespace koi::wecom

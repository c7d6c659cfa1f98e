#include "domain/messaging/media.h"

#include <gtest/gtest.h>

namespace koi::messaging {
namespace {

const std::string kPng = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(32, 'p');
const std::string kJpg = "\xFF\xD8\xFF\xE0" + std::string(32, 'j');
const std::string kMp4 = std::string("\0\0\0\x18" "ftypisom", 12) + std::string(32, 'v');

std::string Reason(std::string_view type, std::string_view filename, std::string_view bytes) {
  Status s = CheckMedia(type, filename, bytes);
  return s.ok() ? "ok" : s.reason();
}

TEST(MediaTest, TakesWhatWecomTakesForAMassMessage) {
  EXPECT_EQ(Reason("image", "海报.png", kPng), "ok");
  EXPECT_EQ(Reason("image", "photo.jpg", kJpg), "ok");
  EXPECT_EQ(Reason("video", "开箱.mp4", kMp4), "ok");
  EXPECT_EQ(Reason("file", "报价单.pdf", "%PDF-1.7"), "ok");
  EXPECT_EQ(Reason("file", "notes.txt", kPng), "ok");  // a file may be anything
  // Only the three types a mass message's attachments use (WeCom's voice is for other messages).
  EXPECT_EQ(Reason("voice", "a.amr", "#!AMR\n" + std::string(32, 'a')), "media_type_invalid");
  EXPECT_EQ(Reason("", "a.png", kPng), "media_type_invalid");
  EXPECT_EQ(Reason("Image", "a.png", kPng), "media_type_invalid");
}

TEST(MediaTest, SizesAreWecomsPerType) {
  EXPECT_EQ(Reason("file", "a.txt", ""), "media_empty");
  EXPECT_EQ(Reason("file", "a.txt", "12345"), "media_empty");  // WeCom: more than 5 bytes
  EXPECT_EQ(Reason("file", "a.txt", "123456"), "ok");
  const std::string ten_mb(10 * 1024 * 1024, 'x');
  EXPECT_EQ(Reason("image", "a.png", kPng + ten_mb.substr(kPng.size())), "ok");
  EXPECT_EQ(Reason("image", "a.png", kPng + ten_mb), "media_too_large");
  EXPECT_EQ(Reason("video", "a.mp4", kMp4 + ten_mb), "media_too_large");
  EXPECT_EQ(Reason("file", "a.bin", ten_mb + ten_mb), "ok");
  EXPECT_EQ(Reason("file", "a.bin", ten_mb + ten_mb + "x"), "media_too_large");
  EXPECT_EQ(CheckMedia("image", "a.png", kPng + ten_mb).message(),
            "an image is at most 10 MB; this file has 10485800 bytes");
}

TEST(MediaTest, FormatsAreToldByTheirMagicBytesNotTheName) {
  EXPECT_EQ(Reason("image", "a.png", "GIF89a" + std::string(32, 'g')), "media_format_invalid");
  EXPECT_EQ(Reason("image", "a.jpg", std::string(40, 'x')), "media_format_invalid");
  EXPECT_EQ(Reason("image", "a.mp4", kJpg), "ok");
  EXPECT_EQ(Reason("video", "a.mp4", kPng), "media_format_invalid");
  EXPECT_EQ(Reason("video", "a.mov", std::string("\0\0\0\x14moov", 8) + std::string(32, 'v')), "media_format_invalid");
  EXPECT_EQ(CheckMedia("video", "a.mp4", kPng).message(), "a video must be MP4");
}

TEST(MediaTest, FilenamesAreShortPlainNames) {
  EXPECT_EQ(Reason("image", "", kPng), "media_filename_invalid");
  EXPECT_EQ(Reason("image", "   ", kPng), "media_filename_invalid");
  EXPECT_EQ(Reason("image", "../a.png", kPng), "media_filename_invalid");
  EXPECT_EQ(Reason("image", "dir\\a.png", kPng), "media_filename_invalid");
  EXPECT_EQ(Reason("image", "a\r\nb.png", kPng), "media_filename_invalid");
  EXPECT_EQ(Reason("image", "..", kPng), "media_filename_invalid");
  EXPECT_EQ(Reason("image", "\xFF.png", kPng), "media_filename_invalid");  // not UTF-8
  std::string name;
  for (int i = 0; i < 124; ++i) name += "图";
  EXPECT_EQ(Reason("image", name + ".png", kPng), "ok");  // 128 characters
  EXPECT_EQ(Reason("image", name + "x.png", kPng), "media_filename_invalid");
}

TEST(MediaTest, UploadsImagesAndVideosAsTheirDetectedType) {
  EXPECT_EQ(MediaContentType("image", "application/octet-stream", kPng), "image/png");
  EXPECT_EQ(MediaContentType("image", "image/png", kJpg), "image/jpeg");
  EXPECT_EQ(MediaContentType("video", "", kMp4), "video/mp4");
  EXPECT_EQ(MediaContentType("file", "application/pdf", "%PDF-1.7"), "application/pdf");
  EXPECT_EQ(MediaContentType("file", " text/plain; charset=utf-8 ", "hello!"), "text/plain; charset=utf-8");
  EXPECT_EQ(MediaContentType("file", "", "hello!"), "application/octet-stream");
  EXPECT_EQ(MediaContentType("file", "text/plain\r\nX-Evil: 1", "hello!"), "application/octet-stream");
}

}  // namespace
}  // namespace koi::messaging

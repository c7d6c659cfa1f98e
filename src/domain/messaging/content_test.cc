#include "domain/messaging/content.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace koi::messaging {
namespace {

const rules::RulePack& Pack(const char* name) {
  static const auto packs = rules::AllRulePacks();
  for (const auto& p : packs)
    if (p.name == name) return p;
  return packs.back();
}

std::string Reason(std::string_view json, const char* pack = "wecom-2025") {
  auto c = ParseContent(json, Pack(pack).mass);
  return c.ok() ? "ok" : c.status().reason();
}

TEST(ContentTest, RefusesWhatWecomWouldRefuseWithTheField) {
  EXPECT_EQ(Reason(R"({})"), "message_empty");
  EXPECT_EQ(Reason(R"({"text": "  \n", "attachments": []})"), "message_empty");
  EXPECT_EQ(Reason(R"([1])"), "message_empty");
  EXPECT_EQ(Reason(R"({"text": ")" + std::string(4001, 'a') + R"("})"), "message_text_too_long");
  EXPECT_EQ(Reason(R"({"text": ")" + std::string(4000, 'a') + R"("})"), "ok");
  // The name variable reserves 64 bytes.
  EXPECT_EQ(Reason(R"({"text": ")" + std::string(3950, 'a') + R"({客户名称}"})"), "message_text_too_long");
  EXPECT_EQ(Reason(R"({"attachments": [{"type": "link", "title": "t", "url": "ftp://x"}]})"), "message_link_not_http");
  EXPECT_EQ(Reason(R"j({"attachments": [{"type": "link", "title": "t", "url": "javascript:alert(1)"}]})j"),
            "message_link_not_http");
  EXPECT_EQ(Reason(R"({"attachments": [{"type": "link", "url": "https://x.cn"}]})"), "message_attachment_invalid");
  EXPECT_EQ(Reason(R"({"attachments": [{"type": "link", "title": ")" + std::string(129, 'a') +
                   R"(", "url": "https://x.cn"}]})"),
            "message_attachment_invalid");
  EXPECT_EQ(Reason(R"({"attachments": [{"type": "image"}]})"), "message_attachment_invalid");
  EXPECT_EQ(Reason(R"({"attachments": [{"type": "gif", "url": "https://x.cn/a.gif"}]})"),
            "message_attachment_invalid");
  EXPECT_EQ(Reason(R"({"attachments": [{"type": "miniprogram", "title": "店", "appid": "wx1", "page": "pages/a",
                       "cover_media_id": "m"}]})"),
            "message_attachment_invalid");
  auto c = ParseContent(R"({"attachments": [{"type": "link", "title": "t", "url": "ftp://x"}]})", Pack("wecom-2025").mass);
  EXPECT_EQ(c.status().message(), "content.attachments[0].url: must be an http:// or https:// URL");
  // An image is uploaded (media_id) or on the web (url), not both.
  EXPECT_EQ(Reason(R"({"attachments": [{"type": "image", "media_id": "m1"}]})"), "ok");
  EXPECT_EQ(Reason(R"({"attachments": [{"type": "image", "media_id": "m1", "url": "https://x.cn/a.png"}]})"),
            "message_attachment_invalid");
}

TEST(ContentTest, AnUploadedImageGoesByItsMediaId) {
  auto c = ParseContent(R"({"attachments": [{"type": "image", "media_id": "MEDIA_1"}]})", Pack("wecom-2025").mass);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(SerializeContent(*c), R"({"text":"","attachments":[{"type":"image","media_id":"MEDIA_1"}]})");
  auto wire = boost::json::parse(WireContent(*c, "")).as_object();
  EXPECT_EQ(boost::json::serialize(wire.at("attachments").as_array()[0].at("image")), R"({"media_id":"MEDIA_1"})");
}

TEST(ContentTest, TheRulePackDecidesHowManyAttachmentsAndWhichKinds) {
  const std::string two = R"({"text": "hi", "attachments": [{"type": "image", "url": "https://x.cn/a.png"},
                                                             {"type": "image", "url": "https://x.cn/b.png"}]})";
  EXPECT_EQ(Reason(two, "wecom-2025"), "ok");
  EXPECT_EQ(Reason(two, "wecom-2020"), "message_attachments_exceeded");
  EXPECT_EQ(Reason(R"({"text": "hi", "attachments": [{"type": "video", "media_id": "v"}]})", "wecom-2020"),
            "message_attachment_not_allowed");
  std::string ten = R"({"attachments": [)";
  for (int i = 0; i < 10; ++i) ten += std::string(i ? "," : "") + R"({"type": "file", "media_id": "f"})";
  EXPECT_EQ(Reason(ten + "]}"), "message_attachments_exceeded");
}

TEST(ContentTest, CanonicalFormWireFormAndTheNameVariable) {
  auto c = ParseContent(R"({"text": "亲爱的{客户名称}，新品到了", "attachments": [
      {"type": "link", "title": "新品", "url": "https://shop.example.cn/new", "cover": "https://shop.example.cn/c.png"},
      {"type": "image", "url": "https://shop.example.cn/p.png"}]})", Pack("wecom-2025").mass);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->personalised());
  EXPECT_EQ(SerializeContent(*c),
            R"({"text":"亲爱的{客户名称}，新品到了","attachments":[{"type":"link","title":"新品","url":"https://shop.example.cn/new","cover":"https://shop.example.cn/c.png"},{"type":"image","url":"https://shop.example.cn/p.png"}]})");
  auto again = ParseContent(SerializeContent(*c), Pack("wecom-2025").mass);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(SerializeContent(*again), SerializeContent(*c));
  EXPECT_EQ(RenderText(*c, "王芳"), "亲爱的王芳，新品到了");
  auto wire = boost::json::parse(WireContent(*c, "王芳")).as_object();
  EXPECT_EQ(wire.at("text").at("content").as_string(), "亲爱的王芳，新品到了");
  EXPECT_EQ(wire.at("attachments").as_array()[0].at("msgtype").as_string(), "link");
  EXPECT_EQ(wire.at("attachments").as_array()[0].at("link").at("picurl").as_string(), "https://shop.example.cn/c.png");
  EXPECT_EQ(wire.at("attachments").as_array()[1].at("image").at("pic_url").as_string(), "https://shop.example.cn/p.png");
  // A name longer than the reserve is cut on a character boundary.
  std::string long_name;
  for (int i = 0; i < 30; ++i) long_name += "名";  // 90 bytes
  EXPECT_EQ(RenderText(*c, long_name), "亲爱的" + long_name.substr(0, 63) + "，新品到了");
}

}  // namespace
}  // namespace koi::messaging

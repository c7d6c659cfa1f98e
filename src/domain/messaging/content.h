// The content of a mass message (群发): text with an optional customer-name variable, plus attachments, validated
// against the team's rule pack before anything is planned or sent, and rendered into WeCom's wire form.
//
// Koi's form (api/openapi.yaml MessageContent):
//   {"text": "亲爱的{客户名称}，…",
//    "attachments": [{"type": "image", "url": "https://…"},
//                    {"type": "link", "title": "…", "description": "…", "url": "https://…", "cover": "https://…"},
//                    {"type": "miniprogram", "appid": "wx…", "page": "pages/a.html", "title": "…", "cover_media_id": "…"},
//                    {"type": "video", "media_id": "…"}, {"type": "file", "media_id": "…"}]}
// Limits are WeCom's (wecom-api.md §5.4, §7.1): text ≤4000 bytes, link title ≤128 bytes and description ≤512
// bytes, mini program title ≤64 bytes, URLs http(s) and ≤2048 bytes; the number and kinds of attachments are the
// rule pack's (wecom-2020: one of image, link, mini program; later: up to 9 of any kind).
//
// The variable: WeCom sends one text per add_msg_template call, so a personalised text makes one template per
// distinct rendered text (in practice one per customer, and the sending employee confirms each). The planner
// states that, and caps personalised sends (kMaxPersonalisedRecipients).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "rules/rule_pack.h"

namespace koi::messaging {

inline constexpr std::string_view kNameVariable = "{客户名称}";
inline constexpr size_t kMaxTextBytes = 4000;
inline constexpr size_t kMaxNameBytes = 64;  // what the text budget reserves for a rendered name
inline constexpr int64_t kMaxPersonalisedRecipients = 2000;

struct Attachment {
  rules::AttachmentKind kind = rules::AttachmentKind::kImage;
  std::string url;          // image, link
  std::string title;        // link, mini program
  std::string description;  // link
  std::string cover;        // link: cover image URL
  std::string appid, page, cover_media_id;  // mini program
  std::string media_id;     // video, file; image when uploaded (else url)
};

struct Content {
  std::string text;
  std::vector<Attachment> attachments;
  bool personalised() const { return text.find(kNameVariable) != std::string::npos; }
};

std::string_view AttachmentKindName(rules::AttachmentKind kind);  // "image", "link", "miniprogram", "video", "file"

// Parses and validates Koi's JSON form. Errors (InvalidArgument) name the field: message_empty,
// message_text_too_long, message_attachments_exceeded, message_attachment_not_allowed (a kind the pack does not
// allow), message_link_not_http, message_attachment_invalid (a missing or oversize field).
Result<Content> ParseContent(std::string_view json, const rules::MassMessageRules& rules);

// Koi's JSON form, canonical (what is stored).
std::string SerializeContent(const Content& content);

// The text as a customer named `name` receives it.
std::string RenderText(const Content& content, std::string_view name);

// WeCom's wire form for add_msg_template ({"text": {"content"}, "attachments": [...]}) as JSON text.
std::string WireContent(const Content& content, std::string_view name);

}  // namespace koi::messaging

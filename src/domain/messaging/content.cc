#include "domain/messaging/content.h"

#include <boost/json.hpp>

#include "core/utf8.h"

namespace koi::messaging {
namespace {

namespace json = boost::json;
using rules::AttachmentKind;

constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxLinkTitleBytes = 128;
constexpr size_t kMaxLinkDescriptionBytes = 512;
constexpr size_t kMaxMiniTitleBytes = 64;
constexpr size_t kMaxIdBytes = 256;

Status Invalid(const std::string& path, const std::string& what) {
  return Status::InvalidArgument("message_attachment_invalid", path + ": " + what);
}

bool IsHttpUrl(std::string_view url) {
  auto rest = url.starts_with("https://") ? url.substr(8) : url.starts_with("http://") ? url.substr(7) : "";
  if (rest.empty() || rest.front() == '/') return false;
  for (char c : url)
    if (static_cast<unsigned char>(c) <= ' ') return false;
  return true;
}

// A string field of an attachment: required or optional, at most `max` bytes, valid UTF-8.
Status Field(const json::object& o, const std::string& path, std::string_view key, bool required, size_t max,
             std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    if (required) return Invalid(path + "." + std::string(key), "required");
    return Status::Ok();
  }
  if (!it->value().is_string()) return Invalid(path + "." + std::string(key), "must be a string");
  out = std::string(it->value().as_string());
  if (!IsValidUtf8(out)) return Invalid(path + "." + std::string(key), "is not valid UTF-8");
  if (required && out.empty()) return Invalid(path + "." + std::string(key), "required");
  if (out.size() > max)
    return Invalid(path + "." + std::string(key), "at most " + std::to_string(max) + " bytes");
  return Status::Ok();
}

Status UrlField(const json::object& o, const std::string& path, std::string_view key, bool required,
                std::string& out) {
  KOI_RETURN_IF_ERROR(Field(o, path, key, required, kMaxUrlBytes, out));
  if (!out.empty() && !IsHttpUrl(out))
    return Status::InvalidArgument("message_link_not_http",
                                   path + "." + std::string(key) + ": must be an http:// or https:// URL");
  return Status::Ok();
}

bool KindFromName(std::string_view name, AttachmentKind& kind) {
  for (auto k : {AttachmentKind::kImage, AttachmentKind::kLink, AttachmentKind::kMiniProgram, AttachmentKind::kVideo,
                 AttachmentKind::kFile})
    if (AttachmentKindName(k) == name) {
      kind = k;
      return true;
    }
  return false;
}

}  // namespace

std::string_view AttachmentKindName(AttachmentKind kind) {
  switch (kind) {
    case AttachmentKind::kImage: return "image";
    case AttachmentKind::kLink: return "link";
    case AttachmentKind::kMiniProgram: return "miniprogram";
    case AttachmentKind::kVideo: return "video";
    case AttachmentKind::kFile: return "file";
  }
  return "";
}

Result<Content> ParseContent(std::string_view text, const rules::MassMessageRules& rules) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::InvalidArgument("message_empty", "content: must be a JSON object");
  const auto& o = v.as_object();
  Content c;
  if (auto it = o.find("text"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_string()) return Status::InvalidArgument("message_empty", "content.text: must be a string");
    c.text = std::string(it->value().as_string());
  }
  if (!IsValidUtf8(c.text)) return Status::InvalidArgument("message_empty", "content.text: is not valid UTF-8");
  // Trailing and leading blanks are kept (they are the operator's), but a text of blanks is no text.
  const bool blank = c.text.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) c.text.clear();
  size_t budget = c.text.size();
  for (size_t at = c.text.find(kNameVariable); at != std::string::npos; at = c.text.find(kNameVariable, at + 1))
    budget = budget - kNameVariable.size() + kMaxNameBytes;
  if (budget > kMaxTextBytes)
    return Status::InvalidArgument("message_text_too_long",
                                   "content.text: at most " + std::to_string(kMaxTextBytes) +
                                       " bytes (a customer name counts as " + std::to_string(kMaxNameBytes) + ")");
  const json::array* list = nullptr;
  if (auto it = o.find("attachments"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_array())
      return Status::InvalidArgument("message_attachment_invalid", "content.attachments: must be a list");
    list = &it->value().as_array();
  }
  if (c.text.empty() && (!list || list->empty()))
    return Status::InvalidArgument("message_empty", "content: a text or an attachment is required");
  if (list && static_cast<int64_t>(list->size()) > rules.max_attachments)
    return Status::InvalidArgument("message_attachments_exceeded",
                                   "content.attachments: at most " + std::to_string(rules.max_attachments) +
                                       " under the team's rule pack");
  for (size_t i = 0; list && i < list->size(); ++i) {
    const std::string path = "content.attachments[" + std::to_string(i) + "]";
    if (!(*list)[i].is_object()) return Invalid(path, "must be an object");
    const auto& a = (*list)[i].as_object();
    std::string type;
    KOI_RETURN_IF_ERROR(Field(a, path, "type", true, 32, type));
    Attachment att;
    if (!KindFromName(type, att.kind)) return Invalid(path + ".type", "unknown type \"" + type + "\"");
    bool allowed = false;
    for (auto k : rules.attachment_kinds) allowed |= k == att.kind;
    if (!allowed)
      return Status::InvalidArgument("message_attachment_not_allowed",
                                     path + ".type: \"" + type + "\" is not allowed under the team's rule pack");
    switch (att.kind) {
      case AttachmentKind::kImage:
        // An uploaded image (media_id) or one on the web (url), not both.
        KOI_RETURN_IF_ERROR(Field(a, path, "media_id", false, kMaxIdBytes, att.media_id));
        KOI_RETURN_IF_ERROR(UrlField(a, path, "url", att.media_id.empty(), att.url));
        if (!att.media_id.empty() && !att.url.empty())
          return Invalid(path, "give the image's media_id or its url, not both");
        break;
      case AttachmentKind::kLink:
        KOI_RETURN_IF_ERROR(Field(a, path, "title", true, kMaxLinkTitleBytes, att.title));
        KOI_RETURN_IF_ERROR(UrlField(a, path, "url", true, att.url));
        KOI_RETURN_IF_ERROR(Field(a, path, "description", false, kMaxLinkDescriptionBytes, att.description));
        KOI_RETURN_IF_ERROR(UrlField(a, path, "cover", false, att.cover));
        break;
      case AttachmentKind::kMiniProgram:
        KOI_RETURN_IF_ERROR(Field(a, path, "title", true, kMaxMiniTitleBytes, att.title));
        KOI_RETURN_IF_ERROR(Field(a, path, "appid", true, kMaxIdBytes, att.appid));
        KOI_RETURN_IF_ERROR(Field(a, path, "page", true, kMaxUrlBytes, att.page));
        KOI_RETURN_IF_ERROR(Field(a, path, "cover_media_id", true, kMaxIdBytes, att.cover_media_id));
        if (!att.page.ends_with(".html")) return Invalid(path + ".page", "a mini program page path ends in .html");
        break;
      case AttachmentKind::kVideo:
      case AttachmentKind::kFile:
        KOI_RETURN_IF_ERROR(Field(a, path, "media_id", true, kMaxIdBytes, att.media_id));
        break;
    }
    c.attachments.push_back(std::move(att));
  }
  return c;
}

std::string SerializeContent(const Content& c) {
  json::array list;
  for (const auto& a : c.attachments) {
    json::object o{{"type", AttachmentKindName(a.kind)}};
    switch (a.kind) {
      case AttachmentKind::kImage:
        if (a.media_id.empty())
          o["url"] = a.url;
        else
          o["media_id"] = a.media_id;
        break;
      case AttachmentKind::kLink:
        o["title"] = a.title;
        o["url"] = a.url;
        if (!a.description.empty()) o["description"] = a.description;
        if (!a.cover.empty()) o["cover"] = a.cover;
        break;
      case AttachmentKind::kMiniProgram:
        o["title"] = a.title;
        o["appid"] = a.appid;
        o["page"] = a.page;
        o["cover_media_id"] = a.cover_media_id;
        break;
      case AttachmentKind::kVideo:
      case AttachmentKind::kFile: o["media_id"] = a.media_id; break;
    }
    list.push_back(std::move(o));
  }
  return json::serialize(json::object{{"text", c.text}, {"attachments", std::move(list)}});
}

std::string RenderText(const Content& c, std::string_view name) {
  std::string out;
  std::string_view rest = c.text;
  for (size_t at = rest.find(kNameVariable); at != std::string_view::npos; at = rest.find(kNameVariable)) {
    out.append(rest.substr(0, at));
    // A name longer than the reserved budget is cut on a character boundary.
    std::string_view n = name.substr(0, kMaxNameBytes);
    while (!n.empty() && !IsValidUtf8(n)) n.remove_suffix(1);
    out.append(n);
    rest.remove_prefix(at + kNameVariable.size());
  }
  out.append(rest);
  return out;
}

std::string WireContent(const Content& c, std::string_view name) {
  json::object body;
  if (!c.text.empty()) body["text"] = json::object{{"content", RenderText(c, name)}};
  json::array list;
  for (const auto& a : c.attachments) {
    json::object o{{"msgtype", AttachmentKindName(a.kind)}};
    switch (a.kind) {
      case AttachmentKind::kImage:
        o["image"] = a.media_id.empty() ? json::object{{"pic_url", a.url}} : json::object{{"media_id", a.media_id}};
        break;
      case AttachmentKind::kLink:
        o["link"] = json::object{{"title", a.title}, {"picurl", a.cover}, {"desc", a.description}, {"url", a.url}};
        break;
      case AttachmentKind::kMiniProgram:
        o["miniprogram"] = json::object{
            {"title", a.title}, {"pic_media_id", a.cover_media_id}, {"appid", a.appid}, {"page", a.page}};
        break;
      case AttachmentKind::kVideo: o["video"] = json::object{{"media_id", a.media_id}}; break;
      case AttachmentKind::kFile: o["file"] = json::object{{"media_id", a.media_id}}; break;
    }
    list.push_back(std::move(o));
  }
  if (!list.empty()) body["attachments"] = std::move(list);
  return json::serialize(body);
}

}  // namespace koi::messaging

#include "http/message_routes.h"

#include <boost/json.hpp>

#include "http/envelope.h"
#include "http/route_helpers.h"
#include "http/target.h"
#include "rules/rule_pack.h"

namespace koi::http {
namespace {

namespace json = boost::json;

json::value ParsedOrNull(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

json::object MessageJson(const messaging::Message& m) {
  json::object skipped;
  for (const auto& [reason, n] : m.skipped) skipped[reason] = n;
  json::array senders;
  for (const auto& s : m.senders)
    senders.push_back(json::object{{"userid", s.userid}, {"name", s.name}, {"recipients", s.recipients},
                                   {"skipped", s.skipped}, {"duplicates", s.duplicates}, {"templates", s.templates},
                                   {"confirmed_templates", s.confirmed_templates}, {"sent", s.sent},
                                   {"not_friend", s.not_friend}, {"over_limit", s.over_limit}, {"failed", s.failed}});
  json::array delivery;
  for (const auto& [hour, n] : m.delivery) delivery.push_back(json::object{{"hour", hour}, {"sent", n}});
  return json::object{{"id", m.id},
                      {"kind", m.kind},
                      {"audience", m.audience},
                      {"title", m.title},
                      {"content", ParsedOrNull(m.content)},
                      {"target", ParsedOrNull(m.target)},
                      {"state", m.state},
                      {"rule_pack", m.rule_pack},
                      {"send_at", m.send_at_ms},
                      {"created_by", m.created_by},
                      {"created_by_name", m.created_by_name},
                      {"created_at", m.created_at_ms},
                      {"updated_at", m.updated_at_ms},
                      {"submitted_at", Opt(m.submitted_at_ms)},
                      {"settled_at", Opt(m.settled_at_ms)},
                      {"cancelled_at", Opt(m.cancelled_at_ms)},
                      {"error", m.error},
                      {"targeted", m.targeted},
                      {"recipients", m.recipients},
                      {"skipped", std::move(skipped)},
                      {"personalised", m.personalised},
                      {"templates", m.templates},
                      {"chunks_submitted", m.chunks_submitted},
                      {"chunks_failed", m.chunks_failed},
                      {"sent", m.sent},
                      {"not_friend", m.not_friend},
                      {"over_limit", m.over_limit},
                      {"failed", m.failed},
                      {"pending", m.pending},
                      {"reminders_left", m.reminders_left},
                      {"senders", std::move(senders)},
                      {"delivery", std::move(delivery)}};
}

// The draft a POST/PUT body describes: {kind, audience, title, content: {...}, target: {segment_id | rule |
// customer_ids | group_owners | group_tag_ids | chat_ids}}.
Result<messaging::Draft> DraftOf(const json::object& o) {
  messaging::Draft d;
  d.kind = StrField(o, "kind");
  if (d.kind.empty()) d.kind = "enterprise";
  d.audience = StrField(o, "audience");
  if (d.audience.empty()) d.audience = "customers";
  d.title = StrField(o, "title");
  const auto* content = o.if_contains("content");
  if (!content || !content->is_object())
    return Status::InvalidArgument("message_empty", "content: a text or an attachment is required");
  d.content = json::serialize(*content);
  const auto* target = o.if_contains("target");
  if (!target || !target->is_object())
    return Status::InvalidArgument("message_target_invalid", "target: give one of segment_id, rule and customer_ids");
  const auto& t = target->as_object();
  if (const auto* s = t.if_contains("segment_id"); s && !s->is_null()) {
    if (!s->is_int64()) return Status::InvalidArgument("message_target_invalid", "target.segment_id: must be an id");
    d.target.segment_id = s->as_int64();
  }
  if (const auto* r = t.if_contains("rule"); r && !r->is_null()) d.target.rule = json::serialize(*r);
  KOI_ASSIGN_OR_RETURN(d.target.customer_ids, StrList(t, "customer_ids"));
  KOI_ASSIGN_OR_RETURN(d.target.group_owners, StrList(t, "group_owners"));
  KOI_ASSIGN_OR_RETURN(d.target.group_tag_ids, IdList(t, "group_tag_ids"));
  KOI_ASSIGN_OR_RETURN(d.target.chat_ids, StrList(t, "chat_ids"));
  return d;
}

json::object SettingJson(const messaging::RulePackSetting& s) {
  json::object overrides;
  for (const auto& [k, v] : s.overrides) overrides[k] = v;
  json::array packs;
  for (const auto& p : rules::AllRulePacks())
    packs.push_back(json::object{{"name", p.name}, {"title", p.title}, {"source", p.source}});
  json::array values;
  auto base = rules::FindRulePack(s.pack);
  for (const auto& key : rules::OverrideKeys()) {
    if (!key.starts_with("mass.")) continue;  // the settings page shows the mass-message rules
    auto now = rules::RuleValue(s.effective, key);
    auto was = base.ok() ? rules::RuleValue(*base, key) : now;
    values.push_back(json::object{{"key", key}, {"value", now.ok() ? *now : 0}, {"base", was.ok() ? *was : 0}});
  }
  return json::object{{"pack", s.pack}, {"overrides", std::move(overrides)}, {"packs", std::move(packs)},
                      {"values", std::move(values)}};
}

// RFC 4180 field.
std::string Csv(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

void AddMessageRoutes(Router& router, const AuthGuard& guard, messaging::MessagingService& messages,
                      messaging::MediaService& media) {
  const GuardOptions scrm{.app = "scrm"};
  auto& svc = messages;

  router.Add("GET", "/api/v1/scrm/rule-pack", guard.Authed([&svc](Request&, const accounts::Principal& who) {
    auto s = svc.RulePackOf(who.team);
    return s.ok() ? JsonOk(SettingJson(*s)) : JsonError(s.status());
  }, scrm));
  router.Add("PUT", "/api/v1/scrm/rule-pack", guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    std::map<std::string, int64_t> overrides;
    if (const auto* v = o->if_contains("overrides"); v && !v->is_null()) {
      if (!v->is_object())
        return JsonError(Status::InvalidArgument("invalid_rule_override", "overrides: must be an object of integers"));
      for (const auto& [k, x] : v->as_object()) {
        if (!x.is_int64())
          return JsonError(Status::InvalidArgument("invalid_rule_override", std::string(k) + ": must be an integer"));
        overrides[std::string(k)] = x.as_int64();
      }
    }
    auto s = svc.SetRulePack(who, StrField(*o, "pack"), overrides);
    return s.ok() ? JsonOk(SettingJson(*s)) : JsonError(s.status());
  }, scrm));

  router.Add("GET", "/api/v1/scrm/messages", guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto page = svc.List(who, r.Query("state"), paging->page, paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& m : page->items) items.push_back(MessageJson(m));
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}});
  }, scrm));
  router.Add("POST", "/api/v1/scrm/messages", guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto d = DraftOf(*o);
    if (!d.ok()) return JsonError(d.status());
    auto m = svc.Create(who, *d);
    return m.ok() ? JsonOk(MessageJson(*m), 201) : JsonError(m.status());
  }, scrm));
  // The plan of a draft that is not saved: the composer's live preview while the target changes.
  router.Add("POST", "/api/v1/scrm/messages/preview", guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto d = DraftOf(*o);
    if (!d.ok()) return JsonError(d.status());
    auto p = svc.Preview(who, *d);
    if (!p.ok()) return JsonError(p.status());
    json::object skipped;
    for (const auto& [reason, n] : p->skipped) skipped[reason] = n;
    json::array senders;
    for (const auto& s : p->senders)
      senders.push_back(json::object{{"userid", s.userid}, {"name", s.name}, {"recipients", s.recipients},
                                     {"skipped", s.skipped}, {"duplicates", s.duplicates}});
    return JsonOk(json::object{{"targeted", p->targeted}, {"recipients", p->recipients},
                               {"skipped", std::move(skipped)}, {"senders", std::move(senders)},
                               {"took_us", p->expand_us + p->load_us + p->plan_us}});
  }, scrm));
  router.Add("GET", "/api/v1/scrm/messages/:id", guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "message_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto m = svc.Get(who, *id);
    return m.ok() ? JsonOk(MessageJson(*m)) : JsonError(m.status());
  }, scrm));
  router.Add("PUT", "/api/v1/scrm/messages/:id", guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "message_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto d = DraftOf(*o);
    if (!d.ok()) return JsonError(d.status());
    auto m = svc.Update(who, *id, *d);
    return m.ok() ? JsonOk(MessageJson(*m)) : JsonError(m.status());
  }, scrm));
  router.Add("DELETE", "/api/v1/scrm/messages/:id", guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "message_not_found");
    if (!id.ok()) return JsonError(id.status());
    Status s = svc.DeleteDraft(who, *id);
    return s.ok() ? JsonOk(json::object{{"deleted", true}}) : JsonError(s);
  }, scrm));
  router.Add("POST", "/api/v1/scrm/messages/:id/send", guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "message_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    int64_t at = 0;
    if (const auto* v = o->if_contains("send_at"); v && !v->is_null()) {
      if (!v->is_int64())
        return JsonError(Status::InvalidArgument("message_schedule_past", "send_at: milliseconds since the epoch"));
      at = v->as_int64();
      if (at <= 0) return JsonError(Status::InvalidArgument("message_schedule_past", "send_at: must be in the future"));
    }
    auto m = svc.Send(who, *id, at);
    return m.ok() ? JsonOk(MessageJson(*m), 202) : JsonError(m.status());
  }, scrm));
  const auto action = [&svc, &guard, &router, scrm](const char* path,
                                                     Result<messaging::Message> (messaging::MessagingService::*fn)(
                                                         const accounts::Principal&, int64_t)) {
    router.Add("POST", path, guard.Authed([&svc, fn](Request& r, const accounts::Principal& who) {
      auto id = IdParam(r, "id", "message_not_found");
      if (!id.ok()) return JsonError(id.status());
      auto m = (svc.*fn)(who, *id);
      return m.ok() ? JsonOk(MessageJson(*m)) : JsonError(m.status());
    }, scrm));
  };
  action("/api/v1/scrm/messages/:id/cancel", &messaging::MessagingService::Cancel);
  action("/api/v1/scrm/messages/:id/remind", &messaging::MessagingService::Remind);
  action("/api/v1/scrm/messages/:id/refresh", &messaging::MessagingService::Refresh);

  router.Add("GET", "/api/v1/scrm/messages/:id/recipients",
             guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "message_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto status = IntParam(r, "status");
    if (!status.ok()) return JsonError(status.status());
    messaging::RecipientQuery q{.skip = r.Query("skip"), .status = std::nullopt, .userid = r.Query("userid"),
                                .page = paging->page, .page_size = paging->page_size};
    if (*status) q.status = static_cast<int>(**status);
    auto page = svc.Recipients(who, *id, q);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& x : page->items)
      items.push_back(json::object{{"external_userid", x.external_userid}, {"name", x.name}, {"userid", x.userid},
                                   {"employee_name", x.employee_name}, {"skip", x.skip}, {"status", x.status},
                                   {"send_time", Opt(x.send_time_ms)}});
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}});
  }, scrm));
  // Every recipient as CSV (UTF-8 with a BOM so spreadsheet programs read the Chinese names).
  router.Add("GET", "/api/v1/scrm/messages/:id/recipients.csv",
             guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "message_not_found");
    if (!id.ok()) return JsonError(id.status());
    std::string out = "\xEF\xBB\xBF" "external_userid,name,userid,employee_name,skip,status,send_time\r\n";
    for (int page = 1;; ++page) {
      auto p = svc.Recipients(who, *id, {.skip = "", .status = std::nullopt, .userid = "", .page = page,
                                         .page_size = 100});
      if (!p.ok()) return JsonError(p.status());
      for (const auto& x : p->items)
        out += Csv(x.external_userid) + "," + Csv(x.name) + "," + Csv(x.userid) + "," + Csv(x.employee_name) + "," +
               Csv(x.skip) + "," + std::to_string(x.status) + "," +
               (x.send_time_ms ? std::to_string(*x.send_time_ms) : std::string()) + "\r\n";
      if (p->items.size() < 100) break;
    }
    Response resp;
    resp.status = 200;
    resp.content_type = "text/csv; charset=utf-8";
    resp.SetHeader("content-disposition", "attachment; filename=\"message-" + std::to_string(*id) + "-recipients.csv\"");
    resp.body = std::move(out);
    return resp;
  }, scrm));
  router.Add("GET", "/api/v1/scrm/customers/:external_userid/messages",
             guard.Authed([&svc](Request& r, const accounts::Principal& who) {
    auto list = svc.OfCustomer(who, r.path_params.at("external_userid"));
    if (!list.ok()) return JsonError(list.status());
    json::array items;
    for (const auto& m : *list)
      items.push_back(json::object{{"message_id", m.message_id}, {"title", m.title}, {"userid", m.userid},
                                   {"status", m.status}, {"at", m.at_ms}});
    return JsonOk(json::object{{"items", std::move(items)}});
  }, scrm));

  // The kept file of a media id, for the console's preview. Only an image (PNG or JPEG, told by its bytes at upload)
  // is shown inline; anything else is a download with a neutral type, so an uploaded file never runs as a page here.
  router.Add("GET", "/api/v1/scrm/media/file", guard.Authed([&media](Request& r, const accounts::Principal& who) {
    auto f = media.File(who.team, r.Query("media_id"));
    if (!f.ok()) return JsonError(f.status());
    Response resp;
    resp.status = 200;
    const bool image = f->type == "image";
    resp.content_type = image ? f->content_type : "application/octet-stream";
    resp.SetHeader("content-disposition", image ? "inline" : "attachment");
    resp.SetHeader("cache-control", "private, max-age=86400");
    resp.body = std::move(f->bytes);
    return resp;
  }, scrm));

  // An attachment's file, uploaded to WeCom for its media id. The body is the file itself (its MIME type the
  // Content-Type), not JSON, so the console sends it as it is; type and filename come in the query.
  router.Add("POST", "/api/v1/scrm/media", guard.Authed([&media](Request& r, const accounts::Principal& who) {
    auto m = media.Upload(who, r.Query("type"), r.Query("filename"), r.Header("content-type"), r.body);
    if (!m.ok()) return JsonError(m.status());
    return JsonOk(json::object{{"id", m->id}, {"media_id", m->media_id}, {"type", m->type},
                               {"filename", m->filename}, {"size", m->size}, {"expires_at", m->expires_at_ms}},
                  201);
  }, scrm));

  // The media library (素材库): the team's uploaded files, newest first, paged on the server.
  router.Add("GET", "/api/v1/scrm/media", guard.Authed([&media](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto page = media.List(who.team, r.Query("type"), r.Query("q"), paging->page, paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& it : page->items)
      items.push_back(json::object{{"id", it.media.id},
                                   {"media_id", it.media.media_id},
                                   {"type", it.media.type},
                                   {"filename", it.media.filename},
                                   {"size", it.media.size},
                                   {"expires_at", it.media.expires_at_ms},
                                   {"uploaded_at", it.uploaded_at_ms},
                                   {"created_at", it.created_at_ms},
                                   {"created_by", it.created_by_id},
                                   {"created_by_name", it.created_by}});
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}});
  }, scrm));
  router.Add("DELETE", "/api/v1/scrm/media/:id", guard.Authed([&media](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "media_not_found");
    if (!id.ok()) return JsonError(id.status());
    Status s = media.Delete(who, *id, AuthGuard::ClientOf(r));
    return s.ok() ? JsonOk(json::object{{"id", *id}}) : JsonError(s);
  }, scrm));
}

}  // namespace koi::http

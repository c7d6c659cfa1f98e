#include "http/customer_routes.h"

#include <charconv>

#include <boost/json.hpp>

#include "http/customer_json.h"
#include "http/envelope.h"
#include "http/route_helpers.h"
#include "http/target.h"

namespace koi::http {

namespace json = boost::json;

json::array TagsJson(const std::vector<customers::TagRef>& tags) {
  json::array out;
  for (const auto& t : tags) out.push_back(json::object{{"tag_id", t.tag_id}, {"name", t.name}, {"group_name", t.group_name}});
  return out;
}

json::object FollowJson(const customers::Follow& f) {
  json::array mobiles;
  for (const auto& m : f.remark_mobiles) mobiles.push_back(json::string(m));
  return json::object{{"userid", f.userid},
                      {"employee_name", f.employee_name},
                      {"remark", f.remark},
                      {"description", f.description},
                      {"add_time", f.add_time_ms},
                      {"add_way", f.add_way},
                      {"state", f.state},
                      {"remark_mobiles", std::move(mobiles)},
                      {"remark_corp_name", f.remark_corp_name},
                      {"active", f.active},
                      {"deleted_by", f.deleted_by},
                      {"deleted_at", Opt(f.deleted_at_ms)},
                      {"tags", TagsJson(f.tags)}};
}

json::object TagGroupsJson(const std::vector<customers::TagGroup>& groups) {
  json::array items;
  for (const auto& g : groups)
    items.push_back(json::object{{"group_id", g.group_id}, {"name", g.name}, {"tags", TagsJson(g.tags)}});
  return json::object{{"items", std::move(items)}};
}

namespace {

// A comma-separated list parameter ("a,b,c"), empty items dropped; at most 200 items.
Result<std::vector<std::string>> ListParam(const Request& r, const std::string& name) {
  std::vector<std::string> out;
  const std::string text = r.Query(name);
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (out.size() > 200) return Status::InvalidArgument("invalid_filter", name + " lists at most 200 values");
  return out;
}

Result<customers::CustomerFilter> FilterOf(const Request& r) {
  customers::CustomerFilter f;
  const std::string mode = r.Query("mode", "customer");
  if (mode != "customer" && mode != "relationship")
    return Status::InvalidArgument("invalid_filter", "mode must be customer or relationship");
  f.mode = mode == "relationship" ? customers::ListMode::kRelationship : customers::ListMode::kCustomer;
  f.query = r.Query("q");
  if (f.query.size() > 100) return Status::InvalidArgument("invalid_filter", "the search text is too long");
  KOI_ASSIGN_OR_RETURN(f.userids, ListParam(r, "userid"));
  KOI_ASSIGN_OR_RETURN(f.tag_ids, ListParam(r, "tag"));
  KOI_ASSIGN_OR_RETURN(auto personal, ListParam(r, "personal_tag"));
  for (const auto& id : personal) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
    if (ec != std::errc() || end != id.data() + id.size() || v <= 0)
      return Status::InvalidArgument("invalid_filter", "personal_tag lists personal tag ids");
    f.personal_tag_ids.push_back(v);
  }
  KOI_ASSIGN_OR_RETURN(auto options, ListParam(r, "field_option"));
  for (const auto& id : options) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
    if (ec != std::errc() || end != id.data() + id.size() || v <= 0)
      return Status::InvalidArgument("invalid_filter", "field_option lists options of custom fields by id");
    f.field_option_ids.push_back(v);
  }
  KOI_ASSIGN_OR_RETURN(f.department, IntParam(r, "department"));
  KOI_ASSIGN_OR_RETURN(f.stage_id, IntParam(r, "stage"));
  KOI_ASSIGN_OR_RETURN(f.added_from_ms, IntParam(r, "added_from"));
  KOI_ASSIGN_OR_RETURN(f.added_to_ms, IntParam(r, "added_to"));
  KOI_ASSIGN_OR_RETURN(auto add_way, IntParam(r, "add_way"));
  if (add_way) f.add_way = static_cast<int>(*add_way);
  KOI_ASSIGN_OR_RETURN(auto gender, IntParam(r, "gender"));
  if (gender && (*gender < 0 || *gender > 2)) return Status::InvalidArgument("invalid_filter", "gender must be 0, 1 or 2");
  if (gender) f.gender = static_cast<int>(*gender);
  f.state = r.Query("state");
  f.status = r.Query("status");
  f.sort = r.Query("sort", "-add_time");
  return f;
}

json::object RowJson(const customers::CustomerRow& c) {
  json::array follows;
  for (const auto& f : c.follows) follows.push_back(FollowJson(f));
  return json::object{{"external_userid", c.external_userid},
                      {"name", c.name},
                      {"type", c.type},
                      {"gender", c.gender},
                      {"corp_name", c.corp_name},
                      {"last_add_time", c.last_add_time_ms},
                      {"active_follows", c.active_follows},
                      {"follows", std::move(follows)},
                      {"tags", TagsJson(c.tags)},
                      {"stage_id", Opt(c.stage_id)},
                      {"stage_name", c.stage_name}};
}

json::object ScopeJson(const customers::Scope& s) {
  return json::object{{"all", s.all}, {"bound", s.bound}, {"userid", s.userid}, {"data_scope", s.data_scope}};
}

json::object NoteJson(const customers::Note& n) {
  return json::object{{"id", n.id}, {"account_id", n.account_id}, {"author_name", n.author_name},
                      {"body", n.body}, {"created_at", n.created_at_ms}};
}

json::object FieldJson(const customers::CustomField& f) {
  json::array options;
  for (const auto& o : f.options) options.push_back(json::object{{"id", o.id}, {"label", o.label}});
  return json::object{{"id", f.id}, {"name", f.name}, {"kind", customers::FieldKindName(f.kind)},
                      {"options", std::move(options)}, {"sort", f.sort}, {"customers", f.customers}};
}

json::array FieldValuesJson(const std::vector<customers::FieldValue>& values) {
  json::array out;
  for (const auto& v : values) {
    json::array ids;
    for (int64_t id : v.option_ids) ids.push_back(id);
    out.push_back(json::object{{"field_id", v.field_id}, {"value", v.value}, {"option_ids", std::move(ids)}});
  }
  return out;
}

// {"values": [{"field_id": 1, "value": "…"} | {"field_id": 2, "option_ids": [5, 6]}]}
Result<std::vector<customers::FieldEdit>> FieldEditsOf(const json::object& o) {
  const Status bad = Status::InvalidArgument(
      "invalid_argument", "values is a list of {field_id, value} or {field_id, option_ids}");
  const json::value* v = o.if_contains("values");
  if (!v || !v->is_array()) return bad;
  if (v->as_array().size() > customers::kMaxFields) return bad;
  std::vector<customers::FieldEdit> out;
  for (const auto& item : v->as_array()) {
    if (!item.is_object()) return bad;
    const auto& e = item.as_object();
    const json::value* id = e.if_contains("field_id");
    if (!id || !id->is_int64() || id->as_int64() <= 0) return bad;
    customers::FieldEdit edit{.field_id = id->as_int64(), .value = {}, .option_ids = {}};
    if (const json::value* text = e.if_contains("value"); text && !text->is_null()) {
      if (!text->is_string()) return bad;
      edit.value = std::string(text->as_string());
    }
    if (e.contains("option_ids")) {
      auto ids = IdList(e, "option_ids");
      if (!ids.ok()) return bad;
      edit.option_ids = std::move(*ids);
    }
    out.push_back(std::move(edit));
  }
  return out;
}

json::object BindingJson(const customers::Binding& b) {
  return json::object{{"account_id", b.account_id}, {"userid", b.userid}, {"employee_name", b.employee_name},
                      {"data_scope", b.data_scope}, {"bound_at", b.bound_at_ms}};
}

json::array PersonalTagsJson(const std::vector<customers::PersonalTag>& tags) {
  json::array out;
  for (const auto& t : tags)
    out.push_back(json::object{{"id", t.id}, {"name", t.name}, {"account_id", t.account_id},
                               {"owner_name", t.owner_name}, {"customers", t.customers},
                               {"created_at", t.created_at_ms}});
  return out;
}

json::object BulkJson(const customers::BulkTagState& b) {
  json::array failures;
  for (const auto& f : b.failures)
    failures.push_back(json::object{{"external_userid", f.external_userid}, {"customer_name", f.customer_name},
                                    {"userid", f.userid}, {"employee_name", f.employee_name}, {"reason", f.reason}});
  return json::object{{"job_id", b.job_id},
                      {"state", b.state},
                      {"total", b.total},
                      {"succeeded", b.succeeded},
                      {"failed", b.failed},
                      {"last_error_reason", b.last_error_reason},
                      {"created_at", b.created_at_ms},
                      {"finished_at", Opt(b.finished_at_ms)},
                      {"failures", std::move(failures)},
                      {"failures_total", b.failures_total}};
}

json::object StageJson(const customers::Stage& s) {
  return json::object{{"id", s.id}, {"name", s.name}, {"sort", s.sort}, {"customers", s.customers}};
}

json::object CapacityJson(const customers::Capacity& c) {
  json::array busy;
  for (const auto& e : c.busy_employees)
    busy.push_back(json::object{{"userid", e.userid}, {"name", e.name}, {"customers", e.customers}});
  return json::object{{"customers", c.customers}, {"corp_verified", c.corp_verified}, {"limit", c.limit},
                      {"level", c.level}, {"member_limit", c.member_limit}, {"busy_employees", std::move(busy)},
                      {"rule_pack", c.rule_pack}};
}

Result<int64_t> AccountIdOf(const Request& r) { return IdParam(r, "account_id", "member_not_found"); }

json::object SegmentJson(const segments::Segment& s) {
  boost::system::error_code ec;
  json::value rule = json::parse(s.rule, ec);
  json::array history;
  for (const auto& h : s.history) history.push_back(json::object{{"day", h.day}, {"customers", h.customers}});
  return json::object{{"id", s.id},
                      {"name", s.name},
                      {"rule", ec ? json::value(nullptr) : std::move(rule)},
                      {"customers", s.customers},
                      {"problem", s.problem},
                      {"created_by", s.created_by},
                      {"created_by_name", s.created_by_name},
                      {"created_at", s.created_at_ms},
                      {"updated_at", s.updated_at_ms},
                      {"history", std::move(history)}};
}

// The rule a request names: "rule" (a rule object) or "segment_id" (a saved segment's rule).
Result<std::string> RuleOfBody(const json::object& o, segments::SegmentService& segs, const accounts::Principal& who) {
  if (const auto* id = o.if_contains("segment_id")) {
    if (!id->is_int64()) return Status::InvalidArgument("invalid_argument", "segment_id must be an id");
    return segs.RuleOf(who, id->as_int64());
  }
  const auto* rule = o.if_contains("rule");
  if (!rule) return Status::InvalidArgument("invalid_segment_rule", "rule: is missing");
  return json::serialize(*rule);
}

json::object ChurnJson(const customers::ChurnItem& c) {
  return {{"external_userid", c.external_userid},
          {"name", c.name},
          {"type", c.type},
          {"gender", c.gender},
          {"corp_name", c.corp_name},
          {"userid", c.userid},
          {"employee_name", c.employee_name},
          {"remark", c.remark},
          {"add_time", c.add_time_ms},
          {"lost_at", c.lost_at_ms},
          {"deleted_by", c.deleted_by},
          {"tags", TagsJson(c.tags)},
          {"still_followed", c.still_followed}};
}

json::array ChurnItemsJson(const std::vector<customers::ChurnItem>& items) {
  json::array out;
  for (const auto& c : items) out.push_back(ChurnJson(c));
  return out;
}

json::object ExportJson(const customers::ExportState& e) {
  return {{"id", e.id},
          {"format", e.format},
          {"mode", e.mode},
          {"state", e.state},
          {"total", e.total},
          {"done", e.done},
          {"bytes", e.bytes},
          {"filename", e.filename},
          {"created_at", e.created_at_ms},
          {"finished_at", e.finished_at_ms ? json::value(*e.finished_at_ms) : json::value(nullptr)},
          {"expires_at", e.expires_at_ms},
          {"last_error_reason", e.last_error_reason}};
}

}  // namespace

void AddCustomerRoutes(Router& router, const AuthGuard& guard, const CustomerServices& services) {
  customers::CustomerService& customers = services.customers;
  customers::TagService& tags = services.tags;
  customers::StageService& stages = services.stages;
  customers::FieldService& fields = services.fields;
  segments::SegmentService& segs = services.segments;
  const GuardOptions scrm{.app = "scrm"};
  const GuardOptions scrm_admin{.admin_only = true, .app = "scrm"};

  router.Add("GET", "/api/v1/scrm/customers", guard.Authed([&customers](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto filter = FilterOf(r);
    if (!filter.ok()) return JsonError(filter.status());
    auto page = customers.List(who, *filter, paging->page, paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& c : page->items) items.push_back(RowJson(c));
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}, {"scope", ScopeJson(page->scope)}});
  }, scrm));

  router.Add("GET", "/api/v1/scrm/customers/:external_userid",
             guard.Authed([&customers, &fields](Request& r, const accounts::Principal& who) {
    auto p = customers.Get(who, r.path_params.at("external_userid"));
    if (!p.ok()) return JsonError(p.status());
    auto values = fields.ValuesOf(who.team, p->customer.external_userid);
    if (!values.ok()) return JsonError(values.status());
    json::array groups, notes, timeline;
    for (const auto& g : p->groups)
      groups.push_back(json::object{{"chat_id", g.chat_id}, {"name", g.name}, {"owner_name", g.owner_name},
                                    {"join_time", g.join_time_ms}, {"member_count", g.member_count}});
    for (const auto& n : p->notes) notes.push_back(NoteJson(n));
    for (const auto& t : p->timeline)
      timeline.push_back(json::object{{"at", t.at_ms}, {"kind", t.kind}, {"userid", t.userid},
                                      {"employee_name", t.employee_name}, {"detail", t.detail}});
    json::object out = RowJson(p->customer);
    out["position"] = p->position;
    out["unionid"] = p->unionid;
    out["groups"] = std::move(groups);
    out["notes"] = std::move(notes);
    out["personal_tags"] = PersonalTagsJson(p->personal_tags);
    out["timeline"] = std::move(timeline);
    json::array linked;
    for (const auto& a : p->linked_accounts)
      linked.push_back(json::object{{"account_name", a.account_name}, {"account_type", a.account_type},
                                    {"openid", a.openid}, {"nickname", a.nickname}});
    out["linked_accounts"] = std::move(linked);
    out["fields"] = FieldValuesJson(*values);
    return JsonOk(out);
  }, scrm));

  router.Add("POST", "/api/v1/scrm/customers/:external_userid/notes",
             guard.Authed([&customers](Request& r, const accounts::Principal& who) {
    auto body = ParseJsonBody(r);
    if (!body.ok()) return JsonError(body.status());
    const json::value* text = body->is_object() ? body->as_object().if_contains("body") : nullptr;
    if (!text || !text->is_string())
      return JsonError(Status::InvalidArgument("note_empty", "a follow-up note needs some text"));
    auto note = customers.AddNote(who, r.path_params.at("external_userid"), std::string(text->as_string()));
    return note.ok() ? JsonOk(NoteJson(*note), 201) : JsonError(note.status());
  }, scrm));

  // ----- tags -----
  router.Add("POST", "/api/v1/scrm/tags", guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto names = StrList(*o, "names");
    if (!names.ok()) return JsonError(names.status());
    auto g = tags.CreateCorpTags(who, StrField(*o, "group_id"), StrField(*o, "group_name"), *names,
                                 AuthGuard::ClientOf(r));
    if (!g.ok()) return JsonError(g.status());
    return JsonOk(json::object{{"group_id", g->group_id}, {"name", g->name}, {"tags", TagsJson(g->tags)}}, 201);
  }, scrm_admin));

  for (const char* path : {"/api/v1/scrm/tags/:id", "/api/v1/scrm/tag-groups/:id"}) {
    router.Add("PUT", path, guard.Authed([&tags](Request& r, const accounts::Principal& who) {
      auto o = ObjectBody(r);
      if (!o.ok()) return JsonError(o.status());
      const std::string& id = r.path_params.at("id");
      Status s = tags.RenameCorpTag(who, id, StrField(*o, "name"), AuthGuard::ClientOf(r));
      return s.ok() ? JsonOk(json::object{{"id", id}}) : JsonError(s);
    }, scrm_admin));
  }
  router.Add("DELETE", "/api/v1/scrm/tags/:id", guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    Status s = tags.DeleteCorpTags(who, {r.path_params.at("id")}, {}, AuthGuard::ClientOf(r));
    return s.ok() ? JsonOk(json::object{{"id", r.path_params.at("id")}}) : JsonError(s);
  }, scrm_admin));
  router.Add("DELETE", "/api/v1/scrm/tag-groups/:id", guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    Status s = tags.DeleteCorpTags(who, {}, {r.path_params.at("id")}, AuthGuard::ClientOf(r));
    return s.ok() ? JsonOk(json::object{{"id", r.path_params.at("id")}}) : JsonError(s);
  }, scrm_admin));

  router.Add("POST", "/api/v1/scrm/customers/:external_userid/tags",
             guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto change = TagChangeBody(*o);
    if (!change.ok()) return JsonError(change.status());
    auto after = tags.MarkCorpTags(who, r.path_params.at("external_userid"), StrField(*o, "userid"), change->add,
                                   change->remove);
    return after.ok() ? JsonOk(json::object{{"tags", TagsJson(*after)}}) : JsonError(after.status());
  }, scrm));

  // Bulk tagging: the list's own query string chooses the targets unless the body names customers.
  router.Add("POST", "/api/v1/scrm/customers/bulk-tags",
             guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    auto filter = FilterOf(r);
    if (!filter.ok()) return JsonError(filter.status());
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto picked = StrList(*o, "external_userids");
    if (!picked.ok()) return JsonError(picked.status());
    auto change = TagChangeBody(*o);
    if (!change.ok()) return JsonError(change.status());
    auto b = tags.StartBulkTag(who, {.filter = *filter, .external_userids = *picked, .add = change->add,
                                     .remove = change->remove});
    return b.ok() ? JsonOk(BulkJson(*b), 202) : JsonError(b.status());
  }, scrm));
  router.Add("GET", "/api/v1/scrm/bulk-tags/:job_id", guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto id = IdParam(r, "job_id", "bulk_job_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto b = tags.BulkTagStatus(who, *id, paging->page, paging->page_size);
    return b.ok() ? JsonOk(BulkJson(*b)) : JsonError(b.status());
  }, scrm));
  router.Add("POST", "/api/v1/scrm/bulk-tags/:job_id/cancel",
             guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "job_id", "bulk_job_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto b = tags.CancelBulkTag(who, *id);
    return b.ok() ? JsonOk(BulkJson(*b)) : JsonError(b.status());
  }, scrm));

  // Exports (导出): the list's own query string chooses the rows, the body the format and the file's language.
  customers::ExportService& exports = services.exports;
  router.Add("POST", "/api/v1/scrm/customer-exports",
             guard.Authed([&exports](Request& r, const accounts::Principal& who) {
    auto filter = FilterOf(r);
    if (!filter.ok()) return JsonError(filter.status());
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto e = exports.Start(who, {.filter = *filter, .format = StrField(*o, "format"), .lang = StrField(*o, "lang")},
                           AuthGuard::ClientOf(r));
    return e.ok() ? JsonOk(ExportJson(*e), 202) : JsonError(e.status());
  }, scrm));
  router.Add("GET", "/api/v1/scrm/customer-exports", guard.Authed([&exports](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto page = exports.List(who, paging->page, paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& e : page->items) items.push_back(ExportJson(e));
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}});
  }, scrm));
  router.Add("GET", "/api/v1/scrm/customer-exports/:id",
             guard.Authed([&exports](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "export_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto e = exports.Get(who, *id);
    return e.ok() ? JsonOk(ExportJson(*e)) : JsonError(e.status());
  }, scrm));
  // The file, streamed from the database piece by piece (a million rows do not fit one response in memory).
  router.Add("GET", "/api/v1/scrm/customer-exports/:id/file",
             guard.Authed([&exports](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "export_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto f = exports.Open(who, *id);
    if (!f.ok()) return JsonError(f.status());
    Response resp;
    resp.content_type = f->content_type;
    resp.SetHeader("content-disposition", "attachment; filename=\"" + f->filename + "\"; filename*=UTF-8''" +
                                              f->filename);
    resp.SetHeader("cache-control", "private, no-store");
    resp.body_size = f->size;
    resp.body_source = [next = std::move(f->next)](std::string& piece) {
      auto r = next();
      if (!r.ok()) return false;
      piece = std::move(*r);
      return true;
    };
    return resp;
  }, scrm));
  router.Add("DELETE", "/api/v1/scrm/customer-exports/:id",
             guard.Authed([&exports](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "export_not_found");
    if (!id.ok()) return JsonError(id.status());
    Status s = exports.Delete(who, *id);
    return s.ok() ? JsonOk(json::object{{"id", *id}}) : JsonError(s);
  }, scrm));

  // Churn (流失提醒): lost relationships newest first, and the caller's unread ones (the console's bell).
  customers::ChurnService& churn = services.churn;
  router.Add("GET", "/api/v1/scrm/churn", guard.Authed([&churn](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    customers::ChurnQuery q;
    auto userids = ListParam(r, "userid");
    if (!userids.ok()) return JsonError(userids.status());
    q.userids = std::move(*userids);
    q.deleted_by = r.Query("deleted_by");
    auto from = IntParam(r, "lost_from");
    if (!from.ok()) return JsonError(from.status());
    auto to = IntParam(r, "lost_to");
    if (!to.ok()) return JsonError(to.status());
    q.lost_from_ms = *from;
    q.lost_to_ms = *to;
    auto page = churn.List(who, q, paging->page, paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    return JsonOk(json::object{{"items", ChurnItemsJson(page->items)}, {"total", page->total},
                               {"page", paging->page}, {"page_size", paging->page_size},
                               {"last_7_days", page->last_7_days}, {"last_30_days", page->last_30_days}});
  }, scrm));
  router.Add("GET", "/api/v1/scrm/churn/unread", guard.Authed([&churn](Request&, const accounts::Principal& who) {
    auto u = churn.Unread(who);
    if (!u.ok()) return JsonError(u.status());
    return JsonOk(json::object{{"count", u->count}, {"seen_at", u->seen_at_ms}, {"items", ChurnItemsJson(u->items)}});
  }, scrm));
  router.Add("POST", "/api/v1/scrm/churn/seen", guard.Authed([&churn](Request&, const accounts::Principal& who) {
    auto at = churn.MarkSeen(who);
    return at.ok() ? JsonOk(json::object{{"seen_at", *at}}) : JsonError(at.status());
  }, scrm));

  // unionid matching (粉丝匹配): the corp's entity, fans imported from a CSV file (the raw file is the body), their list.
  customers::FanService& fans = services.fans;
  router.Add("GET", "/api/v1/scrm/fans/subject", guard.Authed([&fans](Request&, const accounts::Principal& who) {
    auto s = fans.Subject(who.team);
    return s.ok() ? JsonOk(json::object{{"subject", *s}}) : JsonError(s.status());
  }, scrm_admin));
  router.Add("PUT", "/api/v1/scrm/fans/subject", guard.Authed([&fans](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    Status s = fans.SetSubject(who, StrField(*o, "subject"), AuthGuard::ClientOf(r));
    if (!s.ok()) return JsonError(s);
    auto subject = fans.Subject(who.team);
    return subject.ok() ? JsonOk(json::object{{"subject", *subject}}) : JsonError(subject.status());
  }, scrm_admin));
  router.Add("POST", "/api/v1/scrm/fans/import", guard.Authed([&fans](Request& r, const accounts::Principal& who) {
    std::vector<customers::FanRowError> errors;
    auto result = fans.Import(who, {.account_name = r.Query("account_name"), .account_type = r.Query("account_type"),
                                    .csv = r.body},
                              AuthGuard::ClientOf(r), &errors);
    if (!result.ok()) {
      if (errors.empty()) return JsonError(result.status());
      json::array rows;
      for (const auto& e : errors)
        rows.push_back(json::object{{"row", e.row}, {"reason", e.reason}, {"value", e.value}});
      return JsonError(result.status(), json::object{{"rows", std::move(rows)}});
    }
    return JsonOk(json::object{{"rows", result->rows}, {"added", result->added}, {"updated", result->updated},
                               {"matched", result->matched}});
  }, scrm_admin));
  router.Add("GET", "/api/v1/scrm/fans", guard.Authed([&fans](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto page = fans.List(who, r.Query("q"), r.Query("matched"), r.Query("account_name"), paging->page,
                          paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& f : page->items)
      items.push_back(json::object{{"openid", f.openid}, {"unionid", f.unionid}, {"nickname", f.nickname},
                                   {"account_name", f.account_name}, {"account_type", f.account_type},
                                   {"imported_at", f.imported_at_ms},
                                   {"customer", f.external_userid.empty()
                                                    ? json::value(nullptr)
                                                    : json::value(json::object{{"external_userid", f.external_userid},
                                                                               {"name", f.customer_name}})}});
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}, {"fans", page->fans}, {"matched", page->matched}});
  }, scrm_admin));
  router.Add("GET", "/api/v1/scrm/fan-accounts", guard.Authed([&fans](Request&, const accounts::Principal& who) {
    auto accounts = fans.Accounts(who);
    if (!accounts.ok()) return JsonError(accounts.status());
    json::array items;
    for (const auto& a : *accounts)
      items.push_back(json::object{{"account_name", a.account_name}, {"account_type", a.account_type},
                                   {"fans", a.fans}, {"matched", a.matched}, {"imported_at", a.imported_at_ms}});
    return JsonOk(json::object{{"items", std::move(items)}});
  }, scrm_admin));
  router.Add("DELETE", "/api/v1/scrm/fan-accounts", guard.Authed([&fans](Request& r, const accounts::Principal& who) {
    auto n = fans.DeleteAccount(who, r.Query("account_name"), AuthGuard::ClientOf(r));
    return n.ok() ? JsonOk(json::object{{"deleted", *n}}) : JsonError(n.status());
  }, scrm_admin));

  router.Add("PUT", "/api/v1/scrm/customers/:external_userid/relationships/:userid",
             guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    wecom::WecomClient::RemarkEdit edit;
    auto opt = [&o](const char* key) -> std::optional<std::string> {
      auto* v = o->if_contains(key);
      if (!v || !v->is_string()) return std::nullopt;
      return std::string(v->as_string());
    };
    edit.remark = opt("remark");
    edit.description = opt("description");
    edit.remark_company = opt("remark_corp_name");
    if (o->contains("remark_mobiles")) {
      auto mobiles = StrList(*o, "remark_mobiles");
      if (!mobiles.ok()) return JsonError(mobiles.status());
      edit.remark_mobiles = *mobiles;
    }
    auto f = tags.EditRelationship(who, r.path_params.at("external_userid"), r.path_params.at("userid"), edit);
    return f.ok() ? JsonOk(FollowJson(*f)) : JsonError(f.status());
  }, scrm));

  router.Add("GET", "/api/v1/scrm/personal-tags", guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    const std::string scope = r.Query("scope", "own");
    if (scope != "own" && scope != "team")
      return JsonError(Status::InvalidArgument("invalid_argument", "scope is own or team"));
    auto list = tags.PersonalTags(who, scope == "team");
    return list.ok() ? JsonOk(json::object{{"items", PersonalTagsJson(*list)}}) : JsonError(list.status());
  }, scrm));
  router.Add("POST", "/api/v1/scrm/personal-tags", guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto t = tags.CreatePersonalTag(who, StrField(*o, "name"));
    if (!t.ok()) return JsonError(t.status());
    return JsonOk(PersonalTagsJson({*t}).at(0), 201);
  }, scrm));
  router.Add("DELETE", "/api/v1/scrm/personal-tags/:id",
             guard.Authed([&tags](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "personal_tag_not_found");
    if (!id.ok()) return JsonError(id.status());
    Status s = tags.DeletePersonalTag(who, *id);
    return s.ok() ? JsonOk(json::object{{"id", *id}}) : JsonError(s);
  }, scrm));
  router.Add("POST", "/api/v1/scrm/customers/:external_userid/personal-tags",
             guard.Authed([&tags, &customers](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto add = IdList(*o, "add");
    if (!add.ok()) return JsonError(add.status());
    auto remove = IdList(*o, "remove");
    if (!remove.ok()) return JsonError(remove.status());
    const std::string& ext = r.path_params.at("external_userid");
    Status s = tags.MarkPersonalTags(who, ext, *add, *remove);
    if (!s.ok()) return JsonError(s);
    auto p = customers.Get(who, ext);
    return p.ok() ? JsonOk(json::object{{"personal_tags", PersonalTagsJson(p->personal_tags)}}) : JsonError(p.status());
  }, scrm));

  // ----- stages and capacity -----
  router.Add("GET", "/api/v1/scrm/stages", guard.Authed([&stages](Request&, const accounts::Principal& who) {
    auto b = stages.Board(who);
    if (!b.ok()) return JsonError(b.status());
    json::array items;
    for (const auto& s : b->stages) items.push_back(StageJson(s));
    return JsonOk(json::object{{"items", std::move(items)}, {"unstaged", b->unstaged}});
  }, scrm));
  router.Add("POST", "/api/v1/scrm/stages", guard.Authed([&stages](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto s = stages.Create(who, StrField(*o, "name"));
    return s.ok() ? JsonOk(StageJson(*s), 201) : JsonError(s.status());
  }, scrm_admin));
  router.Add("PUT", "/api/v1/scrm/stages/:id", guard.Authed([&stages](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "stage_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    Status s = stages.Rename(who, *id, StrField(*o, "name"));
    return s.ok() ? JsonOk(json::object{{"id", *id}}) : JsonError(s);
  }, scrm_admin));
  router.Add("DELETE", "/api/v1/scrm/stages/:id", guard.Authed([&stages](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "stage_not_found");
    if (!id.ok()) return JsonError(id.status());
    Status s = stages.Delete(who, *id);
    return s.ok() ? JsonOk(json::object{{"id", *id}}) : JsonError(s);
  }, scrm_admin));
  router.Add("PUT", "/api/v1/scrm/stage-order", guard.Authed([&stages](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto ids = IdList(*o, "ids");
    if (!ids.ok()) return JsonError(ids.status());
    Status s = stages.Reorder(who, *ids);
    if (!s.ok()) return JsonError(s);
    json::array out;
    for (int64_t id : *ids) out.push_back(id);
    return JsonOk(json::object{{"ids", std::move(out)}});
  }, scrm_admin));
  router.Add("PUT", "/api/v1/scrm/customers/:external_userid/stage",
             guard.Authed([&stages](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto* v = o->if_contains("stage_id");
    if (!v || !v->is_int64() || v->as_int64() < 0)
      return JsonError(Status::InvalidArgument("invalid_argument", "stage_id must be a stage's id, or 0 for none"));
    auto s = stages.SetCustomerStage(who, r.path_params.at("external_userid"), v->as_int64());
    if (!s.ok()) return JsonError(s.status());
    return JsonOk(json::object{{"stage", *s ? json::value(StageJson(**s)) : json::value(nullptr)}});
  }, scrm));
  // ----- custom fields -----
  router.Add("GET", "/api/v1/scrm/customer-fields", guard.Authed([&fields](Request& r, const accounts::Principal& who) {
    auto list = fields.List(who.team, r.Query("counts") == "true");
    if (!list.ok()) return JsonError(list.status());
    json::array items;
    for (const auto& f : *list) items.push_back(FieldJson(f));
    return JsonOk(json::object{{"items", std::move(items)}});
  }, scrm));
  router.Add("POST", "/api/v1/scrm/customer-fields", guard.Authed([&fields](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto options = StrList(*o, "options");
    if (!options.ok()) return JsonError(options.status());
    auto f = fields.Create(who, StrField(*o, "name"), StrField(*o, "kind"), *options);
    return f.ok() ? JsonOk(FieldJson(*f), 201) : JsonError(f.status());
  }, scrm_admin));
  router.Add("PUT", "/api/v1/scrm/customer-fields/:id", guard.Authed([&fields](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "field_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    std::optional<std::string> name;
    if (const json::value* n = o->if_contains("name")) {
      if (!n->is_string()) return JsonError(Status::InvalidArgument("field_name_empty", "a custom field needs a name"));
      name = std::string(n->as_string());
    }
    std::optional<std::vector<customers::FieldOption>> options;
    if (const json::value* list = o->if_contains("options")) {
      const Status bad = Status::InvalidArgument("field_option_invalid", "options is a list of {id?, label}");
      if (!list->is_array()) return JsonError(bad);
      options.emplace();
      for (const auto& item : list->as_array()) {
        if (!item.is_object()) return JsonError(bad);
        const json::value* label = item.as_object().if_contains("label");
        const json::value* oid = item.as_object().if_contains("id");
        if (!label || !label->is_string()) return JsonError(bad);
        if (oid && !oid->is_null() && (!oid->is_int64() || oid->as_int64() < 0)) return JsonError(bad);
        options->push_back({.id = oid && oid->is_int64() ? oid->as_int64() : 0, .label = std::string(label->as_string())});
      }
    }
    auto f = fields.Update(who, *id, name ? std::optional<std::string_view>(*name) : std::nullopt, options);
    return f.ok() ? JsonOk(FieldJson(*f)) : JsonError(f.status());
  }, scrm_admin));
  router.Add("DELETE", "/api/v1/scrm/customer-fields/:id", guard.Authed([&fields](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "field_not_found");
    if (!id.ok()) return JsonError(id.status());
    Status s = fields.Delete(who, *id);
    return s.ok() ? JsonOk(json::object{{"id", *id}}) : JsonError(s);
  }, scrm_admin));
  router.Add("PUT", "/api/v1/scrm/customer-field-order", guard.Authed([&fields](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto ids = IdList(*o, "ids");
    if (!ids.ok()) return JsonError(ids.status());
    Status s = fields.Reorder(who, *ids);
    if (!s.ok()) return JsonError(s);
    json::array out;
    for (int64_t id : *ids) out.push_back(id);
    return JsonOk(json::object{{"ids", std::move(out)}});
  }, scrm_admin));
  router.Add("PUT", "/api/v1/scrm/customers/:external_userid/fields",
             guard.Authed([&fields](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto edits = FieldEditsOf(*o);
    if (!edits.ok()) return JsonError(edits.status());
    auto values = fields.SetValues(who, r.path_params.at("external_userid"), *edits);
    if (!values.ok()) return JsonError(values.status());
    return JsonOk(json::object{{"fields", FieldValuesJson(*values)}});
  }, scrm));
  router.Add("GET", "/api/v1/scrm/capacity", guard.Authed([&stages](Request&, const accounts::Principal& who) {
    auto c = stages.CapacityOf(who.team);
    if (!c.ok()) return JsonError(c.status());
    if (!who.is_admin()) c->busy_employees.clear();  // other employees' loads are the admin's business
    return JsonOk(CapacityJson(*c));
  }, scrm));
  router.Add("PUT", "/api/v1/scrm/capacity", guard.Authed([&stages](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto* v = o->if_contains("corp_verified");
    if (!v || !v->is_bool()) return JsonError(Status::InvalidArgument("invalid_argument", "corp_verified must be true or false"));
    Status s = stages.SetCorpVerified(who, v->as_bool());
    if (!s.ok()) return JsonError(s);
    auto c = stages.CapacityOf(who.team);
    return c.ok() ? JsonOk(CapacityJson(*c)) : JsonError(c.status());
  }, scrm_admin));

  router.Add("GET", "/api/v1/scrm/departments", guard.Authed([&customers](Request&, const accounts::Principal& who) {
    auto d = customers.Departments(who.team);
    if (!d.ok()) return JsonError(d.status());
    json::array items;
    for (const auto& x : *d) items.push_back(json::object{{"id", x.id}, {"name", x.name}, {"parent_id", x.parent_id}});
    return JsonOk(json::object{{"items", std::move(items)}});
  }, scrm));

  router.Add("GET", "/api/v1/scrm/tags", guard.Authed([&customers](Request&, const accounts::Principal& who) {
    auto groups = customers.TagGroups(who.team);
    return groups.ok() ? JsonOk(TagGroupsJson(*groups)) : JsonError(groups.status());
  }, scrm));

  // The caller's own data scope (the console explains an empty list to an unbound member).
  router.Add("GET", "/api/v1/scrm/scope", guard.Authed([&customers](Request&, const accounts::Principal& who) {
    auto s = customers.ScopeOf(who);
    if (!s.ok()) return JsonError(s.status());
    json::object out = ScopeJson(*s);
    if (s->bound) {
      auto b = customers.Bindings(who, {who.account.value()});
      if (!b.ok()) return JsonError(b.status());
      out["employee_name"] = b->empty() ? "" : b->front().employee_name;
    }
    return JsonOk(out);
  }, scrm));

  router.Add("GET", "/api/v1/scrm/bindings", guard.Authed([&customers](Request& r, const accounts::Principal& who) {
    auto ids = ListParam(r, "account_ids");
    if (!ids.ok()) return JsonError(ids.status());
    std::vector<int64_t> accounts;
    for (const auto& s : *ids) {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || end != s.data() + s.size())
        return JsonError(Status::InvalidArgument("invalid_filter", "account_ids must be integers"));
      accounts.push_back(v);
    }
    auto b = customers.Bindings(who, accounts);
    if (!b.ok()) return JsonError(b.status());
    json::array items;
    for (const auto& x : *b) items.push_back(BindingJson(x));
    return JsonOk(json::object{{"items", std::move(items)}});
  }, scrm_admin));

  router.Add("PUT", "/api/v1/scrm/bindings/:account_id",
             guard.Authed([&customers](Request& r, const accounts::Principal& who) {
    auto id = AccountIdOf(r);
    if (!id.ok()) return JsonError(id.status());
    auto body = ParseJsonBody(r);
    if (!body.ok()) return JsonError(body.status());
    if (!body->is_object())
      return JsonError(Status::InvalidArgument("invalid_argument", "the request body must be a JSON object"));
    const auto& o = body->as_object();
    auto str = [&o](const char* key, const char* fallback) {
      auto* v = o.if_contains(key);
      return v && v->is_string() ? std::string(v->as_string()) : std::string(fallback);
    };
    auto b = customers.Bind(who, *id, str("userid", ""), str("data_scope", "own"), AuthGuard::ClientOf(r));
    return b.ok() ? JsonOk(BindingJson(*b)) : JsonError(b.status());
  }, scrm_admin));

  router.Add("DELETE", "/api/v1/scrm/bindings/:account_id",
             guard.Authed([&customers](Request& r, const accounts::Principal& who) {
    auto id = AccountIdOf(r);
    if (!id.ok()) return JsonError(id.status());
    Status s = customers.Unbind(who, *id, AuthGuard::ClientOf(r));
    return s.ok() ? JsonOk(json::object{{"account_id", *id}}) : JsonError(s);
  }, scrm_admin));

  // ----- segments (issue 6) -----
  router.Add("POST", "/api/v1/scrm/segments/count", guard.Authed([&segs](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto rule = RuleOfBody(*o, segs, who);
    if (!rule.ok()) return JsonError(rule.status());
    auto p = segs.Count(who, *rule);
    if (!p.ok()) return JsonError(p.status());
    json::array sample;
    for (const auto& c : p->sample)
      sample.push_back(json::object{{"external_userid", c.external_userid}, {"name", c.name},
                                    {"corp_name", c.corp_name}, {"type", c.type}, {"gender", c.gender}});
    return JsonOk(json::object{{"customers", p->customers}, {"sample", std::move(sample)}, {"took_us", p->took_us}});
  }, scrm));
  router.Add("POST", "/api/v1/scrm/segments/senders", guard.Authed([&segs](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto rule = RuleOfBody(*o, segs, who);
    if (!rule.ok()) return JsonError(rule.status());
    auto plan = segs.Senders(who, *rule);
    if (!plan.ok()) return JsonError(plan.status());
    json::array senders;
    for (const auto& g : plan->senders)
      senders.push_back(json::object{{"userid", g.userid}, {"employee_name", g.employee_name}, {"customers", g.customers}});
    return JsonOk(json::object{{"customers", plan->customers}, {"senders", std::move(senders)}, {"rule", plan->rule}});
  }, scrm));
  router.Add("POST", "/api/v1/scrm/segments/bulk-tags",
             guard.Authed([&segs, &tags](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto rule = RuleOfBody(*o, segs, who);
    if (!rule.ok()) return JsonError(rule.status());
    auto change = TagChangeBody(*o);
    if (!change.ok()) return JsonError(change.status());
    auto target = segs.RelationshipsOf(who, *rule);
    if (!target.ok()) return JsonError(target.status());
    auto b = tags.StartBulkTag(who, {.filter = {}, .external_userids = {}, .target = *target, .add = change->add,
                                     .remove = change->remove});
    return b.ok() ? JsonOk(BulkJson(*b), 202) : JsonError(b.status());
  }, scrm));
  router.Add("GET", "/api/v1/scrm/segments", guard.Authed([&segs](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto page = segs.List(who, paging->page, paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& s : page->items) items.push_back(SegmentJson(s));
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}});
  }, scrm));
  router.Add("POST", "/api/v1/scrm/segments", guard.Authed([&segs](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto rule = RuleOfBody(*o, segs, who);
    if (!rule.ok()) return JsonError(rule.status());
    auto s = segs.Create(who, StrField(*o, "name"), *rule);
    return s.ok() ? JsonOk(SegmentJson(*s), 201) : JsonError(s.status());
  }, scrm));
  router.Add("GET", "/api/v1/scrm/segments/:id", guard.Authed([&segs](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "segment_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto s = segs.Get(who, *id);
    return s.ok() ? JsonOk(SegmentJson(*s)) : JsonError(s.status());
  }, scrm));
  router.Add("PUT", "/api/v1/scrm/segments/:id", guard.Authed([&segs](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "segment_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    std::optional<std::string> name, rule;
    if (o->contains("name")) name = StrField(*o, "name");
    if (const auto* v = o->if_contains("rule")) rule = json::serialize(*v);
    auto s = segs.Update(who, *id, name, rule);
    return s.ok() ? JsonOk(SegmentJson(*s)) : JsonError(s.status());
  }, scrm));
  router.Add("DELETE", "/api/v1/scrm/segments/:id", guard.Authed([&segs](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "segment_not_found");
    if (!id.ok()) return JsonError(id.status());
    Status s = segs.Delete(who, *id);
    return s.ok() ? JsonOk(json::object{{"deleted", true}}) : JsonError(s);
  }, scrm));
}

}  // namespace koi::http

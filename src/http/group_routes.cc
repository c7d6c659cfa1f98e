#include "http/group_routes.h"

#include <boost/json.hpp>

#include "http/envelope.h"
#include "http/route_helpers.h"
#include "http/target.h"

namespace koi::http {
namespace {

namespace json = boost::json;

json::object TagJson(const customers::GroupTag& t) {
  return json::object{{"id", t.id}, {"name", t.name}, {"groups", t.groups}};
}

json::object GroupJson(const customers::GroupRow& g) {
  json::array tags;
  for (const auto& t : g.tags) tags.push_back(json::object{{"id", t.id}, {"name", t.name}});
  return json::object{{"chat_id", g.chat_id},        {"name", g.name},
                      {"owner", g.owner},            {"owner_name", g.owner_name},
                      {"member_count", g.member_count}, {"status", g.status},
                      {"create_time", g.create_time_ms}, {"tags", std::move(tags)}};
}

}  // namespace

void AddGroupRoutes(Router& router, const AuthGuard& guard, customers::GroupService& groups) {
  const GuardOptions scrm{.app = "scrm"};
  const GuardOptions scrm_admin{.admin_only = true, .app = "scrm"};

  router.Add("GET", "/api/v1/scrm/groups", guard.Authed([&groups](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    customers::GroupQuery q{.q = r.Query("q"), .owner = r.Query("owner"), .tag_id = 0, .page = paging->page,
                            .page_size = paging->page_size};
    if (q.q.size() > 100 || q.owner.size() > 64)
      return JsonError(Status::InvalidArgument("invalid_filter", "the search text is too long"));
    // chat_ids=a,b,c: the named groups (a picker showing the names of the ids it holds).
    const std::string listed = r.Query("chat_ids");
    for (std::string_view ids = listed; !ids.empty();) {
      const auto comma = ids.find(',');
      if (auto id = ids.substr(0, comma); !id.empty()) q.chat_ids.emplace_back(id);
      ids = comma == std::string_view::npos ? std::string_view() : ids.substr(comma + 1);
    }
    auto tag = IntParam(r, "tag_id");
    if (!tag.ok()) return JsonError(tag.status());
    q.tag_id = tag->value_or(0);
    auto page = groups.List(who.team, q);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& g : page->items) items.push_back(GroupJson(g));
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}});
  }, scrm));

  router.Add("POST", "/api/v1/scrm/groups/tags", guard.Authed([&groups](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto chats = StrList(*o, "chat_ids");
    if (!chats.ok()) return JsonError(chats.status());
    auto add = IdList(*o, "add");
    if (!add.ok()) return JsonError(add.status());
    auto remove = IdList(*o, "remove");
    if (!remove.ok()) return JsonError(remove.status());
    auto n = groups.TagGroups(who, *chats, *add, *remove);
    return n.ok() ? JsonOk(json::object{{"updated", *n}}) : JsonError(n.status());
  }, scrm));

  router.Add("GET", "/api/v1/scrm/group-tags", guard.Authed([&groups](Request&, const accounts::Principal& who) {
    auto tags = groups.Tags(who.team);
    if (!tags.ok()) return JsonError(tags.status());
    json::array items;
    for (const auto& t : *tags) items.push_back(TagJson(t));
    return JsonOk(json::object{{"items", std::move(items)}});
  }, scrm));

  router.Add("POST", "/api/v1/scrm/group-tags", guard.Authed([&groups](Request& r, const accounts::Principal& who) {
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto t = groups.CreateTag(who, StrField(*o, "name"), AuthGuard::ClientOf(r));
    return t.ok() ? JsonOk(TagJson(*t), 201) : JsonError(t.status());
  }, scrm_admin));

  router.Add("PUT", "/api/v1/scrm/group-tags/:id", guard.Authed([&groups](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "group_tag_not_found");
    if (!id.ok()) return JsonError(id.status());
    auto o = ObjectBody(r);
    if (!o.ok()) return JsonError(o.status());
    auto t = groups.RenameTag(who, *id, StrField(*o, "name"), AuthGuard::ClientOf(r));
    return t.ok() ? JsonOk(TagJson(*t)) : JsonError(t.status());
  }, scrm_admin));

  router.Add("DELETE", "/api/v1/scrm/group-tags/:id", guard.Authed([&groups](Request& r, const accounts::Principal& who) {
    auto id = IdParam(r, "id", "group_tag_not_found");
    if (!id.ok()) return JsonError(id.status());
    Status s = groups.DeleteTag(who, *id, AuthGuard::ClientOf(r));
    return s.ok() ? JsonOk(json::object{{"id", *id}}) : JsonError(s);
  }, scrm_admin));
}

}  // namespace koi::http

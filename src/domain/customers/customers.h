// Customers (issue 5): the customer base that operations staff work in all day, read from the WeCom mirror
// (wecom_* tables, written by domain/wecom_link) plus Koi's own rows (follow-up notes, employee bindings).
//
// Data permission: an admin sees every customer of the team. A member sees only the customers of the WeCom
// employee their account is bound to (or of that employee's departments, when the admin granted "department"),
// and of each customer only those relationships. A member without a binding sees nothing and is told why.
// Everything is scoped to the principal's team.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "storage/database.h"

namespace koi::customers {

enum class ListMode { kCustomer, kRelationship };

// Every field narrows the list; empty ones do not.
struct CustomerFilter {
  ListMode mode = ListMode::kCustomer;
  std::string query;                    // name, company, remark, remark mobile or remark company (substring)
  std::vector<std::string> userids;     // followed by any of these employees
  std::optional<int64_t> department;    // followed by an employee of this department or one below it
  std::vector<std::string> tag_ids;     // the relationship carries any of these corp tags
  std::optional<int64_t> added_from_ms; // relationship added at or after
  std::optional<int64_t> added_to_ms;   // relationship added before
  std::optional<int> add_way;
  std::string state;                    // the channel's state parameter, exactly
  std::optional<int> gender;
  // "" (any), "active", "lost" (any way), "deleted_by_customer", "deleted_by_employee". In customer mode: the
  // customer has a relationship in that state.
  std::string status;
  std::string sort = "-add_time";       // add_time | -add_time | name | -name
  std::optional<int64_t> stage_id;      // in this customer stage; 0: in none
  // The customer carries any of these personal tags. A member's filter matches only its own tags (another's id
  // matches no one); an admin's, anyone's.
  std::vector<int64_t> personal_tag_ids;
  // The customer has any of these options of custom fields (fields.h).
  std::vector<int64_t> field_option_ids;
};

struct TagRef {
  std::string tag_id;
  std::string name;
  std::string group_name;
};

struct Follow {
  std::string userid;
  std::string employee_name;
  std::string remark;
  std::string description;
  int64_t add_time_ms = 0;
  int add_way = 0;
  std::string state;
  std::vector<std::string> remark_mobiles;
  std::string remark_corp_name;
  bool active = true;
  std::string deleted_by;               // customer | employee | transfer | sync
  std::optional<int64_t> deleted_at_ms;
  std::vector<TagRef> tags;
};

struct CustomerRow {
  std::string external_userid;
  std::string name;
  int type = 1;                         // 1 WeChat, 2 WeCom
  int gender = 0;
  std::string corp_name;
  int64_t last_add_time_ms = 0;
  int active_follows = 0;
  std::vector<Follow> follows;          // relationship mode: the row's one relationship; else the visible ones
  std::vector<TagRef> tags;             // distinct corp tags over those relationships
  std::optional<int64_t> stage_id;      // the customer's stage (customer_stages), if any
  std::string stage_name;
  std::string relationship_userid;      // relationship mode: the row's employee (also when not visible in follows)
};

// Who the caller may see.
struct Scope {
  bool all = false;                     // admin
  bool bound = false;                   // member with a binding
  std::string userid;                   // the member's employee
  std::string data_scope;               // own | department
  std::vector<std::string> userids;     // visible employees (when !all)
  int64_t account_id = 0;               // whose personal tags a filter may name (admins: anyone's)
};

struct CustomerPage {
  std::vector<CustomerRow> items;
  int64_t total = 0;
  Scope scope;
};

struct GroupRef {
  std::string chat_id;
  std::string name;
  std::string owner_name;
  int64_t join_time_ms = 0;
  int member_count = 0;
};

struct Note {
  int64_t id = 0;
  int64_t account_id = 0;
  std::string author_name;
  std::string body;
  int64_t created_at_ms = 0;
};

// One thing that happened to the customer, newest first. kind: added | lost | joined_group | note, and what Koi
// did: tagged | untagged (detail: the tags' names), stage_changed and remark_changed (detail: "old → new").
struct TimelineItem {
  int64_t at_ms = 0;
  std::string kind;
  std::string userid;
  std::string employee_name;
  std::string detail;                   // lost: who deleted; joined_group: the group's name; note: the text
};

// A personal tag (个人标签): Koi's own, created by one member account, visible to its owner and to admins.
struct PersonalTag {
  int64_t id = 0;
  std::string name;
  int64_t account_id = 0;
  std::string owner_name;
  int64_t customers = 0;
  int64_t created_at_ms = 0;
};

// An official account's or mini program's fan matched to the customer by unionid (fans.h).
struct LinkedAccount {
  std::string account_name;
  std::string account_type;  // official | miniprogram
  std::string openid;
  std::string nickname;
};

struct Profile {
  CustomerRow customer;
  std::optional<int64_t> stage_id;
  std::string stage_name;
  std::string position;
  std::string unionid;
  std::vector<GroupRef> groups;
  std::vector<Note> notes;              // newest first
  std::vector<PersonalTag> personal_tags;  // the caller's own on this customer (an admin's view: everyone's)
  std::vector<TimelineItem> timeline;   // newest first
  std::vector<LinkedAccount> linked_accounts;
};

struct Binding {
  int64_t account_id = 0;
  std::string userid;
  std::string employee_name;
  std::string data_scope;
  int64_t bound_at_ms = 0;
};

struct Department {
  int64_t id = 0;
  std::string name;
  int64_t parent_id = 0;
};

struct TagGroup {
  std::string group_id;
  std::string name;
  std::vector<TagRef> tags;
};

// The SQL of a filtered list: "SELECT …" + from + where + order, with params for the ?s in from and where.
// Relationship mode selects from wecom_follows f joined to wecom_customers c; customer mode from wecom_customers c.
struct ListQuery {
  std::string from;
  std::string where;
  std::string order;
  std::vector<storage::Value> params;
  // When set, the count reads only these (same params): relationships need no customer join to be counted.
  std::string count_from;
  std::string count_where;
  // A search narrowed to the accelerator's candidates (at most kMaxSearchCandidates customers match).
  bool narrowed = false;
};

inline constexpr size_t kMaxNoteChars = 2000;

// Answers parts of the list faster than SQL can: the segment index (issue 6) implements it, since at a million
// customers a COUNT costs ~100 ms a page and a LIKE search seconds. Every answer may be nullopt ("cannot tell
// exactly, or not right now"); the list then asks SQL.
class ListAccelerator {
 public:
  virtual ~ListAccelerator() = default;
  // The list's total for `filter` seen through `scope`.
  virtual std::optional<int64_t> Count(TeamId team, const Scope& scope, const CustomerFilter& filter) = 0;
  // The keys (customer_keys.id) of a superset of the customers whose name, company, or a relationship's remark,
  // remark mobiles or remark company contain `text`, when there are at most `limit` of them.
  virtual std::optional<std::vector<int64_t>> SearchCandidates(TeamId team, std::string_view text, size_t limit) = 0;
  // A page of the list sorted by add time (filter.sort add_time or -add_time; one row per customer): `total` is the
  // list's total; the page's customers have last_add_time in [from_s, to_s), and are the customers with keys
  // `ids` when ids_listed; skipping `skip` of those in the list's order gives the page. No page when !overlaps.
  // nullopt when the accelerator cannot tell (then Count may still).
  struct Window {
    int64_t total = 0;
    bool overlaps = false;
    int64_t from_s = 0, to_s = 0;
    int64_t skip = 0;
    bool ids_listed = false;
    std::vector<int64_t> ids;
  };
  virtual std::optional<Window> PageWindow(TeamId team, const Scope& scope, const CustomerFilter& filter,
                                           int64_t offset, int64_t limit) = 0;
};

// A search narrows the list to the accelerator's candidates when there are at most this many.
inline constexpr size_t kMaxSearchCandidates = 20000;

// Fills the pinyin initials (name_py, remark_py; core/pinyin.h) of rows written before migration 21, in batches by
// primary key. The mirror's writes keep them current afterwards. Run at start, before the segment index is built
// (it indexes the initials for search). Returns how many rows it filled.
Result<int64_t> BackfillInitials(storage::Database& db);

class CustomerService {
 public:
  CustomerService(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // REQUIRES: `accelerator` (nullptr: none) outlives the service; set before the service is shared.
  void SetListAccelerator(ListAccelerator* accelerator) { accelerator_ = accelerator; }

  Result<Scope> ScopeOf(const accounts::Principal& who);
  Result<CustomerPage> List(const accounts::Principal& who, const CustomerFilter& filter, int page, int page_size);
  // The list's query for `filter` seen through `scope` (validated); nullopt when nothing can match (an unbound
  // member, a department without employees). Bulk actions select their targets with it. `narrow`: a search is
  // narrowed to the accelerator's candidates (ListQuery::narrowed) when it can name them.
  Result<std::optional<ListQuery>> BuildQuery(TeamId team, const Scope& scope, const CustomerFilter& filter,
                                              bool narrow = true);
  // Narrows a query BuildQuery made with `narrow` false to the search's candidates (resets it when there are none).
  Status Narrow(TeamId team, const CustomerFilter& filter, std::optional<ListQuery>& query);
  // The export's walk: up to `limit` rows of `query` (BuildQuery's, for `mode`) whose key comes after `after`, in
  // key order, with their relationships as List fills them. A row's key is its external_userid, and in
  // relationship mode also its one relationship's userid ({"", ""} to start).
  Result<std::vector<CustomerRow>> RowsAfter(TeamId team, const Scope& scope, const ListQuery& query, ListMode mode,
                                             const std::pair<std::string, std::string>& after, int limit);
  // not_found when the customer does not exist or is outside the caller's scope.
  Result<Profile> Get(const accounts::Principal& who, std::string_view external_userid);
  // Same for a caller described by `scope` alone (a WeCom member in the chat sidebar): personal tags are the
  // scope's account's (everyone's with scope.all; none without an account).
  Result<Profile> Get(TeamId team, const Scope& scope, std::string_view external_userid);
  Result<Note> AddNote(const accounts::Principal& who, std::string_view external_userid, std::string_view body);

  // The filters' choices: the corp's departments (in WeCom's order) and corp tag groups with their tags.
  Result<std::vector<Department>> Departments(TeamId team);
  Result<std::vector<TagGroup>> TagGroups(TeamId team);
  // (The group chats themselves are listed by GroupService, groups.h.)

  // Bindings of the given accounts of the caller's team (the members page asks for the rows it shows).
  Result<std::vector<Binding>> Bindings(const accounts::Principal& who, const std::vector<int64_t>& account_ids);
  // Admin only. data_scope: own | department. One employee is bound to at most one account.
  Result<Binding> Bind(const accounts::Principal& who, int64_t account_id, std::string_view userid,
                       std::string_view data_scope, const accounts::Client& client);
  Status Unbind(const accounts::Principal& who, int64_t account_id, const accounts::Client& client);

  // Employees in any of `departments` or a department below one of them.
  Result<std::vector<std::string>> EmployeesUnder(TeamId team, const std::vector<int64_t>& departments);

 private:
  // Adds each row's visible relationships with their tags; with `only_userid`, row i gets only the relationship
  // with employee only_userid[i] (the relationship list).
  Status FillFollows(TeamId team, const Scope& scope, std::vector<CustomerRow>& rows,
                     const std::vector<std::string>* only_userid);

  storage::Database& db_;
  const Clock& clock_;
  ListAccelerator* accelerator_ = nullptr;
};

}  // namespace koi::customers

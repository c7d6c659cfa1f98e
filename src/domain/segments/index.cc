#include "domain/segments/index.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include <malloc.h>

#include <roaring/roaring.hh>
#include <spdlog/spdlog.h>

#include "core/utf8.h"
#include "domain/segments/search_texts.h"

namespace koi::segments {
using storage::Value;

// Maps by text that are searched with a string_view as well as a string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
template <typename T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

// Days are grouped in blocks of 32 so a long range ORs a few block bitmaps plus the days at its two ends.
constexpr int32_t kBlockDays = 32;

namespace {
// The bitmaps of `keys` that `map` has, appended to `parts`.
template <typename Map, typename Keys>
void BitmapsOf(const Map& map, const Keys& keys, std::vector<const Roaring*>& parts) {
  for (const auto& k : keys) {
    auto it = map.find(k);
    if (it != map.end()) parts.push_back(&it->second);
  }
}

// The union of bitmaps the caller keeps (a few are ORed into a copy of the first; many go through fastunion).
Roaring UnionOf(std::vector<const Roaring*>& parts) {  // not const: fastunion takes them so
  if (parts.empty()) return Roaring();
  if (parts.size() == 1) return *parts[0];
  if (parts.size() > 8) return Roaring::fastunion(parts.size(), parts.data());
  Roaring r = *parts[0];
  for (size_t i = 1; i < parts.size(); ++i) r |= *parts[i];
  return r;
}

// The union of sets the caller no longer needs: the first is reused rather than copied.
Roaring UnionOf(std::vector<Roaring>&& sets) {
  if (sets.empty()) return Roaring();
  if (sets.size() > 8) {
    std::vector<const Roaring*> ptrs;
    for (const auto& set : sets) ptrs.push_back(&set);
    return UnionOf(ptrs);
  }
  Roaring r = std::move(sets[0]);
  for (size_t i = 1; i < sets.size(); ++i) r |= sets[i];
  return r;
}
}  // namespace

class TeamIndex {
 public:
  Roaring universe;  // every customer the mirror holds
  Roaring active;    // with at least one active relationship
  StringMap<Roaring> tags, employees, employees_any, states, groups;
  // Per employee, the customers whose most recent active relationship (ties: the smaller userid) is theirs: who
  // sends a mass message (issue 7). And the customers without an active relationship whose last one the customer
  // ended ("not a friend any more").
  StringMap<Roaring> newest;
  Roaring ended_by_customer;
  std::unordered_map<int64_t, Roaring> personal_tags, stages, add_ways, genders;
  std::unordered_map<int64_t, Roaring> field_options;  // custom fields: per chosen option
  // Number and date custom fields: per field, per value (a date as its day number), who holds it.
  std::unordered_map<int64_t, std::map<double, Roaring>> field_values;
  // The customer list's search (SearchCandidates): per character and per pair of adjacent characters of a
  // customer's name, company, and every relationship's remark, remark mobiles and remark company. A superset: a
  // changed customer's new grams are added but its old ones stay until the next build (the list re-checks with
  // LIKE), so a change costs nothing here. Not in ForEachBitmap.
  std::unordered_map<uint64_t, Roaring> grams;
  // What the grams' candidates are checked against, so a search's result is exact (SearchTexts).
  SearchTexts texts;
  std::map<int32_t, Roaring> days, blocks;
  // The customer list's order (TryWindow): customers by the day (UTC+8) of wecom_customers.last_add_time.
  std::map<int32_t, Roaring> list_days;
  // Per customer: the add day of its one active relationship, kNoAddDay without one, kManyAddDays with several
  // (their days are in many_days, or, if one does not fit in 16 bits, only in `days`). Lets an add-time range test a small set customer by customer instead of
  // intersecting it with every day and block of the range. Ids are shared by all teams, so a team's are spread
  // over the whole range: pages of 4,096 days are allocated only where the team has customers (2 bytes a customer
  // for a team whose ids are dense, and a pointer per 4,096 ids of the range).
  static constexpr uint16_t kNoAddDay = 0xFFFF, kManyAddDays = 0xFFFE;
  static constexpr uint32_t kAddDayPageBits = 12;
  static constexpr uint32_t kAddDayPageMask = (uint32_t{1} << kAddDayPageBits) - 1;
  std::vector<std::unique_ptr<uint16_t[]>> add_day_pages;
  size_t add_day_page_count = 0;  // allocated pages

  uint16_t AddDayOf(uint32_t id) const {
    const size_t page = id >> kAddDayPageBits;
    return page < add_day_pages.size() && add_day_pages[page] ? add_day_pages[page][id & kAddDayPageMask]
                                                              : kNoAddDay;
  }
  void SetAddDay(uint32_t id, uint16_t day) {
    const size_t page = id >> kAddDayPageBits;
    if (page >= add_day_pages.size()) {
      if (day == kNoAddDay) return;
      add_day_pages.resize(page + 1);
    }
    auto& p = add_day_pages[page];
    if (!p) {
      if (day == kNoAddDay) return;
      p = std::make_unique<uint16_t[]>(size_t{1} << kAddDayPageBits);
      std::fill_n(p.get(), size_t{1} << kAddDayPageBits, kNoAddDay);
      ++add_day_page_count;
    }
    if (p[id & kAddDayPageMask] == kManyAddDays) {
      auto& many = many_days[page];
      const auto at = static_cast<uint16_t>(id & kAddDayPageMask);
      auto [from, to] = std::equal_range(many.begin(), many.end(), std::pair<uint16_t, uint16_t>(at, 0),
                                         [](const auto& a, const auto& b) { return a.first < b.first; });
      many.erase(from, to);
    }
    p[id & kAddDayPageMask] = day;
    if (day == kManyAddDays && many_days.size() <= page) many_days.resize(page + 1);
  }
  // The add days of customers with several active relationships, per page of ids: (id within the page, day), in
  // order of the id (one entry per relationship; about 0.8 bytes a customer when one in ten has two).
  std::vector<std::vector<std::pair<uint16_t, uint16_t>>> many_days;
  // One more add day of `id`, whose AddDayOf is kManyAddDays.
  void AddManyAddDay(uint32_t id, uint16_t day) {
    auto& many = many_days[id >> kAddDayPageBits];
    const std::pair<uint16_t, uint16_t> entry(static_cast<uint16_t>(id & kAddDayPageMask), day);
    many.insert(std::upper_bound(many.begin(), many.end(), entry), entry);
  }
  // For a customer whose AddDayOf is kManyAddDays: whether one of its days is in [from, to]; nullopt when its days
  // are not kept here.
  std::optional<bool> ManyAddDaysIn(uint32_t id, int32_t from, int32_t to) const {
    const size_t page = id >> kAddDayPageBits;
    if (page >= many_days.size()) return std::nullopt;
    const auto& many = many_days[page];
    const auto at = static_cast<uint16_t>(id & kAddDayPageMask);
    auto it = std::lower_bound(many.begin(), many.end(), std::pair<uint16_t, uint16_t>(at, 0));
    if (it == many.end() || it->first != at) return std::nullopt;
    for (; it != many.end() && it->first == at; ++it)
      if (it->second >= from && it->second <= to) return true;
    return false;
  }
  // Unions of employees' bitmaps that rules ask for again and again (a department is the union of its employees'
  // `employees`), keyed by the sorted userids. Kept exact by Refresh (UpdateUnions) for the customers it reloads; a
  // fresh build starts without any.
  struct EmployeeUnion {
    std::vector<std::string> userids;
    Roaring set;
  };
  // More than this when an evaluation starts: all are dropped (each is at most the size of `universe`). Not while
  // one runs, since it holds references to them.
  static constexpr size_t kMaxUnions = 32;
  std::unordered_map<std::string, EmployeeUnion> unions;

  const Roaring& UnionOfEmployees(const std::set<std::string>& userids) {
    std::string key;
    for (const auto& u : userids) key.append(std::to_string(u.size())).append(":").append(u);
    auto it = unions.find(key);
    if (it != unions.end()) return it->second.set;
    EmployeeUnion u{.userids = {userids.begin(), userids.end()}, .set = {}};
    std::vector<const Roaring*> parts;
    BitmapsOf(employees, u.userids, parts);
    u.set = UnionOf(parts);
    return unions.emplace(std::move(key), std::move(u)).first->second.set;
  }
  // After the customers in `changed` were reloaded: their bits in every union as the employees' bitmaps now say.
  void UpdateUnions(const Roaring& changed) {
    for (auto& [key, u] : unions) {
      u.set -= changed;
      for (const auto& id : u.userids) {
        auto e = employees.find(id);
        if (e != employees.end() && e->second.intersect(changed)) u.set |= e->second & changed;
      }
    }
  }

  int64_t applied_upto = 0;
  // PostgreSQL commits transactions in any order, so a change can appear below applied_upto after later ones were
  // read. Every transaction the last read did not see has an id of at least `xmin` (the oldest then running), so
  // the next read also takes the changes of those (txid >= xmin), skipping the ones in `recent` (applied, by seq,
  // with their txid; dropped once xmin passes it). SQLite commits one writer at a time in seq order: neither is used.
  int64_t xmin = 0;
  std::map<int64_t, int64_t> recent;
  int64_t build_ms = 0;
  int64_t read_ms = 0;  // of build_ms, reading the pages (the rest: uniting the parts and compacting)
  int64_t builds = 0;
  int64_t incremental = 0;

  template <typename F>
  void ForEachBitmap(F&& f) {
    f(universe);
    f(active);
    f(ended_by_customer);
    for (auto* m : {&tags, &employees, &employees_any, &states, &groups, &newest})
      for (auto& [k, b] : *m) f(b);
    for (auto* m : {&personal_tags, &stages, &add_ways, &genders, &field_options})
      for (auto& [k, b] : *m) f(b);
    for (auto* m : {&days, &blocks, &list_days})
      for (auto& [k, b] : *m) f(b);
    for (auto& [field, values] : field_values)
      for (auto& [v, b] : values) f(b);
  }
};

namespace {

// The code points of `text` with ASCII letters folded to lower case (both engines' LIKE then re-checks); bytes of
// invalid UTF-8 stand for themselves.
void FoldedCodePoints(std::string_view text, std::vector<uint32_t>& out) {
  out.clear();
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    uint32_t cp = b;
    size_t len = 1;
    if (b >= 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else if (b >= 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if (b >= 0xC0) {
      len = 2;
      cp = b & 0x1F;
    }
    if (len > 1) {
      bool ok = i + len <= text.size();
      for (size_t k = 1; ok && k < len; ++k) {
        const auto c = static_cast<unsigned char>(text[i + k]);
        if ((c & 0xC0) != 0x80) ok = false;
        else cp = (cp << 6) | (c & 0x3F);
      }
      if (!ok) {
        cp = b;
        len = 1;
      }
    }
    if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    out.push_back(cp & 0x1FFFFF);
    i += len;
  }
}

constexpr uint64_t kPairFlag = uint64_t{1} << 42;
inline uint64_t PairGram(uint32_t a, uint32_t b) { return kPairFlag | (uint64_t{a} << 21) | b; }

// Adds to an index's bitmaps, gathered over a page of customers and then applied bitmap by bitmap, in order of the
// id. An add straight into one of thousands of bitmaps mostly missed the cache on the container it lands in (its
// header, then the end of its array: a quarter of a build in perf); a page's adds to one bitmap go in together.
// Each bitmap gets a list once (NewList), which the caller keeps by the bitmap's key; bitmaps must stay where they
// are (every map of TeamIndex keeps its values in place).
class PendingAdds {
 public:
  uint32_t NewList(Roaring& to) {
    targets_.push_back(&to);
    ids_.emplace_back();
    return static_cast<uint32_t>(targets_.size() - 1);
  }
  void Add(uint32_t list, uint32_t id) {
    auto& ids = ids_[list];
    if (ids.empty()) touched_.push_back(list);
    ids.push_back(id);
  }
  // Applies the adds gathered since the last Apply. Buffers are kept for the next page.
  void Apply() {
    for (uint32_t list : touched_) {
      auto& ids = ids_[list];
      if (!std::is_sorted(ids.begin(), ids.end())) std::sort(ids.begin(), ids.end());
      targets_[list]->addMany(ids.size(), ids.data());
      ids.clear();
    }
    touched_.clear();
  }

 private:
  std::vector<Roaring*> targets_;
  std::vector<std::vector<uint32_t>> ids_;  // per list, the ids not yet applied
  std::vector<uint32_t> touched_;           // the lists holding ids
};

// A number or date custom field's stored value as a number (a date: its day number), or nullopt for other text.
std::optional<double> TypedValue(std::string_view text) {
  if (auto day = ParseDay(text)) return static_cast<double>(*day);
  if (text.empty() || text.size() > 40) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Appends a column's text to a search text (SearchTexts), after a \0 if it is not the first: ASCII letters folded
// when `fold` (SQLite's LIKE ignores their case); the separators \0 and \1 inside a text become \2 (a search holding
// them is never answered from these texts). An empty column adds nothing: it matches no search the texts answer,
// and its separator was the largest part of a typical customer's text. A stored text holding a NUL is the one case
// where SQLite's LIKE, which stops there, could disagree; the mirror stores WeCom's JSON strings, which do not carry
// one in practice.
void AppendSearchField(std::string& out, std::string_view text, bool fold) {
  if (text.empty()) return;
  if (!out.empty()) out.push_back('\0');
  for (char ch : text) {
    if (ch == '\0' || ch == '\1') ch = '\2';
    else if (fold && ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    out.push_back(ch);
  }
}

// Texts to positions: an open-addressing table over one arena of the keys. Holds a page's customers by
// external_userid, cleared and reused page after page (a std::unordered_map<std::string, …> cleared after every
// page allocated a node and a key a customer, and freed them again: a tenth of a 10M build was the allocator), and
// the tags, states and groups the loader has pending lists for.
class PageKeys {
 public:
  void Clear() {
    arena_.clear();
    keys_.clear();
    std::fill(slots_.begin(), slots_.end(), 0);
  }
  size_t size() const { return keys_.size(); }
  // The position of `key` (added as the next one if it is new).
  uint32_t Add(std::string_view key) {
    if ((keys_.size() + 1) * 2 > slots_.size()) Grow();
    const size_t hash = std::hash<std::string_view>()(key);
    size_t at = hash & (slots_.size() - 1);
    for (; slots_[at]; at = (at + 1) & (slots_.size() - 1))
      if (KeyOf(slots_[at] - 1) == key) return slots_[at] - 1;
    keys_.push_back({static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size()), hash});
    arena_.append(key);
    slots_[at] = static_cast<uint32_t>(keys_.size());
    return slots_[at] - 1;
  }
  // The position of `key` + 1, or 0 when it is not in the page.
  uint32_t Find(std::string_view key) const {
    if (slots_.empty()) return 0;
    for (size_t at = std::hash<std::string_view>()(key) & (slots_.size() - 1); slots_[at];
         at = (at + 1) & (slots_.size() - 1))
      if (KeyOf(slots_[at] - 1) == key) return slots_[at];
    return 0;
  }

 private:
  struct Key {
    uint32_t at, size;
    size_t hash;
  };
  std::string_view KeyOf(uint32_t pos) const { return std::string_view(arena_).substr(keys_[pos].at, keys_[pos].size); }
  void Grow() {
    slots_.assign(std::max<size_t>(1024, slots_.size() * 2), 0);
    for (uint32_t pos = 0; pos < keys_.size(); ++pos) {
      size_t at = keys_[pos].hash & (slots_.size() - 1);
      while (slots_[at]) at = (at + 1) & (slots_.size() - 1);
      slots_[at] = pos + 1;
    }
  }
  std::string arena_;
  std::vector<Key> keys_;
  std::vector<uint32_t> slots_;  // position + 1; 0: empty. A power of two, at least twice the keys.
};

// Numbers to positions, as PageKeys does for texts (an open-addressing table: no division, no node to chase).
class NumberKeys {
 public:
  // The position of `key` (added as the next one if it is new).
  uint32_t Add(uint64_t key) {
    if ((keys_.size() + 1) * 2 > slots_.size()) Grow();
    size_t at = HashOf(key) & (slots_.size() - 1);
    for (; slots_[at]; at = (at + 1) & (slots_.size() - 1))
      if (keys_[slots_[at] - 1] == key) return slots_[at] - 1;
    keys_.push_back(key);
    slots_[at] = static_cast<uint32_t>(keys_.size());
    return slots_[at] - 1;
  }

 private:
  static size_t HashOf(uint64_t key) { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> 32); }
  void Grow() {
    slots_.assign(std::max<size_t>(64, slots_.size() * 2), 0);
    for (uint32_t pos = 0; pos < keys_.size(); ++pos) {
      size_t at = HashOf(keys_[pos]) & (slots_.size() - 1);
      while (slots_[at]) at = (at + 1) & (slots_.size() - 1);
      slots_[at] = pos + 1;
    }
  }
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> slots_;  // position + 1; 0: empty. A power of two, at least twice the keys.
};

// Rows of the customers selected by `cond` (SQL on a column named by `col`, e.g. "external_userid > ? AND
// external_userid <= ?") are added to the index. Built for millions of rows: no per-row copies, and since each table
// is read through its (team, customer) index, one customer's rows arrive together and the last position lookup is
// reused.
class Loader {
 public:
  Loader(storage::Database& db, TeamIndex& ix, TeamId team)
      : db_(db), ix_(ix), team_(team), fold_(db.engine() == storage::Engine::kSqlite) {}

  Status Load(const std::function<std::string(const std::string& col, std::vector<Value>& params)>& cond) {
    Status s = LoadPage(cond);
    adds_.Apply();  // what was read, also when a query failed (as if each add had been made at once)
    return s;
  }

  // The ids of the customers the last Load read.
  template <typename F>
  void ForEachId(F&& f) const {
    for (size_t pos = 0; pos < used_; ++pos) f(customers_[pos].id);
  }

 private:
  Status LoadPage(const std::function<std::string(const std::string& col, std::vector<Value>& params)>& cond) {
    keys_.Clear();
    used_ = 0;
    last_.clear();
    last_pos_ = 0;
    // Rows are read as they stream (QueryEach): on SQLite no row is copied, texts are views into its buffers.
    using storage::RowView;
    {
      std::vector<Value> p{team_.value()};
      const std::string where = cond("c.external_userid", p);
      KOI_RETURN_IF_ERROR(db_.QueryEach(
          "SELECT k.id, c.external_userid, c.gender, c.name, c.corp_name, c.name_py, c.last_add_time FROM "
          "wecom_customers c JOIN customer_keys k ON k.team_id = c.team_id AND k.external_userid = c.external_userid "
          "WHERE c.team_id = ? AND " + where, p, [&](const RowView& row) -> Status {
            const int64_t id = row.Int(0);
            if (id <= 0 || id > std::numeric_limits<uint32_t>::max())
              return Status::Internal("segment_index_overflow", "customer key out of the index's 32-bit range");
            const auto u = static_cast<uint32_t>(id);
            const uint32_t pos = keys_.Add(row.Text(1));
            if (pos < used_) return Status::Ok();  // a customer is one row; keep the first if not
            Customer& c = NextCustomer(u);
            adds_.Add(universe_, u);
            adds_.Add(ListIn(genders_, ix_.genders, row.Int(2)), u);
            adds_.Add(ListIn(list_days_, ix_.list_days, DayOf(row.Int(6))), u);
            for (size_t col : {3, 4, 5}) AddGrams(row.Text(col), u);
            AppendSearchField(c.query, row.Text(3), fold_);
            AppendSearchField(c.query, row.Text(4), fold_);
            AppendSearchField(c.initials, row.Text(5), fold_);
            return Status::Ok();
          }));
    }
    if (used_ == 0) return Status::Ok();
    {
      std::vector<Value> p{team_.value()};
      const std::string where = cond("external_userid", p);
      KOI_RETURN_IF_ERROR(db_.QueryEach(
          "SELECT external_userid, userid, createtime, add_way, state, deleted_at IS NULL, COALESCE(deleted_at, 0), "
          "deleted_by = 'customer', remark, remark_mobiles, remark_corp_name, remark_py FROM wecom_follows WHERE "
          "team_id = ? AND " + where, p, [&](const RowView& row) -> Status {
            const uint32_t pos = PosOf(row.Text(0));
            if (!pos) return Status::Ok();
            Customer& c = customers_[pos - 1];
            const uint32_t id = c.id;
            const std::string_view userid = row.Text(1);
            const uint32_t employee = EmployeeNumber(userid);
            const std::string& name = employee_names_[employee];
            adds_.Add(EmployeeList(employees_any_, ix_.employees_any, employee), id);
            for (size_t col : {8, 9, 10, 11}) AddGrams(row.Text(col), id);
            AppendSearchField(c.query, row.Text(8), fold_);
            // The mirror stores "no remark mobiles" as "[]", nearly every relationship's: left out of the text, so a
            // search holding a bracket is answered by SQL (SearchMatches).
            if (row.Text(9) != "[]") AppendSearchField(c.query, row.Text(9), fold_);
            AppendSearchField(c.query, row.Text(10), fold_);
            AppendSearchField(c.initials, row.Text(11), fold_);
            if (row.Int(5) == 0) {
              // The last to end; at equal times, ended by the customer if any was.
              if (row.Int(6) > c.ended_at) {
                c.ended_at = row.Int(6);
                c.by_customer = row.Int(7) != 0;
              } else if (row.Int(6) == c.ended_at) {
                c.by_customer |= row.Int(7) != 0;
              }
              return Status::Ok();
            }
            const int64_t created = row.Int(2);
            if (c.newest == kNone || created > c.createtime ||
                (created == c.createtime && name < employee_names_[c.newest])) {
              c.createtime = created;
              c.newest = employee;
            }
            adds_.Add(active_, id);
            adds_.Add(EmployeeList(employees_, ix_.employees, employee), id);
            const int32_t day = DayOf(std::max<int64_t>(0, created));
            if (c.active_employees.empty()) c.day = day;
            else c.more_days.push_back(day);
            c.active_employees.push_back(employee);
            adds_.Add(ListIn(days_, ix_.days, day), id);
            adds_.Add(ListIn(blocks_, ix_.blocks, day / kBlockDays), id);
            adds_.Add(ListIn(add_ways_, ix_.add_ways, row.Int(3)), id);
            adds_.Add(ListIn(states_, ix_.states, row.Text(4)), id);
            return Status::Ok();
          }));
    }
    std::string joined;
    for (size_t pos = 0; pos < used_; ++pos) {
      const Customer& c = customers_[pos];
      const uint32_t id = c.id;
      if (c.newest != kNone) adds_.Add(EmployeeList(newest_, ix_.newest, c.newest), id);
      else if (c.by_customer) adds_.Add(ended_by_customer_, id);
      joined = c.query;
      if (!c.initials.empty()) {
        joined.push_back('\1');
        joined += c.initials;
      }
      ix_.texts.Set(id, joined);
      if (c.active_employees.empty()) continue;
      auto fits = [](int32_t d) { return d >= 0 && d < TeamIndex::kManyAddDays; };
      if (c.active_employees.size() == 1 && fits(c.day)) {
        ix_.SetAddDay(id, static_cast<uint16_t>(c.day));
        continue;
      }
      ix_.SetAddDay(id, TeamIndex::kManyAddDays);
      if (fits(c.day) && std::all_of(c.more_days.begin(), c.more_days.end(), fits)) {
        ix_.AddManyAddDay(id, static_cast<uint16_t>(c.day));
        for (int32_t d : c.more_days) ix_.AddManyAddDay(id, static_cast<uint16_t>(d));
      }
    }
    // A customer's tags come in a run per relationship: the employee and whether the relationship is active are
    // looked up once a run.
    std::string tag_userid;
    bool tag_active = false;
    uint32_t tag_pos = 0;
    KOI_RETURN_IF_ERROR(Simple("SELECT external_userid, userid, tag_id FROM wecom_follow_tags WHERE team_id = ? AND ",
                               "external_userid", cond, [&](uint32_t pos, const RowView& row) {
                                 const Customer& c = customers_[pos - 1];
                                 if (pos != tag_pos || row.Text(1) != tag_userid) {
                                   tag_pos = pos;
                                   tag_userid.assign(row.Text(1));
                                   auto employee = employee_numbers_.find(tag_userid);
                                   tag_active = employee != employee_numbers_.end() &&
                                                std::find(c.active_employees.begin(), c.active_employees.end(),
                                                          employee->second) != c.active_employees.end();
                                 }
                                 if (tag_active) adds_.Add(ListIn(tags_, ix_.tags, row.Text(2)), c.id);
                               }));
    KOI_RETURN_IF_ERROR(Simple("SELECT external_userid, stage_id FROM customer_profiles WHERE stage_id IS NOT NULL AND "
                               "team_id = ? AND ", "external_userid", cond, [this](uint32_t pos, const RowView& row) {
                                 adds_.Add(ListIn(stages_, ix_.stages, row.Int(1)), customers_[pos - 1].id);
                               }));
    KOI_RETURN_IF_ERROR(Simple("SELECT external_userid, tag_id FROM personal_tag_customers WHERE team_id = ? AND ",
                               "external_userid", cond, [this](uint32_t pos, const RowView& row) {
                                 adds_.Add(ListIn(personal_tags_, ix_.personal_tags, row.Int(1)),
                                           customers_[pos - 1].id);
                               }));
    KOI_RETURN_IF_ERROR(Simple("SELECT external_userid, option_id FROM customer_field_values WHERE option_id <> 0 AND "
                               "team_id = ? AND ", "external_userid", cond, [this](uint32_t pos, const RowView& row) {
                                 adds_.Add(ListIn(field_options_, ix_.field_options, row.Int(1)),
                                           customers_[pos - 1].id);
                               }));
    // Typed values (option 0): a date is YYYY-MM-DD, a number its decimal text; anything else is a text field's.
    KOI_RETURN_IF_ERROR(Simple("SELECT external_userid, field_id, value FROM customer_field_values WHERE option_id = 0 "
                               "AND team_id = ? AND ", "external_userid", cond,
                               [this](uint32_t pos, const RowView& row) {
                                 if (auto v = TypedValue(row.Text(2)))
                                   ix_.field_values[row.Int(1)][*v].add(customers_[pos - 1].id);  // few
                               }));
    KOI_RETURN_IF_ERROR(Simple("SELECT member_id, chat_id FROM wecom_group_members WHERE team_id = ? AND ", "member_id",
                               cond, [this](uint32_t pos, const RowView& row) {
                                 adds_.Add(ListIn(groups_, ix_.groups, row.Text(1)), customers_[pos - 1].id);
                               }));
    return Status::Ok();
  }

  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  // What the page's queries gather about a customer before it goes into the index. Kept from page to page (cleared,
  // not freed), so after the first pages a page allocates only where a customer has longer texts or more
  // relationships than the record's earlier holders.
  struct Customer {
    uint32_t id = 0;
    std::string query, initials;  // the search text's two parts (SearchTexts)
    // The most recent active relationship (its employee, kNone without one) and the last one that ended.
    int64_t createtime = -1;
    uint32_t newest = kNone;
    int64_t ended_at = -1;
    bool by_customer = false;
    std::vector<uint32_t> active_employees;  // EmployeeNumber of each active relationship's employee
    int32_t day = 0;                         // the first active relationship's add day
    std::vector<int32_t> more_days;          // the others'
  };
  Customer& NextCustomer(uint32_t id) {
    if (used_ == customers_.size()) customers_.emplace_back();
    Customer& c = customers_[used_++];
    c.id = id;
    c.query.clear();
    c.initials.clear();
    c.createtime = -1;
    c.newest = kNone;
    c.ended_at = -1;
    c.by_customer = false;
    c.active_employees.clear();
    c.day = 0;
    c.more_days.clear();
    return c;
  }

  // `add` gets the position + 1 of the row's customer (rows of customers not in the page are skipped).
  template <typename Cond, typename Add>
  Status Simple(const std::string& sql, const std::string& col, const Cond& cond, Add add) {
    std::vector<Value> p{team_.value()};
    const std::string where = cond(col, p);
    return db_.QueryEach(sql + where, p, [&](const storage::RowView& row) {
      if (const uint32_t pos = PosOf(row.Text(0))) add(pos, row);
      return Status::Ok();
    });
  }

  // The position + 1 of the customer in the page, 0 when it is not in it. Rows come grouped by customer: the last
  // one found is tried first.
  uint32_t PosOf(std::string_view external_userid) {
    if (last_pos_ && last_ == external_userid) return last_pos_;
    const uint32_t pos = keys_.Find(external_userid);
    if (!pos) return 0;
    last_.assign(external_userid);
    last_pos_ = pos;
    return pos;
  }

  static Roaring& BitmapIn(StringMap<Roaring>& map, std::string_view key) {
    auto it = map.find(key);
    return it != map.end() ? it->second : map.emplace(std::string(key), Roaring()).first->second;
  }
  // The pending list of the bitmap of `key` in `map` (made if new), found by the key's position in `lists`.
  struct TextLists {
    PageKeys keys;
    std::vector<uint32_t> lists;  // by position
  };
  struct NumberLists {
    NumberKeys keys;
    std::vector<uint32_t> lists;
  };
  uint32_t ListIn(TextLists& lists, StringMap<Roaring>& map, std::string_view key) {
    const uint32_t pos = lists.keys.Add(key);
    if (pos == lists.lists.size()) lists.lists.push_back(adds_.NewList(BitmapIn(map, key)));
    return lists.lists[pos];
  }
  template <typename Map, typename Key>
  uint32_t ListIn(NumberLists& lists, Map& map, Key key) {
    const uint32_t pos = lists.keys.Add(static_cast<uint64_t>(key));
    if (pos == lists.lists.size()) lists.lists.push_back(adds_.NewList(map[key]));
    return lists.lists[pos];
  }
  uint32_t EmployeeList(std::vector<uint32_t>& lists, StringMap<Roaring>& map, uint32_t employee) {
    if (employee >= lists.size()) lists.resize(employee + 1, kNone);
    if (lists[employee] == kNone) lists[employee] = adds_.NewList(BitmapIn(map, employee_names_[employee]));
    return lists[employee];
  }
  // The grams a text is indexed under: each character and each pair of adjacent ones.
  void AddGrams(std::string_view text, uint32_t id) {
    FoldedCodePoints(text, scratch_);
    for (size_t i = 0; i < scratch_.size(); ++i) {
      adds_.Add(ListIn(grams_, ix_.grams, uint64_t{scratch_[i]}), id);
      if (i + 1 < scratch_.size()) adds_.Add(ListIn(grams_, ix_.grams, PairGram(scratch_[i], scratch_[i + 1])), id);
    }
  }

  // Employees are numbered as they are first seen (employee_names_ holds their userids).
  uint32_t EmployeeNumber(std::string_view userid) {
    auto it = employee_numbers_.find(userid);
    if (it == employee_numbers_.end()) {
      it = employee_numbers_.emplace(std::string(userid), static_cast<uint32_t>(employee_names_.size())).first;
      employee_names_.emplace_back(userid);
    }
    return it->second;
  }

  storage::Database& db_;
  TeamIndex& ix_;
  TeamId team_;
  PageKeys keys_;                   // external_userid → position in customers_
  std::vector<Customer> customers_;  // the first used_ are the page's
  size_t used_ = 0;
  std::vector<uint32_t> scratch_;  // AddGrams' code points
  // The page's adds to the bitmaps, and each bitmap's list there by the bitmap's key.
  PendingAdds adds_;
  uint32_t universe_ = adds_.NewList(ix_.universe), active_ = adds_.NewList(ix_.active),
           ended_by_customer_ = adds_.NewList(ix_.ended_by_customer);
  TextLists tags_, states_, groups_;
  NumberLists genders_, list_days_, days_, blocks_, add_ways_, stages_, personal_tags_, field_options_, grams_;
  std::vector<uint32_t> employees_, employees_any_, newest_;  // by EmployeeNumber (kNone: no list yet)
  bool fold_;                      // search texts fold ASCII case (SQLite)
  std::string last_;               // PosOf's last customer, and its position + 1 (0: none)
  uint32_t last_pos_ = 0;
  StringMap<uint32_t> employee_numbers_;
  std::vector<std::string> employee_names_;
};


// The evaluator works "within" a set when it has one: an AND evaluates its most selective child first and every
// later child only inside what is left, so a union of many large bitmaps becomes a union of their small
// intersections with it. Results are the same sets; only the work shrinks.
class Evaluator {
 public:
  // `ix` is not changed but for its cache of employee unions (the caller holds the team's lock).
  Evaluator(TeamIndex& ix, const EvalContext& ctx, uint64_t lookup_ratio)
      : ix_(ix), ctx_(ctx), lookup_ratio_(lookup_ratio) {
    if (ix_.unions.size() > TeamIndex::kMaxUnions) ix_.unions.clear();
  }

  // The customers matching `n` (inside *within when given).
  Roaring Eval(const Node& n, const Roaring* within) {
    bool subtract = false;
    Roaring r = Positive(n, within, subtract);
    if (!subtract) return r;
    Roaring out = within ? *within : ix_.universe;
    out -= r;
    return out;
  }

 private:
  // The node as a set, or (subtract) as the set to remove: a negation, a "has none of" tags condition, an inactive
  // status.
  Roaring Positive(const Node& n, const Roaring* within, bool& subtract) {
    std::vector<const Roaring*> parts;
    if (Parts(n, parts, subtract)) return Within(parts, within);
    subtract = n.negate;
    return n.is_group ? Group(n, within) : Condition(n, within);
  }

  Roaring Group(const Node& n, const Roaring* within) {
    if (n.children.empty()) return within ? *within : ix_.universe;
    if (!n.is_and) {
      std::vector<Roaring> members;
      members.reserve(n.children.size());
      for (const auto& c : n.children) members.push_back(Eval(c, within));
      return UnionOf(std::move(members));
    }
    // Children that are a union of the index's bitmaps first, then the others (nested groups, time ranges,
    // negations); in each kind the most selective first (estimated from the bitmaps a child reads). Each later child
    // is evaluated inside what is left: a union of bitmaps is applied to it in place (an AND costs about as much as
    // the smaller side), and a group's members are cut to it before they are united — uniting them first costs a
    // merge of every member's customers, the most expensive step there is without SIMD. Every set a child gives
    // inside a set lies in it, so "what is left" becomes that set rather than being intersected with it.
    std::vector<std::tuple<bool, uint64_t, const Node*>> order;
    std::vector<const Roaring*> parts;
    for (const auto& c : n.children) {
      bool subtract = false;
      const bool plain = Parts(c, parts, subtract) && !subtract;
      order.emplace_back(!plain, Estimate(c), &c);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
    });
    std::optional<Roaring> r;
    for (const auto& [later, estimate, c] : order) {
      bool subtract = false;
      if (r && Parts(*c, parts, subtract)) {
        if (subtract) {
          for (const Roaring* p : parts) *r -= *p;
        } else if (parts.size() == 1) {
          *r &= *parts[0];
        } else {
          r = Within(parts, &*r);
        }
      } else {
        Roaring part = Positive(*c, r ? &*r : within, subtract);
        if (!subtract) {
          r = std::move(part);
        } else {
          if (!r) r = within ? *within : ix_.universe;
          *r -= part;
        }
      }
      if (r->isEmpty()) break;
    }
    return std::move(*r);
  }

  // When the node's set is the union of some of the index's bitmaps (or, `subtract`, the set to remove is): those
  // bitmaps in `parts`. False for nodes computed otherwise (groups, and the conditions of Condition). The one place
  // that says which bitmaps a plain condition reads: Positive, Group and Estimate all go through it.
  bool Parts(const Node& n, std::vector<const Roaring*>& parts, bool& subtract) {
    parts.clear();
    if (n.is_group) return false;
    subtract = n.negate;
    auto keys = [&parts](const auto& map, const auto& ks) {
      BitmapsOf(map, ks, parts);
      return true;
    };
    const bool none = n.match == Match::kNone;
    if (none && (n.field == Field::kCorpTag || n.field == Field::kPersonalTag || n.field == Field::kCustomField))
      subtract = !subtract;
    const bool all = n.match == Match::kAll;
    switch (n.field) {
      case Field::kCorpTag: return !all && keys(ix_.tags, n.texts);
      case Field::kPersonalTag: return !all && keys(ix_.personal_tags, n.numbers);
      case Field::kCustomField: return !all && keys(ix_.field_options, n.numbers);
      case Field::kEmployee: return keys(ix_.employees, n.texts);
      case Field::kDepartment: parts.push_back(&Department(n)); return true;
      case Field::kAddWay: return keys(ix_.add_ways, n.numbers);
      case Field::kChannelState: return keys(ix_.states, n.texts);
      case Field::kGender: return keys(ix_.genders, n.numbers);
      case Field::kGroup: return keys(ix_.groups, n.texts);
      case Field::kStage:
        if (std::find(n.numbers.begin(), n.numbers.end(), 0) != n.numbers.end()) return false;  // "no stage"
        return keys(ix_.stages, n.numbers);
      case Field::kStatus:
        if (!n.active) subtract = !subtract;
        parts.push_back(&ix_.active);
        return true;
      default: return false;
    }
  }

  // The customers with an active relationship with an employee in the node's departments (below them included).
  const Roaring& Department(const Node& n) {
    std::set<std::string> users;
    for (auto d : n.numbers) {
      auto it = ctx_.department_employees.find(d);
      if (it != ctx_.department_employees.end()) users.insert(it->second.begin(), it->second.end());
    }
    return ix_.UnionOfEmployees(users);
  }

  // An upper bound of how many customers a node keeps (the whole team for what it cannot bound cheaply).
  uint64_t Estimate(const Node& n) {
    const uint64_t all = ix_.universe.cardinality();
    if (n.negate) return all;
    if (n.is_group) {
      uint64_t e = n.is_and ? all : 0;
      for (const auto& c : n.children) e = n.is_and ? std::min(e, Estimate(c)) : std::min(all, e + Estimate(c));
      return e;
    }
    std::vector<const Roaring*> parts;
    bool subtract = false;
    if (Parts(n, parts, subtract)) {
      if (subtract) return all;
      uint64_t e = 0;
      for (const Roaring* p : parts) e += p->cardinality();
      return std::min(e, all);
    }
    // Has all of: at most those with the first.
    auto first = [all](const auto& map, const auto& keys) -> uint64_t {
      if (keys.empty()) return all;
      auto it = map.find(keys.front());
      return it == map.end() ? 0 : it->second.cardinality();
    };
    switch (n.field) {
      case Field::kCorpTag: return first(ix_.tags, n.texts);
      case Field::kPersonalTag: return first(ix_.personal_tags, n.numbers);
      case Field::kCustomField: return first(ix_.field_options, n.numbers);
      case Field::kCustomValue: {
        auto it = ix_.field_values.find(n.field_id);
        if (it == ix_.field_values.end()) return 0;
        uint64_t e = 0;
        for (const auto& [v, b] : it->second) e += b.cardinality();
        return std::min(e, all);
      }
      default: return all;
    }
  }

  // The union of `parts`, inside *within when given.
  static Roaring Within(std::vector<const Roaring*>& parts, const Roaring* within) {
    if (!within) return UnionOf(parts);
    if (parts.size() == 1) return *within & *parts[0];
    std::vector<Roaring> cut;
    cut.reserve(parts.size());
    for (const Roaring* p : parts) cut.push_back(*within & *p);
    return UnionOf(std::move(cut));
  }

  template <typename Map, typename Keys>
  static Roaring AllOf(const Map& map, const Keys& keys, const Roaring& start) {
    Roaring r = start;
    for (const auto& k : keys) {
      auto it = map.find(k);
      if (it == map.end()) return Roaring();
      r &= it->second;
      if (r.isEmpty()) break;
    }
    return r;
  }

  // A condition that is not a union of the index's bitmaps (Parts is false): "has all of", stages that include "no
  // stage" (Parts takes every stage list without it, so here it is always there), an add-time range, a custom
  // value's range.
  Roaring Condition(const Node& n, const Roaring* within) {
    const Roaring& base = within ? *within : ix_.universe;
    switch (n.field) {
      case Field::kCorpTag: return AllOf(ix_.tags, n.texts, base);
      case Field::kPersonalTag: return AllOf(ix_.personal_tags, n.numbers, base);
      case Field::kCustomField: return AllOf(ix_.field_options, n.numbers, base);
      case Field::kAdded: return Added(AddedRange(n, ctx_.today), within);
      case Field::kStage: {
        std::vector<int64_t> ids;
        for (auto s : n.numbers)
          if (s != 0) ids.push_back(s);
        std::vector<const Roaring*> parts;
        BitmapsOf(ix_.stages, ids, parts);
        Roaring r = Within(parts, within);
        std::vector<const Roaring*> all;
        for (const auto& [k, b] : ix_.stages) all.push_back(&b);
        Roaring unstaged = base;
        unstaged -= UnionOf(all);
        r |= unstaged;
        return r;
      }
      case Field::kCustomValue: {
        auto it = ix_.field_values.find(n.field_id);
        if (it == ix_.field_values.end()) return Roaring();
        const auto& values = it->second;
        // A number field's bounds are min/max, a date field's from/to (as day numbers).
        std::optional<double> lo = n.min_value, hi = n.max_value;
        if (n.from_day) lo = *n.from_day;
        if (n.to_day) hi = *n.to_day;
        if (lo && hi && *lo > *hi) return Roaring();
        auto from = lo ? values.lower_bound(*lo) : values.begin();
        auto to = hi ? values.upper_bound(*hi) : values.end();
        std::vector<const Roaring*> parts;
        for (auto v = from; v != to && (!hi || v->first <= *hi); ++v) parts.push_back(&v->second);
        return Within(parts, within);
      }
      default: break;  // the others are plain (Parts)
    }
    return Roaring();
  }

  Roaring Added(DayRange range, const Roaring* within) {
    if (range.from > range.to) return Roaring();
    range.from = std::max(range.from, 0);
    // A small set: customer by customer (one lookup each) rather than intersected with every day and block of the
    // range; customers with several active relationships go the bitmap way below.
    if (within && within->cardinality() * lookup_ratio_ < ix_.universe.cardinality()) {
      std::vector<uint32_t> in, several;
      for (uint32_t id : *within) {
        const uint16_t d = ix_.AddDayOf(id);
        if (d == TeamIndex::kNoAddDay) continue;
        if (d == TeamIndex::kManyAddDays) {
          if (auto any = ix_.ManyAddDaysIn(id, range.from, range.to)) {
            if (*any) in.push_back(id);
          } else {
            several.push_back(id);
          }
        } else if (d >= range.from && d <= range.to) in.push_back(id);
      }
      Roaring out;
      out.addMany(in.size(), in.data());
      if (!several.empty()) {
        Roaring rest;
        rest.addMany(several.size(), several.data());
        out |= AddedByBitmaps(range, &rest);
      }
      return out;
    }
    return AddedByBitmaps(range, within);
  }

  Roaring AddedByBitmaps(DayRange range, const Roaring* within) {
    std::vector<const Roaring*> parts;
    for (auto bit = ix_.blocks.lower_bound(range.from / kBlockDays);
         bit != ix_.blocks.end() && bit->first <= range.to / kBlockDays; ++bit) {
      const int32_t first = bit->first * kBlockDays, last = first + kBlockDays - 1;
      if (first >= range.from && last <= range.to) {
        parts.push_back(&bit->second);
        continue;
      }
      for (auto dit = ix_.days.lower_bound(std::max(first, range.from));
           dit != ix_.days.end() && dit->first <= std::min(last, range.to); ++dit)
        parts.push_back(&dit->second);
    }
    return Within(parts, within);
  }

  TeamIndex& ix_;
  const EvalContext& ctx_;
  const uint64_t lookup_ratio_;  // Options::added_lookup_ratio
};

int64_t ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

SegmentIndex::SegmentIndex(storage::Database& db, const Clock& clock, Options options)
    : db_(db), clock_(clock), options_(options) {}
SegmentIndex::~SegmentIndex() {
  stopping_.store(true);
  std::lock_guard lock(builders_mu_);
  for (auto& t : builders_) t.join();
}

void SegmentIndex::BuildSoon(TeamId team, Slot& slot) {
  if (stopping_.load() || slot.build_queued.exchange(true)) return;
  std::lock_guard lock(builders_mu_);
  builders_.emplace_back([this, team, &slot] {
    {
      std::lock_guard build_lock(slot.mu);
      if (Status s = Refresh(team, slot); !s.ok() && !stopping_.load())
        spdlog::warn("segment index for team {}: background build: {}", team.value(), s.ToString());
    }
    slot.build_queued = false;
  });
}

SegmentIndex::Slot& SegmentIndex::SlotOf(TeamId team) {
  std::lock_guard lock(mu_);
  auto& s = slots_[team.value()];
  if (!s) s = std::make_unique<Slot>();
  return *s;
}

namespace {

// The newest change a build reflects: at least the purge horizon (a log purged empty has no MAX(seq), and an index
// that started below the horizon would rebuild again and again).
Result<int64_t> MaxChangeSeq(storage::Database& db) {
  KOI_ASSIGN_OR_RETURN(auto r, db.Query("SELECT COALESCE(MAX(seq), 0) FROM segment_changes"));
  KOI_ASSIGN_OR_RETURN(auto h, db.Query("SELECT COALESCE(MAX(upto), 0) FROM segment_change_horizon"));
  return std::max(r.rows.at(0).Int(0), h.rows.at(0).Int(0));
}

// PostgreSQL: the oldest transaction still running (every transaction a read from now on does not see has an id at
// least this). 0 on SQLite.
Result<int64_t> OldestRunningTransaction(storage::Database& db) {
  if (db.engine() != storage::Engine::kPostgres) return int64_t{0};
  KOI_ASSIGN_OR_RETURN(auto r, db.Query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"));
  return r.rows.at(0).Int(0);
}

// Unites a map of bitmaps into another: bitmaps `to` lacks are moved, the others ORed.
template <typename Map>
void MergeBitmaps(Map& to, Map& from) {
  for (auto& [k, b] : from) {
    auto it = to.find(k);
    if (it == to.end()) to.emplace(k, std::move(b));
    else it->second |= b;
  }
}

// Runs `f` on a thread of its own, joined when the returned thread is destroyed, if `two_threads`; else now.
template <typename F>
std::jthread OnSecondThreadIf(bool two_threads, F f) {
  if (two_threads) return std::jthread(std::move(f));
  f();
  return std::jthread();
}

void MergeInto(TeamIndex& into, TeamIndex& part, bool two_threads) {
  // The customer list's search grams on a second thread (when the build may use two): uniting them takes about as
  // long as all the rest together (the texts included).
  std::jthread search = OnSecondThreadIf(two_threads, [&into, &part] { MergeBitmaps(into.grams, part.grams); });
  into.texts.Absorb(std::move(part.texts));
  into.universe |= part.universe;
  into.active |= part.active;
  into.ended_by_customer |= part.ended_by_customer;
  MergeBitmaps(into.tags, part.tags);
  MergeBitmaps(into.employees, part.employees);
  MergeBitmaps(into.employees_any, part.employees_any);
  MergeBitmaps(into.newest, part.newest);
  MergeBitmaps(into.states, part.states);
  MergeBitmaps(into.groups, part.groups);
  MergeBitmaps(into.personal_tags, part.personal_tags);
  MergeBitmaps(into.stages, part.stages);
  MergeBitmaps(into.add_ways, part.add_ways);
  MergeBitmaps(into.genders, part.genders);
  MergeBitmaps(into.field_options, part.field_options);
  for (auto& [field, values] : part.field_values) MergeBitmaps(into.field_values[field], values);
  MergeBitmaps(into.days, part.days);
  MergeBitmaps(into.blocks, part.blocks);
  MergeBitmaps(into.list_days, part.list_days);
  for (size_t page = 0; page < part.add_day_pages.size(); ++page) {
    auto& from = part.add_day_pages[page];
    if (!from) continue;
    const auto first = static_cast<uint32_t>(page << TeamIndex::kAddDayPageBits);
    for (uint32_t i = 0; i < (uint32_t{1} << TeamIndex::kAddDayPageBits); ++i)
      if (from[i] != TeamIndex::kNoAddDay) into.SetAddDay(first + i, from[i]);
    if (page < part.many_days.size())
      for (const auto& [at, day] : part.many_days[page]) into.AddManyAddDay(first + at, day);
  }
}

// Pages of customers (by external_userid) are handed out to `workers` threads, each loading into its own part;
// the parts are merged at the end. Reading and decoding rows is most of the cost, so two cores build nearly twice
// as fast.
Status BuildInto(storage::Database& db, TeamId team, size_t page_size, int workers, const std::atomic<bool>& stop,
                 TeamIndex& ix) {
  const auto started = std::chrono::steady_clock::now();
  // Changes after these are applied on the next look (the oldest running transaction first: see TeamIndex::xmin).
  KOI_ASSIGN_OR_RETURN(ix.xmin, OldestRunningTransaction(db));
  KOI_ASSIGN_OR_RETURN(ix.applied_upto, MaxChangeSeq(db));
  if (db.engine() == storage::Engine::kPostgres) {
    // The changes of transactions not finished at xmin that are visible now are already in what the pages below
    // read: the first look must not read (and count) them again, only those committed later.
    KOI_ASSIGN_OR_RETURN(auto seen, db.Query("SELECT seq, txid FROM segment_changes WHERE team_id = ? AND txid >= ? "
                                             "AND seq <= ?", {team.value(), ix.xmin, ix.applied_upto}));
    for (const auto& row : seen.rows) ix.recent.emplace(row.Int(0), row.Int(1));
  }
  std::mutex mu;
  std::string after;
  bool done = false;
  Status failed = Status::Ok();
  // A page: the customers after `after` up to `last`, or all after it when the page is the last one.
  struct Page {
    std::string after;
    std::optional<std::string> last;
  };
  // The next page, or nullopt when there are no more (or a worker failed). Only the page's last key is read (the
  // others are stepped over in the index), as the other worker waits meanwhile.
  auto next_page = [&]() -> Result<std::optional<Page>> {
    std::lock_guard lock(mu);
    if (stop.load()) return Status::Unavailable("unavailable", "the segment index build was stopped: the server is shutting down");
    if (done || !failed.ok()) return std::optional<Page>();
    const int64_t skip = std::max<int64_t>(1, static_cast<int64_t>(page_size)) - 1;
    KOI_ASSIGN_OR_RETURN(auto last, db.Query("SELECT external_userid FROM wecom_customers WHERE team_id = ? AND "
                                             "external_userid > ? ORDER BY external_userid LIMIT 1 OFFSET ?",
                                             {team.value(), after, skip}));
    Page page{after, std::nullopt};
    if (last.rows.empty()) {
      done = true;
    } else {
      page.last = last.rows[0].Text(0);
      after = *page.last;
    }
    return std::optional(std::move(page));
  };
  std::vector<std::unique_ptr<TeamIndex>> parts;
  for (int w = 0; w < workers; ++w) parts.push_back(std::make_unique<TeamIndex>());
  auto work = [&](TeamIndex& part) {
    Loader loader(db, part, team);
    for (;;) {
      auto bounds = next_page();
      Status s = bounds.status();
      if (s.ok() && *bounds) {
        const Page& page = **bounds;
        s = loader.Load([&](const std::string& col, std::vector<Value>& p) {
          p.emplace_back(std::in_place_type<std::string>, page.after);
          if (!page.last) return col + " > ?";
          p.emplace_back(std::in_place_type<std::string>, *page.last);
          return col + " > ? AND " + col + " <= ?";
        });
      }
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (failed.ok()) failed = s;
        return;
      }
      if (!*bounds) return;
    }
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work, std::ref(*parts[w]));
  work(*parts[0]);
  for (auto& t : threads) t.join();
  KOI_RETURN_IF_ERROR(failed);
  ix.read_ms = ElapsedMs(started);
  for (auto& part : parts) MergeInto(ix, *part, workers > 1);
  // What follows is on two threads too: the parts are freed and half the bitmaps compacted on a second one.
  std::vector<Roaring*> bitmaps;
  ix.ForEachBitmap([&bitmaps](Roaring& b) { bitmaps.push_back(&b); });
  auto compact = [&bitmaps](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      bitmaps[i]->runOptimize();
      bitmaps[i]->shrinkToFit();
    }
  };
  {
    std::jthread second = OnSecondThreadIf(workers > 1, [&] {
      parts.clear();
      compact(bitmaps.size() / 2, bitmaps.size());
    });
    compact(0, bitmaps.size() / 2);
    for (auto& [k, b] : ix.grams) b.shrinkToFit();
    ix.texts.Shrink();
  }
  malloc_trim(0);  // the pages' rows are gone; give their memory back rather than keep it resident
  ix.build_ms = ElapsedMs(started);
  ++ix.builds;
  return Status::Ok();
}

}  // namespace

namespace {
// A freshly built index of the team, carrying over the previous one's counters; logged, since a build is slow.
Result<std::unique_ptr<TeamIndex>> FreshIndex(storage::Database& db, TeamId team, const SegmentIndex::Options& options,
                                              const std::atomic<bool>& stop, const TeamIndex* previous) {
  auto fresh = std::make_unique<TeamIndex>();
  if (previous) {
    fresh->builds = previous->builds;
    fresh->incremental = previous->incremental;
  }
  KOI_RETURN_IF_ERROR(BuildInto(db, team, options.page_size, options.build_threads, stop, *fresh));
  spdlog::info("segment index for team {} built: {} customers in {} ms ({} ms reading)", team.value(),
               fresh->universe.cardinality(), fresh->build_ms, fresh->read_ms);
  return fresh;
}
}  // namespace

Status SegmentIndex::Build(TeamId team) {
  Slot& slot = SlotOf(team);
  std::lock_guard lock(slot.mu);
  KOI_ASSIGN_OR_RETURN(slot.index, FreshIndex(db_, team, options_, stopping_, slot.index.get()));
  Publish(slot);
  return Status::Ok();
}

Status SegmentIndex::Refresh(TeamId team, Slot& slot, bool may_rebuild) {
  auto rebuild = [&]() -> Status {
    if (!may_rebuild) {
      slot.stale = true;
      BuildSoon(team, slot);
      return Status::Unavailable("segment_index_busy", "the segment index is being built");
    }
    slot.building = true;
    struct Done {
      std::atomic<bool>& flag;
      ~Done() { flag = false; }
    } done{slot.building};
    KOI_ASSIGN_OR_RETURN(slot.index, FreshIndex(db_, team, options_, stopping_, slot.index.get()));
    slot.stale = false;
    Publish(slot);
    return Status::Ok();
  };
  if (!slot.index) return rebuild();
  TeamIndex& ix = *slot.index;
  // The purge horizon, and on PostgreSQL the oldest transaction still running now: every transaction older than it
  // has finished, so the changes read below (a later snapshot) hold all of theirs. One statement: this runs before
  // every indexed list request.
  const bool postgres = db_.engine() == storage::Engine::kPostgres;
  KOI_ASSIGN_OR_RETURN(auto horizon, db_.Query(postgres ? "SELECT COALESCE(MAX(upto), 0), pg_snapshot_xmin("
                                                          "pg_current_snapshot())::text::bigint FROM segment_change_horizon"
                                                        : "SELECT COALESCE(MAX(upto), 0), 0 FROM segment_change_horizon"));
  if (ix.applied_upto < horizon.rows.at(0).Int(0)) return rebuild();  // changes we had not read were purged
  const int64_t xmin_now = horizon.rows.at(0).Int(1);

  // The changes not applied yet (usually none): above applied_upto, and on PostgreSQL those of transactions that
  // may have committed since the last read (TeamIndex::xmin).
  std::vector<Value> p{team.value(), ix.applied_upto};
  std::string sql = "SELECT seq, external_userid, txid FROM segment_changes WHERE team_id = ? AND (seq > ?";
  if (postgres) {
    sql += " OR txid >= ?) AND NOT ";
    p.emplace_back(ix.xmin);
    std::vector<int64_t> applied;
    applied.reserve(ix.recent.size());
    for (const auto& [seq, txid] : ix.recent) applied.push_back(seq);
    sql += storage::IdsIn(db_.engine(), "seq", p, applied);
  } else {
    sql += ")";
  }
  sql += " ORDER BY seq LIMIT ?";
  p.emplace_back(static_cast<int64_t>(options_.rebuild_threshold + 1));
  KOI_ASSIGN_OR_RETURN(auto changes, db_.Query(sql, p));
  auto forget_finished = [&ix, xmin_now] {
    ix.xmin = std::max(ix.xmin, xmin_now);
    std::erase_if(ix.recent, [&ix](const auto& e) { return e.second < ix.xmin; });
  };
  if (changes.rows.empty()) {
    forget_finished();
    return Status::Ok();
  }
  std::set<std::string> changed;
  for (const auto& row : changes.rows) changed.insert(row.Text(1));
  if (changes.rows.size() > options_.rebuild_threshold) return rebuild();

  // The changed customers' ids, then every bit they had, then their facts as they are now.
  std::vector<std::string> names(changed.begin(), changed.end());
  Roaring gone;
  constexpr size_t kChunk = 500;
  for (size_t i = 0; i < names.size(); i += kChunk) {
    std::vector<std::string> part(names.begin() + i, names.begin() + std::min(names.size(), i + kChunk));
    std::vector<Value> p{team.value()};
    const std::string in = storage::InList(p, part);
    KOI_ASSIGN_OR_RETURN(auto keys, db_.Query("SELECT id FROM customer_keys WHERE team_id = ? AND external_userid IN (" +
                                              in + ")", p));
    for (const auto& row : keys.rows) gone.add(static_cast<uint32_t>(row.Int(0)));
  }
  ix.ForEachBitmap([&gone](Roaring& b) {
    if (b.intersect(gone)) b -= gone;
  });
  for (uint32_t id : gone) {
    if (ix.AddDayOf(id) != TeamIndex::kNoAddDay) ix.SetAddDay(id, TeamIndex::kNoAddDay);
    ix.texts.Erase(id);  // the customers still there get theirs again below
  }
  // The loader keeps pointers to the index's bitmaps until it is gone: no bitmap is erased or moved meanwhile.
  Loader loader(db_, ix, team);
  Roaring touched = gone;  // and customers whose key appeared after `gone` was read
  for (size_t i = 0; i < names.size(); i += kChunk) {
    std::vector<std::string> part(names.begin() + i, names.begin() + std::min(names.size(), i + kChunk));
    KOI_RETURN_IF_ERROR(loader.Load([&](const std::string& col, std::vector<Value>& p) {
      return col + " IN (" + storage::InList(p, part) + ")";
    }));
    loader.ForEachId([&touched](uint32_t id) { touched.add(id); });
  }
  ix.UpdateUnions(touched);
  ix.incremental += static_cast<int64_t>(names.size());
  for (const auto& row : changes.rows) {
    if (postgres) ix.recent.emplace(row.Int(0), row.Int(2));
    ix.applied_upto = std::max(ix.applied_upto, row.Int(0));
  }
  forget_finished();
  {
    // Cheap figures only; the bitmaps' bytes are recounted at the next build.
    std::lock_guard lock(slot.stats_mu);
    slot.stats.customers = static_cast<int64_t>(ix.universe.cardinality());
    slot.stats.incremental_customers = ix.incremental;
  }
  return Status::Ok();
}

Status SegmentIndex::SenderFacts(
    TeamId team, const Roaring& target,
    const std::function<void(const std::string&, const Roaring&, const Roaring&)>& employee,
    const std::function<void(const Roaring&, const Roaring&)>& lost) {
  Slot& slot = SlotOf(team);
  std::lock_guard lock(slot.mu);
  KOI_RETURN_IF_ERROR(Refresh(team, slot));
  const TeamIndex& ix = *slot.index;
  static const Roaring kNone;
  for (const auto& [userid, customers] : ix.employees) {
    Roaring active = customers & target;
    if (active.isEmpty()) continue;
    auto it = ix.newest.find(userid);
    employee(userid, active, it == ix.newest.end() ? kNone : it->second & target);
  }
  Roaring none = target - ix.active;
  lost(none, none & ix.ended_by_customer);
  return Status::Ok();
}

Status SegmentIndex::Evaluate(TeamId team, const Node& rule, const EvalContext& ctx,
                              const std::function<void(const Roaring&)>& use) {
  Slot& slot = SlotOf(team);
  std::lock_guard lock(slot.mu);
  KOI_RETURN_IF_ERROR(Refresh(team, slot));
  return EvaluateLocked(slot, rule, ctx, use);
}

Status SegmentIndex::TryEvaluate(TeamId team, const Node& rule, const EvalContext& ctx,
                                 const std::function<void(const Roaring&)>& use) {
  Slot& slot = SlotOf(team);
  KOI_ASSIGN_OR_RETURN(auto lock, LockCurrentWithoutWaiting(team, slot));
  return EvaluateLocked(slot, rule, ctx, use);
}

Result<std::unique_lock<std::timed_mutex>> SegmentIndex::LockCurrentWithoutWaiting(TeamId team, Slot& slot) {
  const Status busy = Status::Unavailable("segment_index_busy", "the segment index is being built");
  if (slot.building) return busy;
  if (slot.stale) {
    BuildSoon(team, slot);
    return busy;
  }
  // A read takes well under a millisecond; an incremental refresh of many customers longer: do not wait for that.
  std::unique_lock lock(slot.mu, std::defer_lock);
  if (!lock.try_lock_for(std::chrono::milliseconds(20))) return busy;
  KOI_RETURN_IF_ERROR(Refresh(team, slot, false));
  return lock;
}

Result<int64_t> SegmentIndex::TryRelationshipCount(TeamId team, const std::vector<std::string>* userids, bool active) {
  Slot& slot = SlotOf(team);
  KOI_ASSIGN_OR_RETURN(auto lock, LockCurrentWithoutWaiting(team, slot));
  const auto& by_employee = active ? slot.index->employees : slot.index->employees_any;
  int64_t n = 0;
  if (!userids) {
    for (const auto& [u, b] : by_employee) n += static_cast<int64_t>(b.cardinality());
    return n;
  }
  for (const auto& u : std::set<std::string>(userids->begin(), userids->end())) {
    auto it = by_employee.find(u);
    if (it != by_employee.end()) n += static_cast<int64_t>(it->second.cardinality());
  }
  return n;
}

Result<SegmentIndex::Window> SegmentIndex::TryWindow(TeamId team, const Node& rule, const EvalContext& ctx,
                                                    bool newest_first, int64_t offset, int64_t limit,
                                                    size_t max_ids) {
  Slot& slot = SlotOf(team);
  KOI_ASSIGN_OR_RETURN(auto lock, LockCurrentWithoutWaiting(team, slot));
  Window out;
  // Walks the day buckets from `it` (the list's first) to `end`.
  auto walk = [&](const Roaring& matches, auto it, auto end) {
    out.total = static_cast<int64_t>(matches.cardinality());
    out.ids_listed = true;
    int32_t first_day = 0, last_day = 0;
    int64_t seen = 0;  // matches in the buckets walked so far
    for (; it != end && seen < offset + limit; ++it) {
      const Roaring& bucket = it->second;
      const auto n = static_cast<int64_t>(matches.and_cardinality(bucket));
      if (n == 0 || seen + n <= offset) {
        seen += n;
        continue;
      }
      if (!out.overlaps) {
        out.overlaps = true;
        out.skip = offset - seen;
        first_day = it->first;
      }
      last_day = it->first;
      if (out.ids_listed && out.ids.size() + static_cast<size_t>(n) > max_ids) {
        out.ids_listed = false;
        out.ids.clear();
      }
      if (out.ids_listed)
        for (uint32_t id : matches & bucket) out.ids.push_back(id);
      seen += n;
    }
    if (!out.overlaps) return;
    const int32_t lo = std::min(first_day, last_day), hi = std::max(first_day, last_day);
    out.from_s = int64_t{lo} * 86400 - kDayOffsetSeconds;
    out.to_s = (int64_t{hi} + 1) * 86400 - kDayOffsetSeconds;
  };
  const auto& days = slot.index->list_days;
  KOI_RETURN_IF_ERROR(EvaluateLocked(slot, rule, ctx, [&](const Roaring& matches) {
    if (newest_first) walk(matches, days.rbegin(), days.rend());
    else walk(matches, days.begin(), days.end());
  }));
  return out;
}

namespace {

// The customers whose texts hold every character pair of `text` (a superset of those whose texts hold `text`).
Result<Roaring> SearchCandidatesOf(const TeamIndex& ix, std::string_view text, size_t limit) {
  // Text the database may decode differently from FoldedCodePoints (invalid UTF-8, U+FFFD…U+FFFF): scan instead.
  if (!IsValidUtf8(text) || text.find("\xEF\xBF\xBD") != std::string_view::npos ||
      text.find("\xEF\xBF\xBE") != std::string_view::npos || text.find("\xEF\xBF\xBF") != std::string_view::npos)
    return Status::Unavailable("segment_index_busy", "the index does not search this text");
  std::vector<uint32_t> cps;
  FoldedCodePoints(text, cps);
  std::vector<uint64_t> keys;
  if (cps.size() == 1) keys.push_back(cps[0]);
  for (size_t i = 0; i + 1 < cps.size(); ++i) keys.push_back(PairGram(cps[i], cps[i + 1]));
  std::vector<const Roaring*> sets;
  for (uint64_t k : keys) {
    auto it = ix.grams.find(k);
    if (it == ix.grams.end()) return Roaring();  // a pair no text has: nobody
    sets.push_back(&it->second);
  }
  if (sets.empty()) return Status::InvalidArgument("invalid_argument", "nothing to search for");
  std::sort(sets.begin(), sets.end(),
            [](const Roaring* a, const Roaring* b) { return a->cardinality() < b->cardinality(); });
  Roaring r = *sets.front();
  for (size_t i = 1; i < sets.size() && !r.isEmpty(); ++i) r &= *sets[i];
  if (r.cardinality() > limit)
    return Status::ResourceExhausted("too_many_candidates", "the search matches too many customers to narrow");
  return r;
}

// The customers the list's search finds (EvalContext::search), checked against their texts. The candidates are
// the characters' (or, for initials, the letters') — the grams hold both kinds of column, folded. A search holding a
// separator of the texts, or a bracket (the texts leave out "[]", the empty remark mobiles), is SQL's to answer.
Result<Roaring> SearchMatches(const TeamIndex& ix, const std::string& query, const std::string& initials, bool fold) {
  constexpr size_t kMaxChecked = 250'000;  // ~50 ns each
  if (query.find_first_of(std::string_view("\0\1\2[]", 5)) != std::string::npos)
    return Status::Unavailable("segment_index_busy", "the index does not search this text");
  KOI_ASSIGN_OR_RETURN(Roaring candidates, SearchCandidatesOf(ix, query, kMaxChecked));
  std::string q = query;
  if (fold)
    for (char& ch : q)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  Roaring out;
  for (uint32_t id : candidates) {
    auto text = ix.texts.Get(id);
    if (!text) continue;  // no longer in the mirror (its grams stay until the next build)
    const size_t split = text->find('\1');
    const std::string_view by_query = text->substr(0, split);
    const std::string_view by_initials = split == std::string_view::npos ? std::string_view() : text->substr(split + 1);
    if (by_query.find(q) != std::string_view::npos ||
        (!initials.empty() && by_initials.find(initials) != std::string_view::npos))
      out.add(id);
  }
  return out;
}

}  // namespace

Result<std::vector<int64_t>> SegmentIndex::TrySearchCandidates(TeamId team, std::string_view text, size_t limit) {
  Slot& slot = SlotOf(team);
  KOI_ASSIGN_OR_RETURN(auto lock, LockCurrentWithoutWaiting(team, slot));
  KOI_ASSIGN_OR_RETURN(Roaring r, SearchCandidatesOf(*slot.index, text, limit));
  std::vector<int64_t> out;
  out.reserve(r.cardinality());
  for (uint32_t id : r) out.push_back(id);
  return out;
}

Status SegmentIndex::EvaluateLocked(Slot& slot, const Node& rule, const EvalContext& ctx,
                                    const std::function<void(const Roaring&)>& use) {
  TeamIndex& ix = *slot.index;
  Evaluator ev(ix, ctx, options_.added_lookup_ratio);
  if (ctx.search) {
    KOI_ASSIGN_OR_RETURN(Roaring found, SearchMatches(ix, *ctx.search, ctx.search_initials,
                                                      db_.engine() == storage::Engine::kSqlite));
    if (ctx.scope_userids) return Status::InvalidArgument("invalid_argument", "a search is answered for admins only");
    found &= ix.universe;
    use(ev.Eval(rule, &found));
    return Status::Ok();
  }
  if (!ctx.scope_userids) {
    use(ev.Eval(rule, nullptr));
    return Status::Ok();
  }
  std::vector<const Roaring*> parts;
  for (const auto& u : *ctx.scope_userids) {
    auto it = ix.employees_any.find(u);
    if (it != ix.employees_any.end()) parts.push_back(&it->second);
  }
  const Roaring scope = UnionOf(parts);
  use(ev.Eval(rule, &scope));
  return Status::Ok();
}

void SegmentIndex::Publish(Slot& slot) {
  IndexStats s;
  if (slot.index) {
    TeamIndex& ix = *slot.index;
    s.customers = static_cast<int64_t>(ix.universe.cardinality());
    auto count = [&s](Roaring& b) {
      ++s.bitmaps;
      s.bytes += static_cast<int64_t>(b.getSizeInBytes(false));
    };
    ix.ForEachBitmap(count);
    for (auto& [k, b] : ix.grams) count(b);
    s.bytes += static_cast<int64_t>(ix.add_day_page_count * (sizeof(uint16_t) << TeamIndex::kAddDayPageBits) +
                                    ix.add_day_pages.size() * sizeof(void*));
    for (const auto& many : ix.many_days)
      s.bytes += static_cast<int64_t>(sizeof(many) + many.capacity() * sizeof(many[0]));
    s.search_text_bytes = static_cast<int64_t>(ix.texts.Bytes());
    s.build_ms = ix.build_ms;
    s.builds = ix.builds;
    s.incremental_customers = ix.incremental;
  }
  std::lock_guard lock(slot.stats_mu);
  slot.stats = s;
}

IndexStats SegmentIndex::Stats(TeamId team) {
  Slot& slot = SlotOf(team);
  std::lock_guard lock(slot.stats_mu);
  return slot.stats;
}

IndexStats SegmentIndex::TotalStats() {
  std::vector<int64_t> teams;
  {
    std::lock_guard lock(mu_);
    for (const auto& [t, s] : slots_) teams.push_back(t);
  }
  IndexStats total;
  for (int64_t t : teams) {
    IndexStats s = Stats(TeamId(t));
    total.customers += s.customers;
    total.bitmaps += s.bitmaps;
    total.bytes += s.bytes;
    total.search_text_bytes += s.search_text_bytes;
    total.builds += s.builds;
    total.incremental_customers += s.incremental_customers;
    total.build_ms = std::max(total.build_ms, s.build_ms);
  }
  return total;
}

void SegmentIndex::Stop() { stopping_.store(true); }

Status SegmentIndex::WarmAll() {
  KOI_ASSIGN_OR_RETURN(auto teams, db_.Query("SELECT team_id FROM wecom_corps ORDER BY team_id"));
  for (const auto& row : teams.rows) {
    if (stopping_.load()) break;
    Slot& slot = SlotOf(TeamId(row.Int(0)));
    std::lock_guard lock(slot.mu);
    if (!slot.index) KOI_RETURN_IF_ERROR(Refresh(TeamId(row.Int(0)), slot));
  }
  return Status::Ok();
}

Status SegmentIndex::PurgeChanges(int64_t keep) {
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto m, tx.Query("SELECT COALESCE(MAX(seq), 0) FROM segment_changes"));
    const int64_t upto = m.rows.at(0).Int(0) - keep;
    if (upto <= 0) return Status::Ok();
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM segment_changes WHERE seq <= ?", {upto}));
    return tx.Exec("UPDATE segment_change_horizon SET upto = ? WHERE upto < ?", {upto, upto});
  });
}

}  // namespace koi::segments

#include "domain/segments/index.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include <roaring/roaring.hh>
#include <spdlog/spdlog.h>

namespace koi::segments {
using storage::Value;

// Days are grouped in blocks of 32 so a long range ORs a few block bitmaps plus the days at its two ends.
constexpr int32_t kBlockDays = 32;

class TeamIndex {
 public:
  Roaring universe;  // every customer the mirror holds
  Roaring active;    // with at least one active relationship
  std::unordered_map<std::string, Roaring> tags, employees, employees_any, states, groups;
  std::unordered_map<int64_t, Roaring> personal_tags, stages, add_ways, genders;
  std::map<int32_t, Roaring> days, blocks;
  int64_t applied_upto = 0;
  std::set<int64_t> recent;  // applied change seqs above applied_upto - lag (PostgreSQL may commit them late)
  int64_t build_ms = 0;
  int64_t builds = 0;
  int64_t incremental = 0;

  template <typename F>
  void ForEachBitmap(F&& f) {
    f(universe);
    f(active);
    for (auto* m : {&tags, &employees, &employees_any, &states, &groups})
      for (auto& [k, b] : *m) f(b);
    for (auto* m : {&personal_tags, &stages, &add_ways, &genders})
      for (auto& [k, b] : *m) f(b);
    for (auto* m : {&days, &blocks})
      for (auto& [k, b] : *m) f(b);
  }
};

namespace {

std::string Marks(std::vector<Value>& params, const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    out += out.empty() ? "?" : ", ?";
    params.emplace_back(std::in_place_type<std::string>, v);
  }
  return out;
}

// Rows of the customers selected by `cond` (SQL on a column named by `col`, e.g. "external_userid BETWEEN ? AND
// ?") are added to the index.
class Loader {
 public:
  Loader(storage::Database& db, TeamIndex& ix, TeamId team) : db_(db), ix_(ix), team_(team) {}

  Status Load(const std::function<std::string(const std::string& col, std::vector<Value>& params)>& cond) {
    ids_.clear();
    active_pairs_.clear();
    {
      std::vector<Value> p{team_.value()};
      const std::string where = cond("c.external_userid", p);
      KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT k.id, c.external_userid, c.gender FROM wecom_customers c JOIN "
                                             "customer_keys k ON k.team_id = c.team_id AND k.external_userid = "
                                             "c.external_userid WHERE c.team_id = ? AND " + where, p));
      for (const auto& row : r.rows) {
        const int64_t id = row.Int(0);
        if (id <= 0 || id > std::numeric_limits<uint32_t>::max())
          return Status::Internal("segment_index_overflow", "customer key out of the index's 32-bit range");
        const auto u = static_cast<uint32_t>(id);
        ids_.emplace(row.Text(1), u);
        ix_.universe.add(u);
        ix_.genders[row.Int(2)].add(u);
      }
    }
    if (ids_.empty()) return Status::Ok();
    {
      std::vector<Value> p{team_.value()};
      const std::string where = cond("external_userid", p);
      KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT external_userid, userid, createtime, add_way, state, "
                                             "deleted_at IS NULL FROM wecom_follows WHERE team_id = ? AND " + where, p));
      for (const auto& row : r.rows) {
        auto it = ids_.find(row.Text(0));
        if (it == ids_.end()) continue;
        const uint32_t id = it->second;
        std::string userid = row.Text(1);
        ix_.employees_any[userid].add(id);
        if (row.Int(5) == 0) continue;
        ix_.active.add(id);
        ix_.employees[userid].add(id);
        const int32_t day = DayOf(std::max<int64_t>(0, row.Int(2)));
        ix_.days[day].add(id);
        ix_.blocks[day / kBlockDays].add(id);
        ix_.add_ways[row.Int(3)].add(id);
        ix_.states[row.Text(4)].add(id);
        active_pairs_.insert(row.Text(0) + '\x1f' + userid);
      }
    }
    {
      std::vector<Value> p{team_.value()};
      const std::string where = cond("external_userid", p);
      KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT external_userid, userid, tag_id FROM wecom_follow_tags WHERE "
                                             "team_id = ? AND " + where, p));
      std::string key;
      for (const auto& row : r.rows) {
        key = row.Text(0);
        key += '\x1f';
        key += row.Text(1);
        if (!active_pairs_.count(key)) continue;
        auto it = ids_.find(row.Text(0));
        if (it != ids_.end()) ix_.tags[row.Text(2)].add(it->second);
      }
    }
    KOI_RETURN_IF_ERROR(Simple("SELECT external_userid, stage_id FROM customer_profiles WHERE stage_id IS NOT NULL AND "
                               "team_id = ? AND ", "external_userid", cond,
                               [this](uint32_t id, const storage::Row& row) { ix_.stages[row.Int(1)].add(id); }));
    KOI_RETURN_IF_ERROR(Simple("SELECT external_userid, tag_id FROM personal_tag_customers WHERE team_id = ? AND ",
                               "external_userid", cond,
                               [this](uint32_t id, const storage::Row& row) { ix_.personal_tags[row.Int(1)].add(id); }));
    KOI_RETURN_IF_ERROR(Simple("SELECT member_id, chat_id FROM wecom_group_members WHERE team_id = ? AND ", "member_id",
                               cond, [this](uint32_t id, const storage::Row& row) { ix_.groups[row.Text(1)].add(id); }));
    return Status::Ok();
  }

 private:
  template <typename Cond, typename Add>
  Status Simple(const std::string& sql, const std::string& col, const Cond& cond, Add add) {
    std::vector<Value> p{team_.value()};
    const std::string where = cond(col, p);
    KOI_ASSIGN_OR_RETURN(auto r, db_.Query(sql + where, p));
    for (const auto& row : r.rows) {
      auto it = ids_.find(row.Text(0));
      if (it != ids_.end()) add(it->second, row);
    }
    return Status::Ok();
  }

  storage::Database& db_;
  TeamIndex& ix_;
  TeamId team_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::set<std::string> active_pairs_;
};

Roaring UnionOf(std::vector<const Roaring*>& parts) {
  if (parts.empty()) return Roaring();
  if (parts.size() == 1) return *parts[0];
  return Roaring::fastunion(parts.size(), parts.data());
}

template <typename Map, typename Keys>
Roaring AnyOf(const Map& map, const Keys& keys) {
  std::vector<const Roaring*> parts;
  for (const auto& k : keys) {
    auto it = map.find(k);
    if (it != map.end()) parts.push_back(&it->second);
  }
  return UnionOf(parts);
}

template <typename Map, typename Keys>
Roaring AllOf(const Map& map, const Keys& keys, const Roaring& universe) {
  Roaring r = universe;
  for (const auto& k : keys) {
    auto it = map.find(k);
    if (it == map.end()) return Roaring();
    r &= it->second;
    if (r.isEmpty()) break;
  }
  return r;
}

template <typename Map, typename Keys>
Roaring Matching(const Map& map, const Keys& keys, Match match, const Roaring& universe) {
  if (match == Match::kAll) return AllOf(map, keys, universe);
  Roaring any = AnyOf(map, keys);
  if (match == Match::kAny) return any;
  Roaring r = universe;
  r -= any;
  return r;
}

class Evaluator {
 public:
  Evaluator(const TeamIndex& ix, const EvalContext& ctx) : ix_(ix), ctx_(ctx) {}

  Roaring Eval(const Node& n) {
    Roaring r = n.is_group ? Group(n) : Condition(n);
    if (!n.negate) return r;
    Roaring u = ix_.universe;
    u -= r;
    return u;
  }

 private:
  Roaring Group(const Node& n) {
    if (n.children.empty()) return ix_.universe;
    if (n.is_and) {
      Roaring r = Eval(n.children[0]);
      for (size_t i = 1; i < n.children.size() && !r.isEmpty(); ++i) r &= Eval(n.children[i]);
      return r;
    }
    std::vector<Roaring> parts;
    parts.reserve(n.children.size());
    for (const auto& c : n.children) parts.push_back(Eval(c));
    std::vector<const Roaring*> ptrs;
    for (const auto& p : parts) ptrs.push_back(&p);
    return UnionOf(ptrs);
  }

  Roaring Condition(const Node& n) {
    switch (n.field) {
      case Field::kCorpTag: return Matching(ix_.tags, n.texts, n.match, ix_.universe);
      case Field::kPersonalTag: return Matching(ix_.personal_tags, n.numbers, n.match, ix_.universe);
      case Field::kEmployee: return AnyOf(ix_.employees, n.texts);
      case Field::kDepartment: {
        std::set<std::string> users;
        for (auto d : n.numbers) {
          auto it = ctx_.department_employees.find(d);
          if (it != ctx_.department_employees.end()) users.insert(it->second.begin(), it->second.end());
        }
        return AnyOf(ix_.employees, users);
      }
      case Field::kAdded: return Added(AddedRange(n, ctx_.today));
      case Field::kAddWay: return AnyOf(ix_.add_ways, n.numbers);
      case Field::kChannelState: return AnyOf(ix_.states, n.texts);
      case Field::kGender: return AnyOf(ix_.genders, n.numbers);
      case Field::kStage: {
        std::vector<int64_t> ids;
        bool none = false;
        for (auto s : n.numbers) {
          if (s == 0) none = true;
          else ids.push_back(s);
        }
        Roaring r = AnyOf(ix_.stages, ids);
        if (none) {
          std::vector<const Roaring*> all;
          for (const auto& [k, b] : ix_.stages) all.push_back(&b);
          Roaring staged = UnionOf(all);
          Roaring unstaged = ix_.universe;
          unstaged -= staged;
          r |= unstaged;
        }
        return r;
      }
      case Field::kGroup: return AnyOf(ix_.groups, n.texts);
      case Field::kStatus: {
        if (n.active) return ix_.active;
        Roaring r = ix_.universe;
        r -= ix_.active;
        return r;
      }
    }
    return Roaring();
  }

  Roaring Added(DayRange range) {
    if (range.from > range.to) return Roaring();
    range.from = std::max(range.from, 0);
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
    return UnionOf(parts);
  }

  const TeamIndex& ix_;
  const EvalContext& ctx_;
};

int64_t ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

SegmentIndex::SegmentIndex(storage::Database& db, const Clock& clock, Options options)
    : db_(db), clock_(clock), options_(options) {}
SegmentIndex::~SegmentIndex() = default;

SegmentIndex::Slot& SegmentIndex::SlotOf(TeamId team) {
  std::lock_guard lock(mu_);
  auto& s = slots_[team.value()];
  if (!s) s = std::make_unique<Slot>();
  return *s;
}

namespace {

Result<int64_t> MaxChangeSeq(storage::Database& db) {
  KOI_ASSIGN_OR_RETURN(auto r, db.Query("SELECT COALESCE(MAX(seq), 0) FROM segment_changes"));
  return r.rows.at(0).Int(0);
}

Status BuildInto(storage::Database& db, TeamId team, size_t page_size, TeamIndex& ix) {
  const auto started = std::chrono::steady_clock::now();
  KOI_ASSIGN_OR_RETURN(ix.applied_upto, MaxChangeSeq(db));  // changes after this are applied on the next look
  Loader loader(db, ix, team);
  std::string after;
  for (;;) {
    KOI_ASSIGN_OR_RETURN(auto page, db.Query("SELECT external_userid FROM wecom_customers WHERE team_id = ? AND "
                                             "external_userid > ? ORDER BY external_userid LIMIT ?",
                                             {team.value(), after, static_cast<int64_t>(page_size)}));
    if (page.rows.empty()) break;
    const std::string lo = page.rows.front().Text(0), hi = page.rows.back().Text(0);
    KOI_RETURN_IF_ERROR(loader.Load([&](const std::string& col, std::vector<Value>& p) {
      p.emplace_back(Value(lo));
      p.emplace_back(Value(hi));
      return col + " >= ? AND " + col + " <= ?";
    }));
    after = hi;
    if (page.rows.size() < page_size) break;
  }
  ix.ForEachBitmap([](Roaring& b) {
    b.runOptimize();
    b.shrinkToFit();
  });
  ix.build_ms = ElapsedMs(started);
  ++ix.builds;
  return Status::Ok();
}

}  // namespace

Status SegmentIndex::Build(TeamId team) {
  Slot& slot = SlotOf(team);
  std::lock_guard lock(slot.mu);
  auto fresh = std::make_unique<TeamIndex>();
  if (slot.index) {
    fresh->builds = slot.index->builds;
    fresh->incremental = slot.index->incremental;
  }
  KOI_RETURN_IF_ERROR(BuildInto(db_, team, options_.page_size, *fresh));
  spdlog::info("segment index for team {} built: {} customers in {} ms", team.value(), fresh->universe.cardinality(),
               fresh->build_ms);
  slot.index = std::move(fresh);
  return Status::Ok();
}

Status SegmentIndex::Refresh(TeamId team, Slot& slot) {
  auto rebuild = [&]() -> Status {
    auto fresh = std::make_unique<TeamIndex>();
    if (slot.index) {
      fresh->builds = slot.index->builds;
      fresh->incremental = slot.index->incremental;
    }
    KOI_RETURN_IF_ERROR(BuildInto(db_, team, options_.page_size, *fresh));
    slot.index = std::move(fresh);
    return Status::Ok();
  };
  if (!slot.index) return rebuild();
  TeamIndex& ix = *slot.index;
  KOI_ASSIGN_OR_RETURN(auto horizon, db_.Query("SELECT COALESCE(MAX(upto), 0) FROM segment_change_horizon"));
  if (ix.applied_upto < horizon.rows.at(0).Int(0)) return rebuild();  // changes we had not read were purged

  const int64_t lag = db_.engine() == storage::Engine::kPostgres ? 1000 : 0;
  const int64_t low = std::max<int64_t>(0, ix.applied_upto - lag);
  // Usually nothing changed: count what the window holds before reading it (on PostgreSQL the window re-covers the
  // last `lag` changes, which a transaction may commit after later ones).
  KOI_ASSIGN_OR_RETURN(auto probe, db_.Query("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM segment_changes WHERE "
                                             "team_id = ? AND seq > ?", {team.value(), low}));
  if (probe.rows.at(0).Int(0) == static_cast<int64_t>(ix.recent.size()) && probe.rows.at(0).Int(1) <= ix.applied_upto)
    return Status::Ok();
  KOI_ASSIGN_OR_RETURN(auto changes, db_.Query("SELECT seq, external_userid FROM segment_changes WHERE team_id = ? "
                                               "AND seq > ? ORDER BY seq LIMIT ?",
                                               {team.value(), low,
                                                static_cast<int64_t>(options_.rebuild_threshold + lag + 1)}));
  std::set<std::string> changed;
  std::vector<int64_t> seqs;
  for (const auto& row : changes.rows) {
    if (ix.recent.count(row.Int(0))) continue;
    seqs.push_back(row.Int(0));
    changed.insert(row.Text(1));
  }
  if (seqs.empty()) return Status::Ok();
  if (changed.size() > options_.rebuild_threshold ||
      changes.rows.size() > static_cast<size_t>(options_.rebuild_threshold + lag))
    return rebuild();

  // The changed customers' ids, then every bit they had, then their facts as they are now.
  std::vector<std::string> names(changed.begin(), changed.end());
  Roaring gone;
  constexpr size_t kChunk = 500;
  for (size_t i = 0; i < names.size(); i += kChunk) {
    std::vector<std::string> part(names.begin() + i, names.begin() + std::min(names.size(), i + kChunk));
    std::vector<Value> p{team.value()};
    const std::string in = Marks(p, part);
    KOI_ASSIGN_OR_RETURN(auto keys, db_.Query("SELECT id FROM customer_keys WHERE team_id = ? AND external_userid IN (" +
                                              in + ")", p));
    for (const auto& row : keys.rows) gone.add(static_cast<uint32_t>(row.Int(0)));
  }
  ix.ForEachBitmap([&gone](Roaring& b) {
    if (b.intersect(gone)) b -= gone;
  });
  Loader loader(db_, ix, team);
  for (size_t i = 0; i < names.size(); i += kChunk) {
    std::vector<std::string> part(names.begin() + i, names.begin() + std::min(names.size(), i + kChunk));
    KOI_RETURN_IF_ERROR(loader.Load([&](const std::string& col, std::vector<Value>& p) {
      return col + " IN (" + Marks(p, part) + ")";
    }));
  }
  ix.incremental += static_cast<int64_t>(names.size());
  for (int64_t s : seqs) {
    ix.recent.insert(s);
    ix.applied_upto = std::max(ix.applied_upto, s);
  }
  ix.recent.erase(ix.recent.begin(), ix.recent.upper_bound(ix.applied_upto - lag));
  if (lag == 0) ix.recent.clear();
  return Status::Ok();
}

Status SegmentIndex::Evaluate(TeamId team, const Node& rule, const EvalContext& ctx,
                              const std::function<void(const Roaring&)>& use) {
  Slot& slot = SlotOf(team);
  std::lock_guard lock(slot.mu);
  KOI_RETURN_IF_ERROR(Refresh(team, slot));
  const TeamIndex& ix = *slot.index;
  Evaluator ev(ix, ctx);
  Roaring r = ev.Eval(rule);
  if (ctx.scope_userids) {
    Roaring scope = AnyOf(ix.employees_any, *ctx.scope_userids);
    r &= scope;
  }
  use(r);
  return Status::Ok();
}

IndexStats SegmentIndex::Stats(TeamId team) {
  Slot& slot = SlotOf(team);
  std::lock_guard lock(slot.mu);
  IndexStats s;
  if (!slot.index) return s;
  TeamIndex& ix = *slot.index;
  s.customers = static_cast<int64_t>(ix.universe.cardinality());
  ix.ForEachBitmap([&s](Roaring& b) {
    ++s.bitmaps;
    s.bytes += static_cast<int64_t>(b.getSizeInBytes(false));
  });
  s.build_ms = ix.build_ms;
  s.builds = ix.builds;
  s.incremental_customers = ix.incremental;
  return s;
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
    total.builds += s.builds;
    total.incremental_customers += s.incremental_customers;
    total.build_ms = std::max(total.build_ms, s.build_ms);
  }
  return total;
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

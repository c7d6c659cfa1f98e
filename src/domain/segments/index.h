// The segment index (issue 6): per team, in memory, one roaring bitmap of customer ids per value of every field a
// rule can test — corp tag, personal tag, employee, add way, channel state, gender, stage, group chat, status, and
// the days (and months) on which active relationships were added. A rule is evaluated with bitmap AND/OR/ANDNOT,
// so its exact count costs microseconds to milliseconds however many customers the team has.
//
// Customer ids are customer_keys.id: a stable integer per (team, external_userid), assigned by a trigger when the
// mirror first stores the customer. The index is built from the database on first use (in pages, in bounded
// memory) and kept current from segment_changes, which triggers on every table the index reads append to in the
// same transaction as the write. Before each evaluation the index applies the changes since it last looked: only
// the changed customers are reloaded (a tag change touches one customer's bits, not a rebuild), so results are
// exact as of the moment of the query, whichever process wrote the change. Many changes at once (a full sync)
// rebuild instead.
//
// Thread safety: SegmentIndex is thread-safe; one team's index is used under that team's lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "domain/customers/customers.h"
#include "domain/segments/rule.h"
#include "storage/database.h"

class Roaring;  // <roaring/roaring.hh> (CRoaring's C++ class lives in the global namespace)

namespace koi::segments {

// What an evaluation needs besides the rule: "today" and each department's employees (below it included).
struct EvalContext {
  int32_t today = 0;
  std::map<int64_t, std::vector<std::string>> department_employees;
  // Limit to customers with a relationship (any status) with these employees; nullopt: the whole team.
  std::optional<std::vector<std::string>> scope_userids;
  // The customer list's search (admins only: every relationship's remarks count): only customers whose name or
  // company, or a relationship's remark, remark mobiles or remark company, holds `search`, or whose initials
  // columns hold `search_initials` (when not empty), exactly as the list's LIKE conditions on this engine say.
  std::optional<std::string> search;
  std::string search_initials;
};

struct IndexStats {
  int64_t customers = 0;
  int64_t bitmaps = 0;
  int64_t bytes = 0;            // the bitmaps' serialized size (and the per-customer add days) at the last build
  int64_t search_text_bytes = 0;  // the search texts kept per customer, at the last build
  int64_t build_ms = 0;         // the last full build
  int64_t builds = 0;
  int64_t incremental_customers = 0;  // customers reloaded from changes since start
};

class TeamIndex;

class SegmentIndex {
 public:
  struct Options {
    size_t page_size = 60000;          // customers per page when building (10M: 45.0 s, against 46.6–50.4 at 20,000)
    size_t rebuild_threshold = 20000;  // more changed customers than this since the last look: rebuild
    int build_threads = 2;             // each needs a database connection while it loads
    // An add-time range inside a set smaller than 1/ratio of the team tests its customers one by one (0: always).
    uint64_t added_lookup_ratio = 16;
  };
  SegmentIndex(storage::Database& db, const Clock& clock, Options options);
  SegmentIndex(storage::Database& db, const Clock& clock) : SegmentIndex(db, clock, Options{}) {}
  ~SegmentIndex();

  // The matching customer ids, exact as of now. The callback runs under the team's lock with the result.
  Status Evaluate(TeamId team, const Node& rule, const EvalContext& ctx,
                  const std::function<void(const Roaring&)>& use);
  // Evaluate, but never waits: kUnavailable when the team's index is in use, not built yet, or would have to be
  // rebuilt to be current (the customer list then counts with SQL rather than stall a page).
  Status TryEvaluate(TeamId team, const Node& rule, const EvalContext& ctx,
                     const std::function<void(const Roaring&)>& use);

  // What the mass-message planner needs of a target (issue 7), exact as of now, under the team's lock: for every
  // employee with an active relationship with a target customer, employee(userid, those customers, those of them
  // whose most recent active relationship is this one — ties go to the smaller userid); then lost(the target
  // customers without an active relationship, those of them whose last relationship the customer ended).
  Status SenderFacts(TeamId team, const Roaring& target,
                     const std::function<void(const std::string& userid, const Roaring& active,
                                              const Roaring& newest)>& employee,
                     const std::function<void(const Roaring& none, const Roaring& ended_by_customer)>& lost);

  // How many relationships (any status, or active ones) the team has with `userids` (nullptr: with anyone): the
  // sum of the employees' bitmaps, since a customer has at most one relationship with an employee. Never waits.
  Result<int64_t> TryRelationshipCount(TeamId team, const std::vector<std::string>* userids, bool active);

  // Customers whose name, company, or a relationship's remark, remark mobiles or remark company may contain `text`:
  // they hold each pair of adjacent characters of it (its one character, if that is all), ASCII letters folded —
  // a superset of those that do, for the caller to re-check. Never waits (kUnavailable as TryEvaluate);
  // kResourceExhausted when there are more than `limit`.
  Result<std::vector<int64_t>> TrySearchCandidates(TeamId team, std::string_view text, size_t limit);

  // One page of the customer list in its order by time (customers' last_add_time, newest or oldest first, ties by
  // external_userid), found from `rule`'s matches and the index's day buckets (UTC+8) of last_add_time. The page
  // lies in the buckets it overlaps: last_add_time in [from_s, to_s), where `skip` matches come before it in the
  // list's order; "those matches, ordered, LIMIT limit OFFSET skip" is the page. `ids` are those matches when there
  // are at most `max_ids` (else empty, ids_listed false). `total` is every match; no bucket overlaps a page past
  // the end (overlaps false). Never waits (kUnavailable as TryEvaluate).
  using Window = customers::ListAccelerator::Window;
  Result<Window> TryWindow(TeamId team, const Node& rule, const EvalContext& ctx, bool newest_first, int64_t offset,
                           int64_t limit, size_t max_ids);

  // Builds (or rebuilds) the team's index now.
  Status Build(TeamId team);
  // Builds the index of every linked team that has none yet (at start, so the first count is instant).
  Status WarmAll();
  // Makes builds in progress give up (kUnavailable) at their next page; for shutdown.
  void Stop();
  bool stopping() const { return stopping_.load(); }
  // The figures as of the team's last build or change (never waits for a build in progress).
  IndexStats Stats(TeamId team);
  IndexStats TotalStats();

  // Deletes applied change rows older than the newest `keep` (every index checks the horizon and rebuilds if it
  // had not yet read what was deleted).
  Status PurgeChanges(int64_t keep);

 private:
  struct Slot {
    std::timed_mutex mu;  // held while the index is refreshed or read (a build holds it for its whole duration)
    std::atomic<bool> building{false};  // a build holds mu
    std::atomic<bool> stale{false};     // a reader that must not wait found that only a (re)build catches up
    std::atomic<bool> build_queued{false};  // BuildSoon's thread has not finished yet
    std::unique_ptr<TeamIndex> index;
    std::mutex stats_mu;  // guards `stats` only, so /metrics never waits for a build
    IndexStats stats;
  };
  Slot& SlotOf(TeamId team);
  // Copies the index's figures into slot.stats; under slot.mu.
  static void Publish(Slot& slot);
  // Brings the index up to date; without `may_rebuild`, kUnavailable where that needs a (re)build.
  Status Refresh(TeamId team, Slot& slot, bool may_rebuild = true);
  // Locks the team's index and brings it up to date, for a caller that must not wait for a build: kUnavailable when
  // one runs, when only a (re)build would catch up (one is then started in the background), or when the lock is
  // held longer than a read takes.
  Result<std::unique_lock<std::timed_mutex>> LockCurrentWithoutWaiting(TeamId team, Slot& slot);
  // Builds the team's index on a background thread, once at a time, so that non-waiting readers get it back.
  void BuildSoon(TeamId team, Slot& slot);
  // Evaluates on the team's index as it is; under slot.mu, after Refresh.
  Status EvaluateLocked(Slot& slot, const Node& rule, const EvalContext& ctx,
                               const std::function<void(const Roaring&)>& use);

  storage::Database& db_;
  const Clock& clock_;
  Options options_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::map<int64_t, std::unique_ptr<Slot>> slots_;
  std::mutex builders_mu_;
  std::vector<std::thread> builders_;  // BuildSoon's; joined by the destructor
};

}  // namespace koi::segments

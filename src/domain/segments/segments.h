// Segments (issue 6): "which customers", as a rule (domain/segments/rule.h) counted exactly and instantly by the
// segment index, saved under a name with its size over time, and used as the target of bulk actions.
//
// Data permission is the customer list's: an admin's counts cover the team; a member's only the customers of the
// employees they may see (customers/customers.h, Scope). References in a rule (tags, stages, departments,
// employees, groups, personal tags) must be the team's; a member may use only their own personal tags.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "domain/customers/customers.h"
#include "domain/segments/index.h"
#include "domain/segments/rule.h"
#include "storage/database.h"

namespace koi::segments {

struct SampleCustomer {
  std::string external_userid;
  std::string name;
  std::string corp_name;
  int type = 1;
  int gender = 0;
};

struct Preview {
  int64_t customers = 0;
  std::vector<SampleCustomer> sample;  // the first few matches
  int64_t took_us = 0;                 // evaluation time (index refresh included)
};

struct SizePoint {
  std::string day;  // YYYY-MM-DD (UTC+8)
  int64_t customers = 0;
};

struct Segment {
  int64_t id = 0;
  std::string name;
  std::string rule;  // canonical JSON
  int64_t customers = 0;  // now, in the caller's scope
  int64_t created_by = 0;
  std::string created_by_name;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::vector<SizePoint> history;  // Get only: daily sizes (team-wide), oldest first, the last 90 days
  std::string problem;  // why it cannot be counted now (it refers to a tag, stage, … deleted since); else ""
};

struct SegmentPage {
  std::vector<Segment> items;
  int64_t total = 0;
};

// Who sends to a customer when a segment is the target of a message: one employee per customer.
struct SenderGroup {
  std::string userid;
  std::string employee_name;
  int64_t customers = 0;
};
struct SenderPlan {
  int64_t customers = 0;
  std::vector<SenderGroup> senders;  // most customers first
  std::string rule;                  // the choice, stated: "most_recent_relationship"
};

inline constexpr size_t kMaxSegmentNameChars = 30;
inline constexpr size_t kMaxSegmentsPerTeam = 500;
inline constexpr size_t kSampleSize = 10;
// A page window of the customer list names its customers to SQL when there are at most this many (else SQL reads the
// days the page overlaps through the add-time index).
inline constexpr size_t kMaxWindowIds = 500;

// The customer list's accelerator (customers::ListAccelerator) answered by the index, never waiting for it. Counts
// for the filters whose meaning the index holds exactly: one row per customer, no search, and only corp tags
// (admins), stage, gender, personal tags (admins), custom field options and status "active" (admins); a member's
// scope is the employees they see. Search candidates from the index's character grams.
class IndexListAccelerator final : public customers::ListAccelerator {
 public:
  explicit IndexListAccelerator(SegmentIndex& index, size_t max_window_ids = kMaxWindowIds)
      : index_(index), max_window_ids_(max_window_ids) {}
  std::optional<int64_t> Count(TeamId team, const customers::Scope& scope,
                               const customers::CustomerFilter& filter) override;
  std::optional<std::vector<int64_t>> SearchCandidates(TeamId team, std::string_view text, size_t limit) override;
  // For the filters Count answers; keys listed when at most max_window_ids.
  std::optional<Window> PageWindow(TeamId team, const customers::Scope& scope, const customers::CustomerFilter& filter,
                                   int64_t offset, int64_t limit) override;

 private:
  SegmentIndex& index_;
  size_t max_window_ids_;
};

class SegmentService {
 public:
  SegmentService(storage::Database& db, const Clock& clock, SegmentIndex& index, customers::CustomerService& customers)
      : db_(db), clock_(clock), index_(index), customers_(customers) {}

  Result<Preview> Count(const accounts::Principal& who, std::string_view rule_json);

  Result<SegmentPage> List(const accounts::Principal& who, int page, int page_size);
  Result<Segment> Get(const accounts::Principal& who, int64_t id);
  // Names 1–30 characters, unique in the team; at most 500 segments per team.
  Result<Segment> Create(const accounts::Principal& who, std::string_view name, std::string_view rule_json);
  // Its creator or an admin. Unset fields stay.
  Result<Segment> Update(const accounts::Principal& who, int64_t id, std::optional<std::string> name,
                         std::optional<std::string> rule_json);
  Status Delete(const accounts::Principal& who, int64_t id);
  // Records today's size of every segment of every team (the daily history); run by the segments.snapshot job.
  Status SnapshotAll();

  // The active relationships of the customers a rule matches, in the caller's scope, for bulk tagging (over
  // wecom_follows f; see customers::BulkTagRequest::target).
  Result<customers::ListQuery> RelationshipsOf(const accounts::Principal& who, std::string_view rule_json);
  // The stored rule of a segment the caller may see.
  Result<std::string> RuleOf(const accounts::Principal& who, int64_t id);

  // The customers (customer_keys ids, ascending) a rule matches in the caller's scope: the target of a message.
  Result<std::vector<uint32_t>> Members(const accounts::Principal& who, std::string_view rule_json);
  // One sender per matching customer: of the customer's active relationships with employees the caller may see,
  // the one added most recently.
  Result<SenderPlan> Senders(const accounts::Principal& who, std::string_view rule_json);

 private:
  struct Prepared {
    Node rule;
    EvalContext ctx;
    bool nothing = false;  // an unbound member: nothing can match
  };
  Result<Prepared> Prepare(const accounts::Principal& who, std::string_view rule_json);
  Result<Prepared> PrepareFor(TeamId team, const customers::Scope& scope, int64_t account, std::string_view rule_json);
  Status CheckReferences(TeamId team, const Node& rule, bool admin, int64_t account, EvalContext& ctx);
  Result<int64_t> CountPrepared(TeamId team, const Prepared& p);
  Result<Segment> Load(const accounts::Principal& who, int64_t id);
  int32_t Today() const;

  storage::Database& db_;
  const Clock& clock_;
  SegmentIndex& index_;
  customers::CustomerService& customers_;
};

}  // namespace koi::segments

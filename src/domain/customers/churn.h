// Churn reminders (流失提醒, issue 5): the customer–employee relationships that ended because the customer deleted
// the employee, the employee deleted the customer, or the reconcile found them gone (wecom_follows.deleted_by
// customer | employee | sync; a handover is not churn). The mirror marks them as the callbacks and syncs arrive;
// this reads them: a list newest loss first, and an account's unread ones since it last looked (by when Koi learnt
// of each loss) — the console's notification. Reading is derived from the mirror, so a replayed callback or a reconcile never notifies twice.
//
// Data permission as for the customer list: admins see the team's churn, a member its employee's (or department's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/customers/customers.h"

namespace koi::customers {

struct ChurnQuery {
  std::vector<std::string> userids;     // lost by any of these employees
  std::string deleted_by;               // customer | employee | sync; "" any
  std::optional<int64_t> lost_from_ms;  // lost at or after
  std::optional<int64_t> lost_to_ms;    // lost before
};

struct ChurnItem {
  std::string external_userid;
  std::string name;
  int type = 1;
  int gender = 0;
  std::string corp_name;
  std::string userid;
  std::string employee_name;
  std::string remark;
  int64_t add_time_ms = 0;
  int64_t lost_at_ms = 0;
  std::string deleted_by;
  std::vector<TagRef> tags;             // the relationship's corp tags when it ended
  bool still_followed = false;          // another employee still follows the customer
};

struct ChurnPage {
  std::vector<ChurnItem> items;
  int64_t total = 0;
  int64_t last_7_days = 0;              // in the caller's scope, whatever the query
  int64_t last_30_days = 0;
};

struct ChurnUnread {
  int64_t count = 0;
  int64_t seen_at_ms = 0;
  std::vector<ChurnItem> items;         // the newest, at most kUnreadShown
};

inline constexpr int kUnreadShown = 5;
inline constexpr int64_t kUnseenWindowMs = 7LL * 24 * 3600 * 1000;  // an account that never looked: the last week

class ChurnService {
 public:
  ChurnService(storage::Database& db, const Clock& clock, CustomerService& customers)
      : db_(db), clock_(clock), customers_(customers) {}

  // Errors: invalid_filter (deleted_by), invalid_time_range.
  Result<ChurnPage> List(const accounts::Principal& who, const ChurnQuery& query, int page, int page_size);
  Result<ChurnUnread> Unread(const accounts::Principal& who);
  // Everything lost until now counts as seen by the caller's account; returns that time.
  Result<int64_t> MarkSeen(const accounts::Principal& who);

 private:
  // The items of `sql` (selecting kChurnColumns) with their tags and whether they are still followed.
  Result<std::vector<ChurnItem>> Items(TeamId team, const std::string& sql, const std::vector<storage::Value>& params);
  Result<int64_t> SeenAt(const accounts::Principal& who);

  storage::Database& db_;
  const Clock& clock_;
  CustomerService& customers_;
};

}  // namespace koi::customers

// Customer stages (客户阶段) and capacity (issue 5). A team defines its pipeline (e.g. 新客 → 意向 → 成交 → 复购);
// each customer is in at most one stage; changing it is recorded on the customer's timeline. Capacity: how many
// customers the corp holds against its rule pack's limit (200 unverified, 50,000 verified in wecom-2025), and the
// employees close to the per-member limit, with warnings at 80 % and 95 %.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customers/customers.h"

namespace koi::customers {

inline constexpr size_t kMaxStages = 20;

struct Stage {
  int64_t id = 0;
  std::string name;
  int64_t sort = 0;
  int64_t customers = 0;  // in this stage, among those the caller may see
};

struct StageBoard {
  std::vector<Stage> stages;  // pipeline order
  int64_t unstaged = 0;       // visible customers in no stage
};

struct EmployeeLoad {
  std::string userid;
  std::string name;
  int64_t customers = 0;
};

struct Capacity {
  int64_t customers = 0;  // with at least one active relationship
  bool corp_verified = true;
  int64_t limit = 0;      // of the corp, by verification, from the rule pack
  std::string level;      // ok | warning (>= 80 %) | critical (>= 95 %)
  int64_t member_limit = 0;
  std::vector<EmployeeLoad> busy_employees;  // at or above 80 % of member_limit, fullest first (at most 20)
  std::string rule_pack;
};

class StageService {
 public:
  StageService(storage::Database& db, const Clock& clock, CustomerService& customers)
      : db_(db), clock_(clock), customers_(customers) {}

  Result<StageBoard> Board(const accounts::Principal& who);
  // Admin only. Names 1–30 characters, unique in the team; at most 20 stages.
  Result<Stage> Create(const accounts::Principal& who, std::string_view name);
  Status Rename(const accounts::Principal& who, int64_t id, std::string_view name);
  // Customers in the stage are left in none.
  Status Delete(const accounts::Principal& who, int64_t id);
  // `ids`: every stage of the team, in the new order.
  Status Reorder(const accounts::Principal& who, const std::vector<int64_t>& ids);
  // Puts a customer the caller may see in stage `id` (0: in none). Returns the stage (nullopt for none).
  Result<std::optional<Stage>> SetCustomerStage(const accounts::Principal& who, std::string_view external_userid,
                                                int64_t id);

  Result<Capacity> CapacityOf(TeamId team);
  // Admin only: whether the corp is verified (WeCom's API does not tell).
  Status SetCorpVerified(const accounts::Principal& who, bool verified);

 private:
  storage::Database& db_;
  const Clock& clock_;
  CustomerService& customers_;
};

}  // namespace koi::customers

// A segment rule as SQL: a boolean expression over `c` (a wecom_customers row) with the same meaning as the
// index's evaluation. The property test checks the index against it on both engines, the benchmark times it as
// the "what a database would do" baseline, and bulk actions over a segment select their relationships with it.
#pragma once

#include <string>
#include <vector>

#include "domain/segments/index.h"
#include "domain/segments/rule.h"
#include "storage/database.h"

namespace koi::segments {

// Appends the expression's parameters to `params`. ctx.scope_userids limits it like the index does.
std::string RuleToSql(const Node& rule, const EvalContext& ctx, std::vector<storage::Value>& params);

}  // namespace koi::segments

// Segment rules (issue 6): the one JSON form of "which customers" used by the console, the API and stored
// segments (api/openapi.yaml, SegmentRule). A rule is a tree: groups join their children with AND or OR, any node
// may be negated, and leaves are conditions on one field of the customer.
//
//   {"op": "and", "children": [
//      {"field": "corp_tag", "match": "all", "values": ["et_vip", "et_2025"]},
//      {"op": "or", "not": true, "children": [{"field": "stage", "values": [3]}, {"field": "gender", "values": [2]}]},
//      {"field": "added", "within_days": 30}]}
//
// Relationship facts (corp tags, employee, department, add time, add way, channel state) are read from the
// customer's active relationships: "has tag X" means some employee who still has the customer tagged them X.
// Days are calendar days in China Standard Time (UTC+8), inclusive at both ends.
//
// Parse() checks the shape and every value it can check without the database, and reports the first bad node by
// its path ("rule.children[1].values[0]: …"). References to the team's data (tags, stages, …) are checked by the
// segment service, which knows the team.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace koi::segments {

enum class Field {
  kCorpTag,      // values: tag ids; match any | all | none
  kPersonalTag,  // values: personal tag ids; match any | all | none
  kEmployee,     // values: userids (an active relationship with any of them)
  kDepartment,   // values: department ids (an employee of that department or one below it)
  kAdded,        // from/to (YYYY-MM-DD) or within_days: an active relationship added on those days
  kAddWay,       // values: WeCom add_way codes
  kChannelState, // values: the channel live code's state parameter
  kGender,       // values: 0 unknown, 1 male, 2 female
  kStage,        // values: stage ids; 0 means "in no stage"
  kGroup,        // values: group chat ids the customer is a member of
  kStatus,       // value: active (at least one active relationship) | lost (none left)
  kCustomField,  // values: option ids of the team's choice custom fields; match any | all | none
  kCustomValue,  // field_id of a number field with min/max, or of a date field with from/to (inclusive; one bound
                 // may be left out): the customer's value of that field lies in the range
};

enum class Match { kAny, kAll, kNone };

struct Node {
  bool is_group = false;
  bool negate = false;
  // group
  bool is_and = true;
  std::vector<Node> children;
  // condition
  Field field = Field::kCorpTag;
  Match match = Match::kAny;
  std::vector<std::string> texts;   // corp_tag, employee, channel_state, group
  std::vector<int64_t> numbers;     // personal_tag, department, add_way, gender, stage, custom_field
  std::optional<int32_t> from_day;  // added: days since 1970-01-01 in UTC+8
  std::optional<int32_t> to_day;
  std::optional<int32_t> within_days;
  int64_t field_id = 0;               // custom_value
  std::optional<double> min_value;    // custom_value of a number field
  std::optional<double> max_value;
  bool active = true;               // status
  std::string path;                 // where this node is in the JSON ("rule.children[2]"), for errors
};

inline constexpr size_t kMaxChildren = 50;
inline constexpr size_t kMaxDepth = 6;
inline constexpr size_t kMaxValues = 500;
inline constexpr size_t kMaxNodes = 300;
inline constexpr int32_t kMaxWithinDays = 3660;

// Parses and checks a rule. Errors are kInvalidArgument with reason "invalid_segment_rule" and a message that
// starts with the bad node's path.
Result<Node> ParseRule(std::string_view json_text);
// The canonical JSON of a rule (what is stored; Parse(Serialize(r)) == r).
std::string SerializeRule(const Node& rule);

std::string_view FieldName(Field field);

// "YYYY-MM-DD" (1900–2200) as days since 1970-01-01, or nullopt.
std::optional<int32_t> ParseDay(std::string_view text);
// The largest magnitude of a custom_value bound (a number field holds at most 15 digits).
inline constexpr double kMaxCustomNumber = 1e15;

// Day arithmetic in UTC+8, shared by the index, the SQL form and the console's "within N days".
inline constexpr int64_t kDayOffsetSeconds = 8 * 3600;
inline int32_t DayOf(int64_t unix_seconds) {
  int64_t s = unix_seconds + kDayOffsetSeconds;
  return static_cast<int32_t>(s >= 0 ? s / 86400 : (s - 86399) / 86400);
}
// Days since 1970-01-01 as YYYY-MM-DD.
std::string FormatDay(int32_t day);
inline int64_t DayStartSeconds(int32_t day) { return int64_t{day} * 86400 - kDayOffsetSeconds; }
// The inclusive day range a kAdded condition covers on `today` (within_days N: today and the N-1 days before).
struct DayRange {
  int32_t from = 0;
  int32_t to = 0;
};
DayRange AddedRange(const Node& condition, int32_t today);

}  // namespace koi::segments

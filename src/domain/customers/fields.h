// Custom fields (自定义字段, issue 5): a team defines extra facts it keeps about customers — a text ("preferred
// store"), a number ("shoe size"), a date ("birthday"), one choice ("membership level") or several ("interests").
// Every member who may see a customer may fill its fields on the profile; each change is on the customer's
// timeline ("field_changed", detail "name: old → new"). Choices are option ids, so renaming an option renames it
// on every customer, and segments (issue 6) and the customer list can test them.
//
// Storage: customer_fields (the definitions, in the team's order), customer_field_options (a choice field's
// options, in order), customer_field_values (one row per text/number/date value with option_id 0, one row per
// chosen option with value ''). The segment index watches customer_field_values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customers/customers.h"

namespace koi::customers {

inline constexpr size_t kMaxFields = 50;
inline constexpr size_t kMaxFieldOptions = 100;
inline constexpr size_t kMaxFieldNameChars = 30;
inline constexpr size_t kMaxOptionChars = 30;
inline constexpr size_t kMaxFieldTextChars = 200;

enum class FieldKind { kText, kNumber, kDate, kSelect, kMultiSelect };

std::string_view FieldKindName(FieldKind kind);
std::optional<FieldKind> FieldKindOf(std::string_view name);

struct FieldOption {
  int64_t id = 0;  // 0 in an edit: a new option
  std::string label;
};

struct CustomField {
  int64_t id = 0;
  std::string name;
  FieldKind kind = FieldKind::kText;
  std::vector<FieldOption> options;  // choice fields, in order
  int64_t sort = 0;
  int64_t customers = 0;             // customers with a value (of the whole team)
};

// One field's value on a customer: `value` for text, number (decimal text) and date (YYYY-MM-DD); `option_ids`
// (in the field's option order) for choices. A field without a value has no FieldValue.
struct FieldValue {
  int64_t field_id = 0;
  std::string value;
  std::vector<int64_t> option_ids;
};

// A change asked for: value "" / no options clears the field.
struct FieldEdit {
  int64_t field_id = 0;
  std::string value;
  std::vector<int64_t> option_ids;
};

class FieldService {
 public:
  FieldService(storage::Database& db, const Clock& clock, CustomerService& customers)
      : db_(db), clock_(clock), customers_(customers) {}

  // `with_counts`: also how many customers have a value of each (a scan of the team's values: for the fields page).
  Result<std::vector<CustomField>> List(TeamId team, bool with_counts);
  // Admin only. Names 1–30 characters, unique in the team; at most 50 fields. Choice fields need 1–100 distinct
  // options of 1–30 characters; other kinds take none.
  Result<CustomField> Create(const accounts::Principal& who, std::string_view name, std::string_view kind,
                             const std::vector<std::string>& options);
  // Admin only. Renames; for a choice field, `options` (when given) is the new list in order: an option with an id
  // keeps it (renamed if its label changed), one without is added, an option left out is removed from every
  // customer. The kind never changes.
  Result<CustomField> Update(const accounts::Principal& who, int64_t id, std::optional<std::string_view> name,
                             const std::optional<std::vector<FieldOption>>& options);
  // Admin only. Removes the field and every customer's value of it.
  Status Delete(const accounts::Principal& who, int64_t id);
  // Admin only. `ids`: every field of the team, in the new order.
  Status Reorder(const accounts::Principal& who, const std::vector<int64_t>& ids);

  // A customer's values (of fields that exist), in the fields' order.
  Result<std::vector<FieldValue>> ValuesOf(TeamId team, std::string_view external_userid);
  // Sets the named fields of a customer the caller may see (others are left as they are), all or nothing, and
  // records each change on the timeline. Returns the customer's values afterwards.
  Result<std::vector<FieldValue>> SetValues(const accounts::Principal& who, std::string_view external_userid,
                                            const std::vector<FieldEdit>& edits);

 private:
  storage::Database& db_;
  const Clock& clock_;
  CustomerService& customers_;
};

// Checks and normalises one value of a text, number or date field (number: an optional minus, up to 15 digits,
// optionally a point and up to 6 more; date: a real YYYY-MM-DD between 1900 and 2100). "" stays "".
Result<std::string> NormalizeFieldValue(FieldKind kind, std::string_view raw);

}  // namespace koi::customers

// StrongId<Tag>: an integer id that cannot be mixed up with another kind of id.
//
// `TeamId` and `JobId` are both int64 in the database, but a function taking a TeamId will not accept a JobId.
// Ids cross module boundaries only as strong types. Value type; thread-safe as any int.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace koi {

template <typename Tag, typename Rep = int64_t>
class StrongId {
 public:
  using rep_type = Rep;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep value) : value_(value) {}
  constexpr Rep value() const { return value_; }
  constexpr bool valid() const { return value_ != Rep{}; }
  constexpr auto operator<=>(const StrongId&) const = default;

 private:
  Rep value_{};
};

using TeamId = StrongId<struct TeamIdTag>;
using JobId = StrongId<struct JobIdTag>;

}  // namespace koi

template <typename Tag, typename Rep>
struct std::hash<koi::StrongId<Tag, Rep>> {
  size_t operator()(const koi::StrongId<Tag, Rep>& id) const noexcept { return std::hash<Rep>{}(id.value()); }
};

// SearchTexts: the segment index's copy of what the customer list's search tests, per customer (index.cc).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace koi::segments {

// The customer list's search texts, one per customer: the non-empty columns its LIKE conditions test on the query
// (name, company, and every relationship's remark, remark mobiles unless "[]", and remark company) separated by
// \0, then, if any, \1 and those it tests on the pinyin initials (name_py, remark_py) separated by \0. On SQLite,
// whose LIKE ignores ASCII case, ASCII letters are stored folded. An entry is its length (a varint: one byte below
// 128) and the bytes, in one arena; per customer id its offset + 1, in pages allocated only where the team has
// customers (ids are shared by all teams). A changed customer's new entry is appended and the old one left unused
// until the arena is compacted.
class SearchTexts {
 public:
  static constexpr uint32_t kPageBits = 12;

  // Offsets are 32-bit: 4 GB of text (over 100M customers of one team at the benchmark's 31 bytes). Past that,
  // once compacting no longer makes room, offsets would wrap: a team that large needs wider offsets first.
  void Set(uint32_t id, std::string_view text) {
    if (arena_.size() + text.size() + kMaxLengthBytes > std::numeric_limits<uint32_t>::max()) Compact();
    uint32_t& slot = SlotFor(id);
    if (slot) unused_ += EntryBytes(slot - 1);
    slot = static_cast<uint32_t>(arena_.size()) + 1;
    AppendLength(static_cast<uint32_t>(text.size()));
    arena_.append(text);
    if (unused_ > 4096 && unused_ > arena_.size() / 2) Compact();
  }
  void Erase(uint32_t id) {
    const size_t page = id >> kPageBits;
    if (page >= pages_.size() || !pages_[page]) return;
    uint32_t& slot = pages_[page][id & kMask];
    if (slot) unused_ += EntryBytes(slot - 1);
    slot = 0;
  }
  // nullopt: no text was stored for `id`.
  std::optional<std::string_view> Get(uint32_t id) const {
    const size_t page = id >> kPageBits;
    if (page >= pages_.size() || !pages_[page]) return std::nullopt;
    const uint32_t slot = pages_[page][id & kMask];
    if (!slot) return std::nullopt;
    return Text(slot - 1);
  }
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t page = 0; page < pages_.size(); ++page) {
      if (!pages_[page]) continue;
      for (uint32_t i = 0; i <= kMask; ++i)
        if (const uint32_t slot = pages_[page][i])
          f(static_cast<uint32_t>((page << kPageBits) | i), Text(slot - 1));
    }
  }
  // Takes every entry of `other` (an id both hold gets other's), leaving it empty: a build's parts are united with
  // one copy of the other's arena instead of an entry at a time (an entry at a time, through Set, when the two
  // arenas together would pass 4 GB).
  void Absorb(SearchTexts&& other) {
    if (arena_.empty() && page_count_ == 0) {
      *this = std::move(other);
      other = SearchTexts();
      return;
    }
    if (arena_.size() + other.arena_.size() > std::numeric_limits<uint32_t>::max()) {
      other.ForEach([this](uint32_t id, std::string_view text) { Set(id, text); });
      other = SearchTexts();
      return;
    }
    const auto base = static_cast<uint32_t>(arena_.size());
    arena_.reserve(arena_.size() + other.arena_.size());
    arena_.append(other.arena_);
    unused_ += other.unused_;
    for (size_t page = 0; page < other.pages_.size(); ++page) {
      if (!other.pages_[page]) continue;
      for (uint32_t i = 0; i <= kMask; ++i) {
        if (!other.pages_[page][i]) continue;
        uint32_t& slot = SlotFor(static_cast<uint32_t>((page << kPageBits) | i));
        if (slot) unused_ += EntryBytes(slot - 1);
        slot = base + other.pages_[page][i];
      }
    }
    other = SearchTexts();
  }
  void Shrink() {
    if (unused_ > 0) Compact();
    arena_.shrink_to_fit();
  }
  size_t Bytes() const {
    return arena_.capacity() + page_count_ * (sizeof(uint32_t) << kPageBits) + pages_.size() * sizeof(void*);
  }

 private:
  static constexpr uint32_t kMask = (uint32_t{1} << kPageBits) - 1;
  static constexpr size_t kMaxLengthBytes = 5;  // a 32-bit length as a varint
  void AppendLength(uint32_t n) {
    while (n >= 0x80) {
      arena_.push_back(static_cast<char>((n & 0x7F) | 0x80));
      n >>= 7;
    }
    arena_.push_back(static_cast<char>(n));
  }
  // The entry at `at`: where its text starts and how long it is.
  std::pair<size_t, uint32_t> Entry(uint32_t at) const {
    uint32_t n = 0;
    size_t i = at;
    for (int shift = 0;; shift += 7) {
      const auto byte = static_cast<uint8_t>(arena_[i++]);
      n |= static_cast<uint32_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) break;
    }
    return {i, n};
  }
  std::string_view Text(uint32_t at) const {
    const auto [start, n] = Entry(at);
    return std::string_view(arena_).substr(start, n);
  }
  size_t EntryBytes(uint32_t at) const {
    const auto [start, n] = Entry(at);
    return start - at + n;
  }
  uint32_t& SlotFor(uint32_t id) {
    const size_t page = id >> kPageBits;
    if (page >= pages_.size()) pages_.resize(page + 1);
    auto& p = pages_[page];
    if (!p) {
      p = std::make_unique<uint32_t[]>(size_t{1} << kPageBits);  // zeroed: no entries
      ++page_count_;
    }
    return p[id & kMask];
  }
  void Compact() {
    std::string fresh;
    fresh.reserve(arena_.size() - unused_);
    for (auto& p : pages_) {
      if (!p) continue;
      for (uint32_t i = 0; i <= kMask; ++i) {
        if (!p[i]) continue;
        const uint32_t at = p[i] - 1;
        p[i] = static_cast<uint32_t>(fresh.size()) + 1;
        fresh.append(arena_, at, EntryBytes(at));
      }
    }
    arena_ = std::move(fresh);
    unused_ = 0;
  }
  std::string arena_;
  size_t unused_ = 0;
  std::vector<std::unique_ptr<uint32_t[]>> pages_;
  size_t page_count_ = 0;
};

}  // namespace koi::segments

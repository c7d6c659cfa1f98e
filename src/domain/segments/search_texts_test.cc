#include "domain/segments/search_texts.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace koi::segments {
namespace {

std::map<uint32_t, std::string> All(const SearchTexts& texts) {
  std::map<uint32_t, std::string> out;
  texts.ForEach([&out](uint32_t id, std::string_view text) { out.emplace(id, std::string(text)); });
  return out;
}

TEST(SearchTextsTest, KeepsTheNewestTextPerCustomerAcrossPages) {
  SearchTexts texts;
  texts.Set(7, "王小明\1wxm");
  texts.Set(5000, "李华");  // another page of ids
  texts.Set(7, "王大明\1wdm");
  EXPECT_EQ(texts.Get(7), "王大明\1wdm");
  EXPECT_EQ(texts.Get(5000), "李华");
  EXPECT_EQ(texts.Get(8), std::nullopt);
  EXPECT_EQ(texts.Get(1u << 30), std::nullopt);
  texts.Erase(5000);
  EXPECT_EQ(texts.Get(5000), std::nullopt);
  texts.Shrink();  // compacts the replaced and erased entries away
  EXPECT_EQ(All(texts), (std::map<uint32_t, std::string>{{7, "王大明\1wdm"}}));
}

TEST(SearchTextsTest, AbsorbsAnotherBuildPartWhole) {
  SearchTexts a, b;
  a.Set(1, "one");
  a.Set(4097, "page two");
  a.Set(2, "stale");
  a.Set(2, "two");  // leaves an unused entry in a's arena
  b.Set(3, "three");
  b.Set(4098, "also page two");
  b.Set(9000, "");
  b.Set(1, "one, again");  // both hold 1: b's wins
  a.Absorb(std::move(b));
  EXPECT_EQ(All(b), (std::map<uint32_t, std::string>{}));
  const std::map<uint32_t, std::string> want{
      {1, "one, again"}, {2, "two"}, {3, "three"}, {4097, "page two"}, {4098, "also page two"}, {9000, ""}};
  EXPECT_EQ(All(a), want);
  a.Shrink();
  EXPECT_EQ(All(a), want);
  // Into an empty one: taken as it is.
  SearchTexts empty;
  empty.Absorb(std::move(a));
  EXPECT_EQ(All(empty), want);
  EXPECT_EQ(All(a), (std::map<uint32_t, std::string>{}));
  // An empty one absorbed: nothing changes.
  empty.Absorb(SearchTexts());
  EXPECT_EQ(All(empty), want);
}

TEST(SearchTextsTest, LongTextsKeepTheirLengthsThroughReplacesAndCompaction) {
  // Lengths are varints: one byte below 128, two below 16,384, three here.
  const std::string short_text(127, 'a'), two_bytes(128, 'b'), three_bytes(20000, 'c');
  SearchTexts texts;
  texts.Set(1, short_text);
  texts.Set(2, two_bytes);
  texts.Set(3, three_bytes);
  texts.Set(4, "");
  EXPECT_EQ(texts.Get(1), short_text);
  EXPECT_EQ(texts.Get(2), two_bytes);
  EXPECT_EQ(texts.Get(3), three_bytes);
  EXPECT_EQ(texts.Get(4), "");
  texts.Set(3, "short now");  // the 20,000-byte entry is unused: more than half the arena, so Set compacts
  texts.Set(2, three_bytes);
  texts.Erase(1);
  const std::map<uint32_t, std::string> want{{2, three_bytes}, {3, "short now"}, {4, ""}};
  EXPECT_EQ(All(texts), want);
  texts.Shrink();
  EXPECT_EQ(All(texts), want);
  EXPECT_LT(texts.Bytes(), size_t{20000 + 3 + 9 + 1 + 1} + (sizeof(uint32_t) << SearchTexts::kPageBits) + 64);
}

}  // namespace
}  // namespace koi::segments

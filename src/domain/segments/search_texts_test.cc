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

}  // namespace
}  // namespace koi::segments

#include "core/pinyin.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace koi {
namespace {

TEST(PinyinInitials, NamesBecomeTheirInitials) {
  EXPECT_EQ(PinyinInitials("王小明"), "wxm");
  EXPECT_EQ(PinyinInitials("锦鲤茶饮"), "jlcy");
  EXPECT_EQ(PinyinInitials("欧阳娜娜"), "oynn");
  EXPECT_EQ(PinyinInitials(""), "");
  EXPECT_EQ(PinyinInitials("、。！"), "");
}

TEST(PinyinInitials, AsciiIsKeptLowercasedAndOtherTextSkipped) {
  EXPECT_EQ(PinyinInitials("Tony王"), "tonyw");
  EXPECT_EQ(PinyinInitials("王 小-明 88"), "wxm88");
  EXPECT_EQ(PinyinInitials("😀王"), "w");
}

TEST(PinyinInitials, SurnamesReadTwoWaysGiveBothInitials) {
  EXPECT_EQ(PinyinInitials("曾小明"), "cxm zxm");
  EXPECT_EQ(PinyinInitials("单田芳"), "dtf stf ctf");
  // At most four variants however many such characters there are.
  const std::string many = PinyinInitials("单长重查");
  EXPECT_LE(std::count(many.begin(), many.end(), ' '), kMaxInitialsVariants - 1) << many;
  EXPECT_EQ(many.substr(0, many.find(' ')).size(), 4u);
}

TEST(PinyinInitials, BadUtf8AndLongTextsAreSafe) {
  EXPECT_EQ(PinyinInitials(std::string("\xE7\x8E", 2) + "王"), "w");
  EXPECT_EQ(PinyinInitials("\xFF\xFE"), "");
  std::string longer;
  for (int i = 0; i < 200; ++i) longer += "王";
  EXPECT_EQ(PinyinInitials(longer).size(), kMaxInitialsLength);
}

TEST(InitialsQuery, OnlyShortRunsOfLettersQualify) {
  EXPECT_EQ(InitialsQuery("WXM"), "wxm");
  EXPECT_EQ(InitialsQuery("w"), "w");
  EXPECT_EQ(InitialsQuery(""), "");
  EXPECT_EQ(InitialsQuery("wx m"), "");
  EXPECT_EQ(InitialsQuery("138"), "");
  EXPECT_EQ(InitialsQuery("王"), "");
  EXPECT_EQ(InitialsQuery(std::string(33, 'a')), "");
}

}  // namespace
}  // namespace koi

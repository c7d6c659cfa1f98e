#include "domain/accounts/credentials.h"

#include <gtest/gtest.h>

namespace koi::accounts {
namespace {

TEST(Phone, AcceptsMainlandMobilesInCommonSpellings) {
  EXPECT_EQ(*NormalizePhone("13800138000"), "13800138000");
  EXPECT_EQ(*NormalizePhone("138 0013 8000"), "13800138000");
  EXPECT_EQ(*NormalizePhone("138-0013-8000"), "13800138000");
  EXPECT_EQ(*NormalizePhone("+86 138 0013 8000"), "13800138000");
  EXPECT_EQ(*NormalizePhone("008613800138000"), "13800138000");
  EXPECT_EQ(*NormalizePhone("19912345678"), "19912345678");
}

TEST(Phone, RejectsEverythingElseWithAClearReason) {
  for (const char* bad : {"", "1380013800", "138001380001", "12800138000", "23800138000", "1380013800a",
                          "+1 415 555 0100", "13800+138000", "８６13800138000"}) {
    auto r = NormalizePhone(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().reason(), "invalid_phone") << bad;
  }
}

TEST(Password, PolicyNeedsEightCharactersWithLettersAndDigits) {
  EXPECT_TRUE(CheckPasswordPolicy("koi2026ok").ok());
  EXPECT_TRUE(CheckPasswordPolicy("锦鲤koi12345").ok());
  for (const char* weak : {"", "abc123", "abcdefgh", "12345678", "abcdef1"}) {
    EXPECT_EQ(CheckPasswordPolicy(weak).reason(), "weak_password") << weak;
  }
  EXPECT_EQ(CheckPasswordPolicy(std::string(129, 'a') + "1").reason(), "weak_password");
  // Characters, not bytes: six CJK characters and two digits are 8 characters (20 bytes).
  EXPECT_TRUE(CheckPasswordPolicy("锦鲤密码密码12").ok());
  EXPECT_EQ(CheckPasswordPolicy("锦鲤密码1").reason(), "weak_password");  // 5 characters, 13 bytes
  std::string long_cjk;
  for (int i = 0; i < 100; ++i) long_cjk += "锦";
  EXPECT_TRUE(CheckPasswordPolicy(long_cjk + "1").ok());  // 101 characters, 301 bytes
}

TEST(Password, Argon2idHashVerifiesOnlyTheRightPassword) {
  auto hash = HashPassword("koi2026ok");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_EQ(hash->find("koi2026ok"), std::string::npos);
  EXPECT_TRUE(VerifyPassword("koi2026ok", *hash));
  EXPECT_FALSE(VerifyPassword("koi2026oK", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
  EXPECT_FALSE(VerifyPassword("koi2026ok", "not a hash"));
  EXPECT_FALSE(PasswordNeedsRehash(*hash));
  auto again = HashPassword("koi2026ok");
  EXPECT_NE(*again, *hash) << "every hash has its own salt";
  EXPECT_EQ(HashPassword("short1").status().reason(), "weak_password");
}

}  // namespace
}  // namespace koi::accounts

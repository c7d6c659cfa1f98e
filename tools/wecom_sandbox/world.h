// The sandbox's world: the SQLite schema that holds simulated corps (their departments, employees, customers and
// follow relationships, corp tags, customer groups, mass messages with their tasks and send results, uploaded
// temporary media, the chat toolbar with its JS-SDK tickets and OAuth codes) and the deterministic scenario seeder.
//
// The sandbox stands in for WeCom, so this state plays WeCom's part: ids look like WeCom's (external_userid "wm…",
// chat_id "wr…", tag ids "et…"), times are Unix seconds as WeCom sends them. Everything is generated from a seed
// and a fixed "now", so the same command builds the same world byte for byte.
// Thread safety: free functions over a thread-safe storage::Database.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "core/status.h"
#include "storage/database.h"

namespace koi::sandbox {

// Creates the tables if missing (the sandbox has its own schema, not Koi's migrations).
Status InitSchema(storage::Database& db);

struct SeedSpec {
  std::string corp_id = "wwkoidemo0000001";
  std::string corp_name = "锦鲤演示企业";
  std::string secret = "koi-sandbox-secret";
  int departments = 6;
  int employees = 20;
  int customers = 500;
  int groups = 10;
  uint64_t seed = 1;
  int64_t now_s = 1'795'392'000;  // 2026-11-23 10:00 UTC+8: add times spread over the 18 months before it
  bool verified = true;
  // Where callbacks go (empty: none are sent), with the token and EncodingAESKey the corp's admin configured.
  std::string callback_url;
  std::string callback_token = "koi-callback-token";
  std::string callback_aes_key = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
};

struct SeedReport {
  int departments = 0;
  int employees = 0;
  int customers = 0;
  int follows = 0;
  int tags = 0;
  int groups = 0;
  int group_members = 0;
};

// Generators shared by the seeder and the scenario driver.
struct Person {
  std::string name;    // "王芳"
  std::string pinyin;  // "wangfang"
  int gender;          // 1 male, 2 female
};
Person RandomPerson(std::mt19937_64& rng);
std::string RandomId(std::mt19937_64& rng, const char* prefix, int length);
// A contact way's state, as a channel live code carries it ("douyin_live_1108").
std::string RandomState(std::mt19937_64& rng);

// Builds a corp. Refuses (AlreadyExists "corp_exists") when the corp id is taken; everything is one transaction.
Result<SeedReport> SeedCorp(storage::Database& db, const SeedSpec& spec);

}  // namespace koi::sandbox

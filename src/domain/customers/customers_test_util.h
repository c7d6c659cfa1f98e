// Test helpers shared by the tests of the modules on the customer base (customers, segments): accounts written
// straight into the database, and WeCom customers and relationships to feed the mirror with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/accounts/accounts.h"
#include "storage/database.h"
#include "wecom/client/client.h"

namespace koi::customers::testutil {

// An active account `id` of `team` (the team row too, when id == team), named 成员<id>.
inline accounts::Principal MakeAccount(storage::Database& db, int64_t team, int64_t id, accounts::Role role) {
  if (id == team) {
    EXPECT_TRUE(db.Exec("INSERT INTO teams (id, name, created_at) VALUES (?, 'team', 0)", {team}).ok());
  }
  const std::string role_name = role == accounts::Role::kAdmin ? "admin" : "member";
  EXPECT_TRUE(db.Exec("INSERT INTO accounts (id, team_id, phone, name, role, status, created_at, updated_at) VALUES "
                      "(?, ?, ?, ?, ?, 'active', 0, 0)",
                      {id, team, "1390000000" + std::to_string(id), "成员" + std::to_string(id), role_name})
                  .ok());
  return {.team = TeamId(team), .account = AccountId(id), .role = role, .phone = "", .name = "成员" + std::to_string(id)};
}

inline wecom::FollowInfo Follow(std::string userid, int64_t createtime, std::vector<std::string> tags = {}) {
  wecom::FollowInfo f;
  f.userid = std::move(userid);
  f.createtime = createtime;
  f.add_way = 1;
  f.tag_ids = std::move(tags);
  return f;
}

inline wecom::ExternalContact Contact(std::string id, std::string name, int gender = 1, std::string corp = "") {
  wecom::ExternalContact c;
  c.external_userid = std::move(id);
  c.name = std::move(name);
  c.gender = gender;
  c.corp_name = std::move(corp);
  return c;
}

}  // namespace koi::customers::testutil

// Mirror writes: how WeCom's objects become rows of Koi's wecom_* tables. The full sync and the callback events
// both write through these functions, so a row looks the same whichever path wrote it.
//
// Every function runs inside the caller's transaction and scopes every statement to `team`. `run` is the sync run
// that counts the row as seen (the full sync's job id; events use the corp's latest sync job, so a sync that is
// running at the same time does not drop what an event added).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/strong_id.h"
#include "storage/database.h"
#include "wecom/client/client.h"

namespace koi::wecom_link::mirror {

// Upserts the departments; the root department's name becomes the corp name.
Status UpsertDepartments(storage::Session& tx, TeamId team, const std::vector<wecom::Department>& departments,
                         int64_t run);
Status UpsertEmployee(storage::Session& tx, TeamId team, const wecom::User& user, bool customer_contact, int64_t run);
// Upserts the customer and one relationship (active again if it had been lost), replacing its corp tags.
Status UpsertRelation(storage::Session& tx, TeamId team, const wecom::ExternalContact& contact,
                      const wecom::FollowInfo& follow, int64_t run);
// Marks a relationship lost: `by` is "customer" (del_follow_user), "employee" (del_external_contact), "transfer"
// or "sync" (a full sync did not see it). The row stays for churn history; its tags are dropped.
// `at_ms` is when it happened (the callback's CreateTime); `recorded_ms` when Koi learnt it (default: at_ms), which
// is what an account's unread churn is measured against, so an event applied late still counts as new.
Status MarkRelationLost(storage::Session& tx, TeamId team, const std::string& userid,
                        const std::string& external_userid, const std::string& by, int64_t at_ms,
                        std::optional<int64_t> recorded_ms = std::nullopt);
// Recomputes a customer's relationship summary (latest add time, active relationships) after its follows changed.
Status RefreshCustomerSummary(storage::Session& tx, TeamId team, const std::string& external_userid);
// The same for every customer with a relationship lost at `at_ms` (the full sync's clean-up marks them in bulk).
Status RefreshSummariesLostAt(storage::Session& tx, TeamId team, int64_t at_ms);
// Keeps the corp tags of the relationships the full sync found gone at `at_ms` in their lost_tags (call before
// their tags are deleted); MarkRelationLost does the same for the one it marks.
Status KeepTagsOfSyncLosses(storage::Session& tx, TeamId team, int64_t at_ms);
Status UpsertTagGroups(storage::Session& tx, TeamId team, const std::vector<wecom::TagGroup>& groups, int64_t run);
// The whole tag library as WeCom lists it now: upserts it and drops tags and groups it no longer lists (with their
// use on customers).
Status ReplaceTagLibrary(storage::Session& tx, TeamId team, const std::vector<wecom::TagGroup>& groups, int64_t run);
// Upserts a group chat and replaces its member list.
Status ReplaceGroupChat(storage::Session& tx, TeamId team, const wecom::GroupChat& chat, int64_t run);
Status DeleteGroupChat(storage::Session& tx, TeamId team, const std::string& chat_id);

}  // namespace koi::wecom_link::mirror

// Customer groups (客户群, issue 7's group messages build on it): the mirrored group chats, listed and filtered by
// owner and by group tag, and Koi's own group tags. WeCom has no tag API for customer groups, so group tags live
// only in Koi: admins create, rename and delete them; any member of the SCRM may put them on groups. A mass message
// can target the groups that carry a tag.
// Thread safety: thread-safe (state in the database).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "storage/database.h"

namespace koi::customers {

inline constexpr int64_t kMaxGroupTagChars = 30;
inline constexpr int64_t kMaxGroupTagsPerTeam = 1000;
inline constexpr size_t kMaxGroupsPerTagging = 1000;
inline constexpr size_t kMaxGroupsListed = 100;

struct GroupTag {
  int64_t id = 0;
  std::string name;
  int64_t groups = 0;  // groups carrying it
};

struct GroupRow {
  std::string chat_id, name, owner, owner_name;
  int64_t member_count = 0;
  int status = 0;  // WeCom's: 0 normal, 1 owner resigned, 2 inheriting, 3 inherited
  int64_t create_time_ms = 0;
  std::vector<GroupTag> tags;  // id and name
};

struct GroupQuery {
  std::string q;       // name contains
  std::string owner;   // owner's userid
  int64_t tag_id = 0;  // carries this tag
  std::vector<std::string> chat_ids;  // just these groups (a picker naming its picked ids), ≤ kMaxGroupsListed
  int page = 1, page_size = 20;
};

struct GroupPage {
  std::vector<GroupRow> items;
  int64_t total = 0;
};

struct GroupMember {
  std::string member_id, name;
  int type = 0;  // WeCom's: 1 a member of the corp, 2 a customer
  int64_t join_time_ms = 0;
  int join_scene = 0;        // WeCom's: 1 invited directly, 2 by an invite link, 3 by the group's QR code
  bool my_customer = false;  // a customer the viewing member follows
};

// A group as the chat toolbar's 群画像 shows it to a member in it: the group, its make-up, and a page of members.
struct GroupProfile {
  GroupRow group;
  std::string notice;
  int64_t customers = 0, employees = 0;
  int64_t my_customers = 0;  // customers in the group the viewing member follows
  int64_t joined_7d = 0;     // members who joined in the last seven days
  std::vector<GroupMember> members;  // newest first
  int64_t members_total = 0;
  int page = 1, page_size = 20;
};

class GroupService {
 public:
  GroupService(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<GroupPage> List(TeamId team, const GroupQuery& query);

  // The group `chat_id` as `viewer` (a member's userid) sees it from inside: group_not_found (404) unless the group is
  // mirrored and the viewer is in it (or owns it). Members paged 1..100 a page.
  Result<GroupProfile> Profile(TeamId team, const std::string& chat_id, const std::string& viewer, int page,
                               int page_size);

  Result<std::vector<GroupTag>> Tags(TeamId team);  // by name
  Result<GroupTag> CreateTag(const accounts::Principal& who, std::string_view name, const accounts::Client& client);
  Result<GroupTag> RenameTag(const accounts::Principal& who, int64_t id, std::string_view name,
                             const accounts::Client& client);
  Status DeleteTag(const accounts::Principal& who, int64_t id, const accounts::Client& client);
  // Adds and removes tags on the listed groups (1..kMaxGroupsPerTagging); returns how many groups changed.
  Result<int64_t> TagGroups(const accounts::Principal& who, const std::vector<std::string>& chat_ids,
                            const std::vector<int64_t>& add, const std::vector<int64_t>& remove);

 private:
  Result<GroupTag> TagById(TeamId team, int64_t id);

  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace koi::customers

// Tags (issue 5). Enterprise tags (企业标签) are WeCom's corp tags: admins create, rename and delete them in Koi,
// which writes WeCom first and then mirrors WeCom's tag library as WeCom lists it afterwards (WeCom's own changes
// arrive as change_external_tag callbacks and are mirrored the same way). Tagging a customer is per relationship
// (WeCom's mark_tag takes the employee and the customer). Personal tags (个人标签) are Koi's own: created by one
// member account, visible to it and to admins, never pushed to WeCom.
//
// Part of the customers module: the profile shows both kinds, and tagging needs the customers' data permission.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customers/customers.h"
#include "domain/wecom_link/link.h"
#include "jobs/job_queue.h"
#include "jobs/job_runner.h"
#include "wecom/client/client.h"

namespace koi::customers {

inline constexpr int64_t kMaxPersonalTagsPerAccount = 500;
inline constexpr char kBulkTagJob[] = "customers.bulk_tag";
inline constexpr int64_t kMaxBulkTargets = 1'000'000;
inline constexpr size_t kMaxBulkSelection = 1000;

// Whom a bulk tagging reaches: the listed customers (each one's active relationships the caller may see), or, when
// the list is empty, every active relationship matching `filter` (in relationship mode) that the caller may see.
struct BulkTagRequest {
  CustomerFilter filter;
  std::vector<std::string> external_userids;
  // When set (a segment's relationships, already limited to the caller's scope): the active relationships it
  // selects, as "SELECT … " + from + where over wecom_follows f. Wins over the filter and the picked customers.
  std::optional<ListQuery> target;
  std::vector<std::string> add;
  std::vector<std::string> remove;
};

struct BulkFailure {
  std::string external_userid;
  std::string customer_name;
  std::string userid;
  std::string employee_name;
  std::string reason;
};

struct BulkTagState {
  int64_t job_id = 0;
  std::string state;  // the job's: queued | running | succeeded | failed | cancelled
  int64_t total = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::string last_error_reason;
  int64_t created_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
  std::vector<BulkFailure> failures;  // one page
  int64_t failures_total = 0;
};
inline constexpr size_t kMaxTagsPerCall = 100;

class TagService {
 public:
  TagService(storage::Database& db, const Clock& clock, jobs::JobQueue& queue, wecom::WecomClient& client,
             wecom_link::WecomLink& link, CustomerService& customers)
      : db_(db), clock_(clock), queue_(queue), client_(client), link_(link), customers_(customers) {}

  // Admin only. Creates `names` in the group `group_id`, or in the group named `group_name` (created when absent).
  // Names are 1–30 characters; the corp holds at most 3,000 tags (the rule pack's limits). Returns the group.
  Result<TagGroup> CreateCorpTags(const accounts::Principal& who, std::string_view group_id,
                                  std::string_view group_name, const std::vector<std::string>& names,
                                  const accounts::Client& client);
  // Admin only. Renames a tag or a tag group (`id` names either).
  Status RenameCorpTag(const accounts::Principal& who, std::string_view id, std::string_view name,
                       const accounts::Client& client);
  // Admin only. Deletes tags and whole groups (a group whose last tag goes is deleted by WeCom too).
  Status DeleteCorpTags(const accounts::Principal& who, const std::vector<std::string>& tag_ids,
                        const std::vector<std::string>& group_ids, const accounts::Client& client);
  // Adds and removes corp tags on the relationship of employee `userid` with the customer. A member may tag only
  // the relationships in their data scope. Returns the relationship's tags afterwards.
  Result<std::vector<TagRef>> MarkCorpTags(const accounts::Principal& who, std::string_view external_userid,
                                           std::string_view userid, const std::vector<std::string>& add,
                                           const std::vector<std::string>& remove);
  // Same for a caller described by `scope` (a WeCom member in the chat sidebar), named `actor` on the timeline.
  Result<std::vector<TagRef>> MarkCorpTags(TeamId team, const Scope& scope, const std::string& actor,
                                           std::string_view external_userid, std::string_view userid,
                                           const std::vector<std::string>& add, const std::vector<std::string>& remove);

  // Bulk tagging (批量打标签) as the durable job kBulkTagJob: the target relationships are fixed now, then tagged
  // one mark_tag call each (WeCom's client keeps within the corp's call budget and retries busy answers); an item
  // WeCom refuses is recorded with its reason and the rest go on. mark_tag is idempotent, so an item redone after
  // a crash changes nothing. Errors: bulk_target_empty, bulk_too_many_targets, and those of MarkCorpTags.
  Result<BulkTagState> StartBulkTag(const accounts::Principal& who, const BulkTagRequest& request);
  // The job's progress and one page of its failures; not_found for another team's job or another kind.
  Result<BulkTagState> BulkTagStatus(const accounts::Principal& who, int64_t job_id, int page, int page_size);
  // Stops the job (the owner or an admin): what is done stays done, the rest is not tagged.
  Result<BulkTagState> CancelBulkTag(const accounts::Principal& who, int64_t job_id);
  Status RunBulkTag(jobs::JobContext& ctx);
  // Deletes the target lists of bulk jobs that no longer exist (purged); returns the rows deleted. Daily.
  Result<int64_t> PurgeBulkItems();

  // Edits a relationship's remark (≤20 characters), description (≤150), remark company (≤20, WeChat customers
  // only) and remark mobiles (≤5), in WeCom first, then in the mirror and on the timeline. Fields left unset stay.
  Result<Follow> EditRelationship(const accounts::Principal& who, std::string_view external_userid,
                                  std::string_view userid, const wecom::WecomClient::RemarkEdit& edit);

  // The caller's personal tags with how many customers carry each; with `whole_team` (admins only, admin_only
  // otherwise) every member's, ordered by owner name, then name.
  Result<std::vector<PersonalTag>> PersonalTags(const accounts::Principal& who, bool whole_team = false);
  Result<PersonalTag> CreatePersonalTag(const accounts::Principal& who, std::string_view name);
  // The owner, or an admin.
  Status DeletePersonalTag(const accounts::Principal& who, int64_t id);
  // Adds and removes the caller's own personal tags on a customer the caller may see.
  Status MarkPersonalTags(const accounts::Principal& who, std::string_view external_userid,
                          const std::vector<int64_t>& add, const std::vector<int64_t>& remove);

 private:
  // Mirrors WeCom's tag library as it is now.
  Status RefreshLibrary(TeamId team, const wecom::CorpCredentials& corp);

  storage::Database& db_;
  const Clock& clock_;
  jobs::JobQueue& queue_;
  wecom::WecomClient& client_;
  wecom_link::WecomLink& link_;
  CustomerService& customers_;
};

}  // namespace koi::customers

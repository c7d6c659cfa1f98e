// unionid matching (issue 5): the fans of an official account (公众号) or a mini program (小程序), imported as a CSV
// file, are matched one to one to customers by unionid. WeChat gives the same unionid to one person across the
// accounts bound to one open-platform entity, and WeCom gives a customer's unionid only when the corp bound an
// open-platform account of the same entity: so fans match only when their account's verified entity (主体) is the
// corp's. Koi refuses an import whose entity differs from the corp's (set by an admin: WeCom's API does not say it)
// with that reason, and imports nothing.
//
// Matching is read, not stored: a customer's linked accounts are the fans with its unionid, so a customer added
// after the import is matched at once, and a fan re-imported is updated, not doubled. Admins import and list fans;
// whoever may see a customer sees its linked accounts on the profile (CustomerService::Get).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customers/customers.h"

namespace koi::customers {

inline constexpr size_t kMaxFanRows = 200'000;
inline constexpr size_t kMaxFanFileBytes = 20 * 1024 * 1024;
inline constexpr size_t kMaxFanErrors = 20;

struct FanImportRequest {
  std::string account_name;  // the official account's or mini program's name, 1–30 characters
  std::string account_type;  // official | miniprogram
  std::string csv;           // header row: openid, unionid, nickname, entity (or 昵称, 主体名称); UTF-8 or GB18030
};

struct FanRowError {
  int64_t row = 0;           // the file's line, the header being 1
  std::string reason;        // fan_openid_invalid | fan_unionid_invalid | fan_nickname_too_long | fan_openid_duplicate
  std::string value;
};

struct FanImportResult {
  int64_t rows = 0;
  int64_t added = 0;
  int64_t updated = 0;
  int64_t matched = 0;       // rows whose unionid is a customer's
};

struct Fan {
  std::string openid;
  std::string unionid;
  std::string nickname;
  std::string account_name;
  std::string account_type;
  int64_t imported_at_ms = 0;
  std::string external_userid;  // the matched customer, or ""
  std::string customer_name;
};

struct FanPage {
  std::vector<Fan> items;
  int64_t total = 0;
  int64_t matched = 0;          // of all the team's fans
  int64_t fans = 0;
};

struct FanAccount {
  std::string account_name;
  std::string account_type;
  int64_t fans = 0;
  int64_t matched = 0;
  int64_t imported_at_ms = 0;   // the latest import
};

class FanService {
 public:
  FanService(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The corp's verified entity name as the admin gave it ("" until then).
  Result<std::string> Subject(TeamId team);
  // Admin only; 1–100 characters. Errors: wecom_not_linked.
  Status SetSubject(const accounts::Principal& who, std::string_view subject, const accounts::Client& client);

  // Admin only. All or nothing. Errors: fan_subject_unset, fan_subject_mismatch (the entity named), fan_file_invalid
  // (not CSV, no header, a missing column, over kMaxFanRows), fan_rows_invalid (with up to kMaxFanErrors rows in
  // `errors`), fan_account_invalid. Audited as fans.imported.
  Result<FanImportResult> Import(const accounts::Principal& who, const FanImportRequest& request,
                                 const accounts::Client& client, std::vector<FanRowError>* errors);
  // Admin only. matched: "" all, "yes", "no"; q: nickname, openid or unionid (substring).
  Result<FanPage> List(const accounts::Principal& who, std::string_view q, std::string_view matched,
                       std::string_view account_name, int page, int page_size);
  Result<std::vector<FanAccount>> Accounts(const accounts::Principal& who);
  // Admin only: forgets every fan of one account. Audited as fans.deleted.
  Result<int64_t> DeleteAccount(const accounts::Principal& who, std::string_view account_name,
                                const accounts::Client& client);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace koi::customers

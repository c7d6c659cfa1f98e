// Customer exports (导出, issue 5): the filtered customer list, or its customer–employee relationships, as a CSV or
// XLSX file written by a durable background job, with progress, and downloaded when done.
//
// What an export contains is fixed when it is asked for: the caller's data permission and filter become the job's
// query. The job writes the file in pieces of kExportBatch rows, each piece committed with the job's checkpoint
// (the last row's key) in one transaction, so a crash or a restart resumes after the last piece and never writes a
// row twice. Rows are written in key order (customer id, then employee), not the list's sort, so the walk is a
// keyset scan that stays fast at a million rows. The pieces live in the database (any node can serve the file);
// an export and its file are deleted 7 days after it was asked for, or when its owner deletes it. Each account
// sees and downloads only its own exports.
//
// Both formats carry the same columns, headed and labelled in the language the caller asked for; times are in
// UTC+8 (the platform's natural day). See export_format.h for the file formats.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/customers/customers.h"
#include "jobs/job_queue.h"
#include "jobs/job_runner.h"

namespace koi::customers {

inline constexpr char kExportJob[] = "customers.export";
inline constexpr int64_t kMaxExportRows = 1'000'000;
inline constexpr int64_t kMaxUnfinishedExports = 3;      // per account
inline constexpr int64_t kExportTtlMs = 7LL * 24 * 3600 * 1000;
inline constexpr int kExportBatch = 1000;
// What a team's stored export files may take together (they live in the database until deleted or expired).
inline constexpr int64_t kTeamExportBytes = int64_t{2} << 30;

struct ExportRequest {
  CustomerFilter filter;       // mode picks one row per customer or per relationship
  std::string format;          // csv | xlsx
  std::string lang = "zh-CN";  // zh-CN | en-US: the headers and labels
};

struct ExportState {
  int64_t id = 0;
  std::string format;
  std::string mode;            // customer | relationship
  std::string state;           // queued | running | succeeded | failed | cancelled
  int64_t total = 0;           // rows counted when asked for
  int64_t done = 0;            // rows written
  int64_t bytes = 0;           // written so far; once succeeded, the file's size
  std::string filename;
  int64_t created_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
  int64_t expires_at_ms = 0;
  std::string last_error_reason;
};

struct ExportPage {
  std::vector<ExportState> items;
  int64_t total = 0;
};

// A finished export's file, read piece by piece: each call of `next` returns the next piece, "" after the last.
struct ExportFile {
  std::string filename;
  std::string content_type;
  int64_t size = 0;
  std::function<Result<std::string>()> next;
};

struct ExportOptions {
  int batch = kExportBatch;  // rows per piece
  int64_t team_bytes = kTeamExportBytes;
  // Told after each piece is committed (its number from 0), in the job's thread. Tests stop a job here.
  std::function<void(int64_t piece)> on_piece;
};

class ExportService {
 public:
  ExportService(storage::Database& db, const Clock& clock, jobs::JobQueue& queue, CustomerService& customers,
                ExportOptions options = {})
      : db_(db), clock_(clock), queue_(queue), customers_(customers), options_(std::move(options)) {}

  // Errors: export_format_invalid, export_lang_invalid, the list's filter errors, export_empty (nothing matches),
  // export_too_large (over kMaxExportRows), export_busy (kMaxUnfinishedExports of the caller's not finished),
  // export_quota_exceeded (the team's stored exports take ExportOptions::team_bytes already; a job that would
  // pass it fails with that reason and its file is dropped).
  // Audited as customer.exported.
  Result<ExportState> Start(const accounts::Principal& who, const ExportRequest& request,
                            const accounts::Client& client);
  // The caller's exports, newest first.
  Result<ExportPage> List(const accounts::Principal& who, int page, int page_size);
  // export_not_found for another account's export, or one deleted or expired.
  Result<ExportState> Get(const accounts::Principal& who, int64_t id);
  // export_not_ready until it succeeded.
  Result<ExportFile> Open(const accounts::Principal& who, int64_t id);
  // Cancels the job if it has not finished and deletes the export with its file.
  Status Delete(const accounts::Principal& who, int64_t id);

  Status Run(jobs::JobContext& ctx);
  // Deletes exports past their expiry with their files; returns how many. Daily.
  Result<int64_t> PurgeExpired();

 private:
  Result<ExportState> Load(TeamId team, int64_t account, int64_t id);

  storage::Database& db_;
  const Clock& clock_;
  jobs::JobQueue& queue_;
  CustomerService& customers_;
  ExportOptions options_;
};

}  // namespace koi::customers

// Customer exports on a synced sandbox corp: the file holds exactly the rows the caller may see that match the
// filter, each once, in both formats, across an interrupted job; exports are private to their owner, limited, and
// deleted on request or when they expire.
#include <gtest/gtest.h>

#include <atomic>
#include <pugixml.hpp>
#include <set>

#include "domain/customers/export_format.h"
#include "domain/customers/exports.h"
#include "wecom_fixture.h"

namespace koi::customers {
namespace {

using testing::TestEngine;

class CustomerExportTest : public wecom_link::WecomBench {
 protected:
  void LinkAndSync(storage::Database& db, int customers) {
    LinkTeamAndSync(db, customers, "t");
    if (HasFatalFailure()) return;
    customers_ = std::make_unique<CustomerService>(db, clock_);
    // Pieces of 7 rows, so a few hundred customers make many pieces; a test may stop the job after a piece.
    exports_ = std::make_unique<ExportService>(db, clock_, *queue_, *customers_,
                                               ExportOptions{.batch = 7, .on_piece = [this](int64_t piece) {
                                                 if (piece == stop_after_piece_) stopping_ = true;
                                                 if (piece == delete_at_piece_) {
                                                   EXPECT_TRUE(exports_->Delete(admin_, deleting_).ok());
                                                 }
                                               }});
  }

  accounts::Principal Member(const std::string& phone, const std::string& name) {
    auto m = accounts_->AddMember(admin_, phone, name, {});
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return {.team = admin_.team, .account = m->id, .role = accounts::Role::kMember, .phone = phone, .name = name};
  }

  // Leases the due export job and runs it as a worker would (with `service`, else the fixture's); a stopped or
  // failed run gives the lease back (a restart).
  Status RunOnce(ExportService* service = nullptr) {
    auto job = queue_->Lease("test-node", {kExportJob}, 600'000);
    if (!job.ok()) return job.status();
    if (!job->has_value()) return Status::NotFound("no_job", "no export was due");
    stopping_ = false;
    jobs::JobContext ctx(*queue_, **job, "test-node", stopping_);
    Status s = (service ? *service : *exports_).Run(ctx);
    if (s.ok()) return queue_->Complete((*job)->id, "test-node");
    EXPECT_TRUE(queue_->Release((*job)->id, "test-node").ok());
    return s;
  }

  std::string Download(const accounts::Principal& who, int64_t id, int64_t* size = nullptr) {
    auto f = exports_->Open(who, id);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    if (!f.ok()) return "";
    if (size) *size = f->size;
    std::string out;
    for (;;) {
      auto piece = f->next();
      EXPECT_TRUE(piece.ok()) << piece.status().ToString();
      if (!piece.ok() || piece->empty()) break;
      out += *piece;
    }
    return out;
  }

  std::unique_ptr<CustomerService> customers_;
  std::unique_ptr<ExportService> exports_;
  std::atomic<bool> stopping_{false};
  int64_t stop_after_piece_ = -1;
  int64_t delete_at_piece_ = -1;
  int64_t deleting_ = 0;
};

std::vector<std::string> CsvLines(const std::string& csv) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = csv.find("\r\n", start)) != std::string::npos; start = end + 2)
    out.push_back(csv.substr(start, end - start));
  return out;
}

std::string LastField(const std::string& line) { return line.substr(line.rfind(',') + 1); }

TEST_P(CustomerExportTest, TheFileHoldsEveryMatchingRowOnceAcrossARestart) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 200);
  const accounts::Client client{.ip = "10.0.0.7", .user_agent = ""};

  // Refused before anything is written.
  EXPECT_EQ(exports_->Start(admin_, {.filter = {}, .format = "pdf", .lang = "zh-CN"}, client).status().reason(),
            "export_format_invalid");
  EXPECT_EQ(exports_->Start(admin_, {.filter = {}, .format = "csv", .lang = "fr"}, client).status().reason(),
            "export_lang_invalid");
  EXPECT_EQ(exports_->Start(admin_, {.filter = {.query = "没有这个人"}, .format = "csv", .lang = "zh-CN"}, client)
                .status().reason(), "export_empty");
  EXPECT_EQ(exports_->Start(admin_, {.filter = {.sort = "age"}, .format = "csv", .lang = "zh-CN"}, client)
                .status().reason(), "invalid_sort");

  // Every relationship of the busiest employee, as CSV; the job is stopped after its second piece and resumes.
  auto top = t.db->Query("SELECT userid, COUNT(*) FROM wecom_follows WHERE team_id = ? GROUP BY userid ORDER BY 2 "
                         "DESC, 1 LIMIT 1", {admin_.team.value()});
  const std::string userid = top->rows.at(0).Text(0);
  const int64_t expected = top->rows.at(0).Int(1);
  ASSERT_GT(expected, 14);  // more than two pieces
  auto started = exports_->Start(admin_, {.filter = {.mode = ListMode::kRelationship, .userids = {userid}},
                                          .format = "csv", .lang = "zh-CN"}, client);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->state, "queued");
  EXPECT_EQ(started->total, expected);
  EXPECT_EQ(started->mode, "relationship");
  EXPECT_EQ(exports_->Open(admin_, started->id).status().reason(), "export_not_ready");
  stop_after_piece_ = 1;
  EXPECT_EQ(RunOnce().reason(), "job_interrupted");
  auto midway = exports_->Get(admin_, started->id);
  ASSERT_TRUE(midway.ok());
  EXPECT_EQ(midway->done, 14);
  EXPECT_EQ(midway->state, "queued");
  stop_after_piece_ = -1;
  ASSERT_TRUE(RunOnce().ok());
  auto done = exports_->Get(admin_, started->id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, "succeeded");
  EXPECT_EQ(done->done, expected);
  ASSERT_TRUE(done->finished_at_ms.has_value());

  int64_t size = 0;
  const std::string csv = Download(admin_, started->id, &size);
  EXPECT_EQ(static_cast<int64_t>(csv.size()), size);
  EXPECT_EQ(static_cast<int64_t>(csv.size()), done->bytes);
  ASSERT_EQ(csv.substr(0, 3), exportfmt::kUtf8Bom);
  auto lines = CsvLines(csv.substr(3));
  ASSERT_EQ(static_cast<int64_t>(lines.size()), expected + 1);
  EXPECT_EQ(lines[0].substr(0, lines[0].find(',')), "客户名称");
  std::set<std::string> seen;
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_NE(lines[i].find("," + userid + ","), std::string::npos) << lines[i];
    EXPECT_TRUE(seen.insert(LastField(lines[i])).second) << "twice: " << lines[i];
  }
  auto want = t.db->Query("SELECT external_userid FROM wecom_follows WHERE team_id = ? AND userid = ?",
                          {admin_.team.value(), userid});
  for (const auto& row : want->rows) EXPECT_TRUE(seen.count(row.Text(0))) << row.Text(0);
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM audit_log WHERE action = 'customer.exported'")->rows.at(0).Int(0), 1);

  // The whole base, one row per customer, as XLSX in English.
  auto all = exports_->Start(admin_, {.filter = {}, .format = "xlsx", .lang = "en-US"}, client);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_TRUE(RunOnce().ok());
  const std::string xlsx = Download(admin_, all->id, &size);
  EXPECT_EQ(static_cast<int64_t>(xlsx.size()), size);
  EXPECT_EQ(static_cast<int64_t>(xlsx.size()), exports_->Get(admin_, all->id)->bytes);
  ASSERT_EQ(xlsx.substr(0, 4), "PK\x03\x04");
  // The worksheet is the archive's last entry, stored as it is (export_format_test checks the archive itself).
  const size_t sheet_at = xlsx.rfind("<?xml", xlsx.find("<worksheet"));
  const size_t sheet_end = xlsx.find("</worksheet>") + std::string("</worksheet>").size();
  pugi::xml_document ws;
  ASSERT_TRUE(ws.load_buffer(xlsx.data() + sheet_at, sheet_end - sheet_at));
  std::set<std::string> ids;
  int64_t rows = 0;
  for (auto row : ws.child("worksheet").child("sheetData").children("row")) {
    if (rows++ == 0) {
      EXPECT_STREQ(row.child("c").child("is").child("t").text().get(), "Name");
      continue;
    }
    EXPECT_TRUE(ids.insert(row.last_child().child("is").child("t").text().get()).second);
  }
  const int64_t customers =
      t.db->Query("SELECT COUNT(*) FROM wecom_customers WHERE team_id = ?", {admin_.team.value()})->rows.at(0).Int(0);
  EXPECT_EQ(rows - 1, customers);
  EXPECT_EQ(static_cast<int64_t>(ids.size()), customers);

  // Every relationship (lost ones too), across many pieces whose boundaries fall inside customers with several
  // relationships: each (customer, employee) pair once.
  auto rels = exports_->Start(admin_, {.filter = {.mode = ListMode::kRelationship}, .format = "csv", .lang = "en-US"},
                              client);
  ASSERT_TRUE(rels.ok()) << rels.status().ToString();
  ASSERT_TRUE(RunOnce().ok());
  auto rel_lines = CsvLines(Download(admin_, rels->id).substr(3));
  std::set<std::pair<std::string, std::string>> pairs;
  for (size_t i = 1; i < rel_lines.size(); ++i) {
    std::vector<std::string> cells;
    for (size_t start = 0;;) {  // (no quoted commas in the sandbox's ids and names)
      const size_t comma = rel_lines[i].find(',', start);
      cells.push_back(rel_lines[i].substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    EXPECT_TRUE(pairs.insert({cells.back(), cells[5]}).second) << "twice: " << rel_lines[i];
  }
  std::set<std::pair<std::string, std::string>> want_pairs;
  auto all_follows = t.db->Query("SELECT external_userid, userid FROM wecom_follows WHERE team_id = ?",
                                 {admin_.team.value()});
  for (const auto& row : all_follows->rows) want_pairs.insert({row.Text(0), row.Text(1)});
  EXPECT_GT(want_pairs.size(), static_cast<size_t>(customers));  // some customers have several relationships
  EXPECT_EQ(pairs, want_pairs);

  // Deleted while its job runs: the job stops writing and leaves no pieces behind.
  auto doomed = exports_->Start(admin_, {.filter = {}, .format = "csv", .lang = "zh-CN"}, client);
  ASSERT_TRUE(doomed.ok());
  deleting_ = doomed->id;
  delete_at_piece_ = 1;
  Status run = RunOnce();  // (the job itself may end either way: its export is gone)
  (void)run;
  delete_at_piece_ = -1;
  EXPECT_EQ(exports_->Get(admin_, doomed->id).status().reason(), "export_not_found");
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM customer_export_chunks WHERE export_id = ?", {doomed->id})->rows.at(0)
                .Int(0), 0);
}

TEST_P(CustomerExportTest, ExportsArePrivateLimitedAndDeleted) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 80);
  const accounts::Client client{};

  // A member bound to one employee exports only that employee's customers, and sees only its own exports.
  auto rel = t.db->Query("SELECT userid, COUNT(*) FROM wecom_follows WHERE team_id = ? GROUP BY userid ORDER BY 2 DESC, "
                         "1 LIMIT 1", {admin_.team.value()});
  const std::string userid = rel->rows.at(0).Text(0);
  auto member = Member("13900000005", "小周");
  ASSERT_TRUE(customers_->Bind(admin_, member.account.value(), userid, "own", client).ok());
  auto mine = exports_->Start(member, {.filter = {.mode = ListMode::kRelationship}, .format = "csv", .lang = "en-US"},
                              client);
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_EQ(mine->total, rel->rows.at(0).Int(1));
  ASSERT_TRUE(RunOnce().ok());
  const auto lines = CsvLines(Download(member, mine->id).substr(3));
  ASSERT_EQ(static_cast<int64_t>(lines.size()), rel->rows.at(0).Int(1) + 1);
  for (size_t i = 1; i < lines.size(); ++i) EXPECT_NE(lines[i].find("," + userid + ","), std::string::npos);
  EXPECT_EQ(exports_->Get(admin_, mine->id).status().reason(), "export_not_found");
  EXPECT_EQ(exports_->Open(admin_, mine->id).status().reason(), "export_not_found");
  EXPECT_EQ(exports_->Delete(admin_, mine->id).reason(), "export_not_found");
  EXPECT_EQ(exports_->List(admin_, 1, 20)->total, 0);
  EXPECT_EQ(exports_->List(member, 1, 20)->total, 1);

  // At most three unfinished exports each.
  std::vector<int64_t> queued;
  for (int i = 0; i < 3; ++i) {
    auto e = exports_->Start(admin_, {.filter = {}, .format = "xlsx", .lang = "zh-CN"}, client);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    queued.push_back(e->id);
  }
  EXPECT_EQ(exports_->Start(admin_, {.filter = {}, .format = "csv", .lang = "zh-CN"}, client).status().reason(),
            "export_busy");
  auto page = exports_->List(admin_, 1, 2);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 3);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].id, queued[2]);  // newest first

  // Deleting a queued export cancels its job; the others run; the file goes with its export.
  ASSERT_TRUE(exports_->Delete(admin_, queued[0]).ok());
  EXPECT_EQ(exports_->Get(admin_, queued[0]).status().reason(), "export_not_found");
  ASSERT_TRUE(RunOnce().ok());
  ASSERT_TRUE(RunOnce().ok());
  EXPECT_EQ(RunOnce().reason(), "no_job");
  EXPECT_EQ(exports_->Get(admin_, queued[1])->state, "succeeded");
  ASSERT_TRUE(exports_->Delete(admin_, queued[1]).ok());
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM customer_export_chunks WHERE export_id = ?", {queued[1]})->rows.at(0)
                .Int(0), 0);

  // Seven days on, the rest expire.
  EXPECT_EQ(exports_->PurgeExpired().value_or(-1), 0);
  clock_.Advance(kExportTtlMs + 1);
  EXPECT_EQ(exports_->Get(admin_, queued[2]).status().reason(), "export_not_found");
  EXPECT_EQ(exports_->PurgeExpired().value_or(-1), 2);
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM customer_export_chunks")->rows.at(0).Int(0), 0);
}

// The team's stored files together stay within ExportOptions::team_bytes: an export that would pass it fails (not
// retried) and keeps nothing; none starts while the quota is used up; deleting an export frees its room.
TEST_P(CustomerExportTest, TheTeamsStoredExportsStayWithinItsQuota) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 80);
  const accounts::Client client{};
  const ExportRequest all{.filter = {}, .format = "csv", .lang = "zh-CN"};
  // A whole file in one piece that alone passes the quota: it fails, and never shows as written.
  ExportService tiny(*t.db, clock_, *queue_, *customers_, ExportOptions{.team_bytes = 100});
  auto one = tiny.Start(admin_, all, client);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  {
    EXPECT_EQ(RunOnce(&tiny).reason(), "export_quota_exceeded");
    auto state = tiny.Get(admin_, one->id);
    ASSERT_TRUE(state.ok());
    EXPECT_NE(state->state, "succeeded");
    EXPECT_EQ(state->bytes, 0);
    EXPECT_EQ(tiny.Open(admin_, one->id).status().reason(), "export_not_ready");
    ASSERT_TRUE(exports_->Delete(admin_, one->id).ok());
  }
  auto first = exports_->Start(admin_, all, client);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(RunOnce().ok());
  auto done = exports_->Get(admin_, first->id);
  ASSERT_TRUE(done.ok() && done->state == "succeeded");
  const int64_t size = done->bytes;
  ASSERT_GT(size, 2000);

  // Room for half another such file: the export fails at the piece that would pass the quota.
  ExportService limited(*t.db, clock_, *queue_, *customers_, ExportOptions{.batch = 7, .team_bytes = size + size / 2});
  auto second = limited.Start(admin_, all, client);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  Status s = RunOnce(&limited);
  EXPECT_EQ(s.reason(), "export_quota_exceeded") << s.ToString();
  EXPECT_FALSE(s.IsRetryable());
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM customer_export_chunks WHERE export_id = ?", {second->id})->rows.at(0)
                .Int(0), 0);
  EXPECT_EQ(limited.Get(admin_, second->id)->bytes, 0);

  // Used up: no export starts until one is deleted.
  ExportService full(*t.db, clock_, *queue_, *customers_, ExportOptions{.batch = 7, .team_bytes = size});
  EXPECT_EQ(full.Start(admin_, all, client).status().reason(), "export_quota_exceeded");
  ASSERT_TRUE(exports_->Delete(admin_, first->id).ok());
  auto third = full.Start(admin_, all, client);
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Engines, CustomerExportTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::customers

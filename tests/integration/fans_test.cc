// unionid matching on a synced sandbox corp (the sandbox gives WeChat customers a unionid): fans of an official
// account imported from CSV match customers one to one, only within the corp's entity; bad files import nothing.
#include <gtest/gtest.h>
#include <iconv.h>

#include "domain/customers/fans.h"
#include "wecom_fixture.h"

namespace koi::customers {
namespace {

using testing::TestEngine;

class FanTest : public wecom_link::WecomBench {
 protected:
  void LinkAndSync(storage::Database& db, int customers) {
    LinkTeamAndSync(db, customers, "t");
    if (HasFatalFailure()) return;
    customers_ = std::make_unique<CustomerService>(db, clock_);
    fans_ = std::make_unique<FanService>(db, clock_);
  }

  Result<FanImportResult> Import(const std::string& csv, std::vector<FanRowError>* errors = nullptr,
                                 const std::string& account = "锦鲤服务号") {
    return fans_->Import(admin_, {.account_name = account, .account_type = "official", .csv = csv}, {}, errors);
  }

  std::unique_ptr<CustomerService> customers_;
  std::unique_ptr<FanService> fans_;
};

std::string ToGb18030(const std::string& utf8) {
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  std::string out(utf8.size() * 2, '\0');
  char* src = const_cast<char*>(utf8.data());
  size_t src_left = utf8.size(), dst_left = out.size();
  char* dst = out.data();
  iconv(cd, &src, &src_left, &dst, &dst_left);
  iconv_close(cd);
  out.resize(out.size() - dst_left);
  return out;
}

TEST_P(FanTest, FansMatchCustomersByUnionidOnlyWithinTheCorpsEntity) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 60);
  auto with_unionid = t.db->Query("SELECT external_userid, unionid FROM wecom_customers WHERE team_id = ? AND unionid "
                                  "<> '' ORDER BY external_userid LIMIT 3", {admin_.team.value()});
  ASSERT_EQ(with_unionid->rows.size(), 3u);
  const std::string entity = "杭州锦鲤网络科技有限公司";
  auto csv = [&](const std::string& who) {
    std::string text = "openid,unionid,昵称,主体名称\r\n";
    for (size_t i = 0; i < 3; ++i)
      text += "oFAN" + std::to_string(i) + "xxxxxxxxxxxxxxxxxxxxxx," + with_unionid->rows[i].Text(1) + ",粉丝" +
              std::to_string(i) + "," + who + "\r\n";
    text += "oFANnomatch1xxxxxxxxxxxxxxx,oUNIONnobodyxxxxxxxxxxxxxxx,路人甲," + who + "\r\n";
    text += "oFANnomatch2xxxxxxxxxxxxxxx,oUNIONnobody2xxxxxxxxxxxxxx,\"路人,乙\"," + who + "\r\n";
    return text;
  };

  // The corp's entity first; then a file of another entity is refused whole, naming it.
  EXPECT_EQ(Import(csv(entity)).status().reason(), "fan_subject_unset");
  EXPECT_EQ(fans_->SetSubject(admin_, "  ", {}).reason(), "fan_subject_invalid");
  ASSERT_TRUE(fans_->SetSubject(admin_, entity, {}).ok());
  EXPECT_EQ(fans_->Subject(admin_.team).value_or(""), entity);
  auto other = Import(csv("上海另一家公司"));
  EXPECT_EQ(other.status().reason(), "fan_subject_mismatch");
  EXPECT_NE(other.status().message().find("上海另一家公司"), std::string::npos);
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM fans")->rows.at(0).Int(0), 0);

  // Bad rows: all reported (up to 20), nothing imported.
  std::vector<FanRowError> errors;
  auto bad = Import("openid,unionid,nickname,entity\nshort,oUNIONxxxxxxxxxxxxxxxxxxxxxx,a," + entity +
                        "\noGOODxxxxxxxxxxxxxxxxxxxxxxx,bad id!,b," + entity + "\noGOODxxxxxxxxxxxxxxxxxxxxxxx,"
                        "oUNIONxxxxxxxxxxxxxxxxxxxxxx,c," + entity + "\n",
                    &errors);
  EXPECT_EQ(bad.status().reason(), "fan_rows_invalid");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].row, 2);
  EXPECT_EQ(errors[0].reason, "fan_openid_invalid");
  EXPECT_EQ(errors[1].reason, "fan_unionid_invalid");
  EXPECT_EQ(errors[2].reason, "fan_openid_duplicate");
  EXPECT_EQ(Import("name,phone\nx,y\n").status().reason(), "fan_file_invalid");
  EXPECT_EQ(Import("openid,unionid,nickname,entity\n\"open").status().reason(), "fan_file_invalid");
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM fans")->rows.at(0).Int(0), 0);

  // A good file, saved by Excel as GB18030: three fans match, two do not.
  auto done = Import(ToGb18030(csv(entity)));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->rows, 5);
  EXPECT_EQ(done->added, 5);
  EXPECT_EQ(done->matched, 3);
  auto again = Import(std::string("\xEF\xBB\xBF") + csv(entity));  // the same fans again (UTF-8 with BOM): updated
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->added, 0);
  EXPECT_EQ(again->updated, 5);
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM fans")->rows.at(0).Int(0), 5);

  auto profile = customers_->Get(admin_, with_unionid->rows[0].Text(0));
  ASSERT_TRUE(profile.ok());
  ASSERT_EQ(profile->linked_accounts.size(), 1u);
  EXPECT_EQ(profile->linked_accounts[0].account_name, "锦鲤服务号");
  EXPECT_EQ(profile->linked_accounts[0].nickname, "粉丝0");

  auto page = fans_->List(admin_, "", "", "", 1, 20);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 5);
  EXPECT_EQ(page->fans, 5);
  EXPECT_EQ(page->matched, 3);
  EXPECT_EQ(fans_->List(admin_, "", "yes", "", 1, 20)->total, 3);
  auto unmatched = fans_->List(admin_, "", "no", "", 1, 20);
  ASSERT_EQ(unmatched->total, 2);
  EXPECT_TRUE(unmatched->items[0].external_userid.empty());
  auto found = fans_->List(admin_, "路人,乙", "", "", 1, 20);
  ASSERT_EQ(found->total, 1);
  EXPECT_EQ(fans_->List(admin_, "", "maybe", "", 1, 20).status().reason(), "invalid_filter");
  auto accounts = fans_->Accounts(admin_);
  ASSERT_EQ(accounts->size(), 1u);
  EXPECT_EQ((*accounts)[0].fans, 5);
  EXPECT_EQ((*accounts)[0].matched, 3);

  // Admins only.
  auto m = accounts_->AddMember(admin_, "13900000007", "小钱", {});
  ASSERT_TRUE(m.ok());
  const accounts::Principal member{.team = admin_.team, .account = m->id, .role = accounts::Role::kMember,
                                   .phone = "13900000007", .name = "小钱"};
  EXPECT_EQ(fans_->List(member, "", "", "", 1, 20).status().reason(), "admin_only");
  EXPECT_EQ(fans_->Import(member, {.account_name = "x", .account_type = "official", .csv = csv(entity)}, {}, nullptr)
                .status().reason(), "admin_only");

  // Forgetting the account's fans unlinks its customers.
  EXPECT_EQ(fans_->DeleteAccount(admin_, "没有这个号", {}).status().reason(), "fan_account_not_found");
  EXPECT_EQ(fans_->DeleteAccount(admin_, "锦鲤服务号", {}).value_or(-1), 5);
  EXPECT_TRUE(customers_->Get(admin_, with_unionid->rows[0].Text(0))->linked_accounts.empty());
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'fans.%'")->rows.at(0).Int(0), 4);
}

INSTANTIATE_TEST_SUITE_P(Engines, FanTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::customers

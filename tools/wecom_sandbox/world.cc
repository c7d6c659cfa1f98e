#include "world.h"

#include <algorithm>
#include <cmath>
#include <array>
#include <random>
#include <set>
#include <vector>

namespace koi::sandbox {
namespace {

using storage::Value;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS corps (
  corp_id TEXT PRIMARY KEY, corp_name TEXT NOT NULL, secret TEXT NOT NULL, verified INTEGER NOT NULL,
  callback_url TEXT NOT NULL DEFAULT '', callback_token TEXT NOT NULL DEFAULT '', callback_aes_key TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS access_tokens (
  token TEXT PRIMARY KEY, corp_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
-- Third-party suites (suite.h): the suite, its tokens, its one-time codes (pre_auth: one install; auth: one
-- get_permanent_code), each corp's install (allow_party: the visible departments, '' for everyone), the scope of
-- the corp tokens issued under an install, and the instruction callbacks waiting to go out.
CREATE TABLE IF NOT EXISTS suites (
  suite_id TEXT PRIMARY KEY, suite_secret TEXT NOT NULL, name TEXT NOT NULL, token TEXT NOT NULL, aes_key TEXT NOT NULL,
  instruction_url TEXT NOT NULL, data_url TEXT NOT NULL, ticket TEXT NOT NULL DEFAULT '', ticket_at INTEGER NOT NULL DEFAULT 0,
  previous_ticket TEXT NOT NULL DEFAULT '', previous_ticket_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS suite_tokens (token TEXT PRIMARY KEY, suite_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS suite_codes (
  code TEXT PRIMARY KEY, kind TEXT NOT NULL, suite_id TEXT NOT NULL, corp_id TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT '', expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS suite_auths (
  suite_id TEXT NOT NULL, corp_id TEXT NOT NULL, permanent_code TEXT NOT NULL, agent_id INTEGER NOT NULL,
  allow_party TEXT NOT NULL, auth_user TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (suite_id, corp_id));
CREATE TABLE IF NOT EXISTS token_scopes (token TEXT PRIMARY KEY, allow_party TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS suite_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, suite_id TEXT NOT NULL, message TEXT NOT NULL, created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS departments (
  corp_id TEXT NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL, parent_id INTEGER NOT NULL, sort INTEGER NOT NULL,
  PRIMARY KEY (corp_id, id));
CREATE TABLE IF NOT EXISTS employees (
  corp_id TEXT NOT NULL, userid TEXT NOT NULL, name TEXT NOT NULL, departments TEXT NOT NULL, main_department INTEGER NOT NULL,
  position TEXT NOT NULL, gender INTEGER NOT NULL, mobile TEXT NOT NULL, status INTEGER NOT NULL, customer_contact INTEGER NOT NULL,
  PRIMARY KEY (corp_id, userid));
CREATE TABLE IF NOT EXISTS customers (
  corp_id TEXT NOT NULL, external_userid TEXT NOT NULL, name TEXT NOT NULL, type INTEGER NOT NULL, gender INTEGER NOT NULL,
  unionid TEXT NOT NULL, corp_name TEXT NOT NULL, position TEXT NOT NULL,
  PRIMARY KEY (corp_id, external_userid));
CREATE TABLE IF NOT EXISTS follows (
  corp_id TEXT NOT NULL, userid TEXT NOT NULL, external_userid TEXT NOT NULL, remark TEXT NOT NULL, description TEXT NOT NULL,
  createtime INTEGER NOT NULL, add_way INTEGER NOT NULL, state TEXT NOT NULL, oper_userid TEXT NOT NULL,
  remark_mobiles TEXT NOT NULL, remark_corp_name TEXT NOT NULL,
  PRIMARY KEY (corp_id, userid, external_userid));
CREATE INDEX IF NOT EXISTS follows_customer ON follows (corp_id, external_userid);
CREATE TABLE IF NOT EXISTS tag_groups (
  corp_id TEXT NOT NULL, group_id TEXT NOT NULL, name TEXT NOT NULL, create_time INTEGER NOT NULL, sort INTEGER NOT NULL,
  PRIMARY KEY (corp_id, group_id));
CREATE TABLE IF NOT EXISTS tags (
  corp_id TEXT NOT NULL, tag_id TEXT NOT NULL, group_id TEXT NOT NULL, name TEXT NOT NULL, create_time INTEGER NOT NULL,
  sort INTEGER NOT NULL, PRIMARY KEY (corp_id, tag_id));
CREATE TABLE IF NOT EXISTS follow_tags (
  corp_id TEXT NOT NULL, userid TEXT NOT NULL, external_userid TEXT NOT NULL, tag_id TEXT NOT NULL,
  PRIMARY KEY (corp_id, userid, external_userid, tag_id));
CREATE INDEX IF NOT EXISTS follow_tags_customer ON follow_tags (corp_id, external_userid);
CREATE TABLE IF NOT EXISTS group_chats (
  corp_id TEXT NOT NULL, chat_id TEXT NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL, create_time INTEGER NOT NULL,
  notice TEXT NOT NULL, status INTEGER NOT NULL, member_version TEXT NOT NULL, PRIMARY KEY (corp_id, chat_id));
CREATE TABLE IF NOT EXISTS group_members (
  corp_id TEXT NOT NULL, chat_id TEXT NOT NULL, member_id TEXT NOT NULL, type INTEGER NOT NULL, join_time INTEGER NOT NULL,
  join_scene INTEGER NOT NULL, invitor TEXT NOT NULL, state TEXT NOT NULL, unionid TEXT NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY (corp_id, chat_id, member_id));
CREATE TABLE IF NOT EXISTS group_admins (
  corp_id TEXT NOT NULL, chat_id TEXT NOT NULL, userid TEXT NOT NULL, PRIMARY KEY (corp_id, chat_id, userid));
CREATE TABLE IF NOT EXISTS callback_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, corp_id TEXT NOT NULL, message TEXT NOT NULL, created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS callback_outbox_due ON callback_outbox (state, next_at);
-- Mass messages (企业群发, wecom-api.md §7). A template is one message (create_type 0: the enterprise's, created
-- through the API; 1: an employee's own); each sending member has a task (status 0 not sent, 2 sent), and each
-- recipient a result (0 not sent, 1 sent, 2 not a friend, 3 over the receive limit). A group message (chat_type
-- 'group') reaches customer groups: its results hold the chat_id in external_userid (2 then means the group was
-- dismissed or changed owner). Times are Unix seconds.
CREATE TABLE IF NOT EXISTS msg_templates (
  corp_id TEXT NOT NULL, msgid TEXT PRIMARY KEY, chat_type TEXT NOT NULL, sender TEXT NOT NULL,
  create_type INTEGER NOT NULL, text TEXT NOT NULL, attachments TEXT NOT NULL, create_time INTEGER NOT NULL,
  cancelled INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS msg_templates_time ON msg_templates (corp_id, create_time, msgid);
CREATE TABLE IF NOT EXISTS msg_tasks (
  corp_id TEXT NOT NULL, msgid TEXT NOT NULL, userid TEXT NOT NULL, status INTEGER NOT NULL,
  send_time INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (msgid, userid));
CREATE INDEX IF NOT EXISTS msg_tasks_member ON msg_tasks (corp_id, userid, status);
CREATE TABLE IF NOT EXISTS msg_results (
  corp_id TEXT NOT NULL, msgid TEXT NOT NULL, userid TEXT NOT NULL, external_userid TEXT NOT NULL,
  status INTEGER NOT NULL, send_time INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (msgid, userid, external_userid));
-- The receive-limit check reads what one customer (or group) already received.
CREATE INDEX IF NOT EXISTS msg_results_customer ON msg_results (corp_id, external_userid);
CREATE TABLE IF NOT EXISTS msg_reminders (corp_id TEXT NOT NULL, msgid TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS msg_reminders_msg ON msg_reminders (msgid, at);
-- Temporary media (上传临时素材): what media/upload took, without the bytes (nothing reads them back); a media_id
-- is valid for 3 days from created_at (Unix seconds).
CREATE TABLE IF NOT EXISTS media (
  corp_id TEXT NOT NULL, media_id TEXT NOT NULL, type TEXT NOT NULL, filename TEXT NOT NULL, size INTEGER NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (corp_id, media_id));
-- The chat toolbar (聊天工具栏, toolbar.h): what the corp's admin configured for its app (the agent, the trusted
-- domain 可信域名, the sidebar pages as JSON [{"name","url"}]); the JS-SDK tickets issued per corp and kind
-- ('agent_config'); and the one-time OAuth codes the simulated client hands a page (appid: the corp id of a
-- self-built app or the suite id of a third-party one; scope: snsapi_base or snsapi_privateinfo). Unix seconds.
CREATE TABLE IF NOT EXISTS toolbars (
  corp_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, trusted_domain TEXT NOT NULL, entries TEXT NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jsapi_tickets (
  corp_id TEXT NOT NULL, kind TEXT NOT NULL, ticket TEXT NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (corp_id, kind));
CREATE TABLE IF NOT EXISTS oauth_codes (
  code TEXT PRIMARY KEY, appid TEXT NOT NULL, corp_id TEXT NOT NULL, userid TEXT NOT NULL, scope TEXT NOT NULL,
  expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
)sql";

// Names: common surnames and given names with their pinyin, so userids read like real ones ("wangfang3").
struct Syllable {
  const char* han;
  const char* pinyin;
  int gender;  // for given names: 1 male, 2 female, 0 either
};
constexpr std::array<Syllable, 24> kSurnames = {{
    {"王", "wang", 0}, {"李", "li", 0},   {"张", "zhang", 0}, {"刘", "liu", 0},  {"陈", "chen", 0}, {"杨", "yang", 0},
    {"黄", "huang", 0}, {"赵", "zhao", 0}, {"吴", "wu", 0},   {"周", "zhou", 0}, {"徐", "xu", 0},   {"孙", "sun", 0},
    {"马", "ma", 0},   {"朱", "zhu", 0},  {"胡", "hu", 0},   {"郭", "guo", 0},  {"何", "he", 0},   {"高", "gao", 0},
    {"林", "lin", 0},  {"罗", "luo", 0},  {"郑", "zheng", 0}, {"梁", "liang", 0}, {"谢", "xie", 0}, {"宋", "song", 0},
}};
constexpr std::array<Syllable, 30> kGiven = {{
    {"伟", "wei", 1},     {"芳", "fang", 2},     {"娜", "na", 2},     {"秀英", "xiuying", 2}, {"敏", "min", 2},
    {"静", "jing", 2},    {"丽", "li", 2},       {"强", "qiang", 1},  {"磊", "lei", 1},       {"军", "jun", 1},
    {"洋", "yang", 1},    {"勇", "yong", 1},     {"艳", "yan", 2},    {"杰", "jie", 1},       {"娟", "juan", 2},
    {"涛", "tao", 1},     {"明", "ming", 1},     {"超", "chao", 1},   {"秀兰", "xiulan", 2},  {"霞", "xia", 2},
    {"平", "ping", 0},    {"刚", "gang", 1},     {"桂英", "guiying", 2}, {"婷", "ting", 2},   {"浩然", "haoran", 1},
    {"宇轩", "yuxuan", 1}, {"欣怡", "xinyi", 2}, {"梓涵", "zihan", 2}, {"子墨", "zimo", 1},   {"思远", "siyuan", 1},
}};
constexpr std::array<const char*, 10> kDepartments = {"销售一部", "销售二部", "客服中心", "市场部", "会员运营部",
                                                      "门店-静安店", "门店-徐汇店", "门店-天河店", "电商部", "大客户部"};
constexpr std::array<const char*, 8> kPositions = {"导购", "客户经理", "店长", "客服专员", "运营", "销售顾问",
                                                   "会员顾问", "区域经理"};
struct TagGroupSeed {
  const char* name;
  std::array<const char*, 5> tags;
};
constexpr std::array<TagGroupSeed, 5> kTagGroups = {{
    {"客户等级", {"VIP", "普通客户", "潜在客户", "流失预警", nullptr}},
    {"兴趣偏好", {"护肤", "彩妆", "香水", "母婴", "茶饮"}},
    {"来源渠道", {"抖音", "小红书", "门店", "朋友推荐", "公众号"}},
    {"购买力", {"高", "中", "低", nullptr, nullptr}},
    {"生命周期", {"新客", "复购", "沉睡", nullptr, nullptr}},
}};
constexpr std::array<const char*, 8> kStates = {"store_jingan", "douyin_live_1108", "xhs_note_202611", "fair2026_booth3",
                                                "wechat_article", "store_xuhui", "tmall_card", "friend_invite"};
constexpr std::array<const char*, 6> kRemarkSuffix = {"女士", "先生", "-VIP", "-老客", "-门店", "-直播间"};
constexpr std::array<const char*, 6> kCompanies = {"", "", "", "上海锦程贸易有限公司", "广州天河美妆店", "杭州云栖科技"};

}  // namespace

std::string RandomId(std::mt19937_64& rng, const char* prefix, int length) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = prefix;
  for (int i = 0; i < length; ++i) id += kChars[rng() % 62];
  return id;
}

namespace {
template <typename T, size_t N>
const T& Pick(std::mt19937_64& rng, const std::array<T, N>& items) {
  return items[rng() % N];
}
}  // namespace

std::string RandomState(std::mt19937_64& rng) { return Pick(rng, kStates); }

Person RandomPerson(std::mt19937_64& rng) {
  const auto& s = Pick(rng, kSurnames);
  const auto& g = Pick(rng, kGiven);
  int gender = g.gender != 0 ? g.gender : static_cast<int>(1 + rng() % 2);
  return {std::string(s.han) + g.han, std::string(s.pinyin) + g.pinyin, gender};
}

namespace {
// WeCom's add_way distribution for a retail corp: mostly QR codes (live codes), then search, cards and groups.
int RandomAddWay(std::mt19937_64& rng) {
  int r = static_cast<int>(rng() % 100);
  if (r < 45) return 1;
  if (r < 58) return 2;
  if (r < 66) return 3;
  if (r < 76) return 4;
  if (r < 80) return 0;
  if (r < 90) return 201;
  return 202;
}

}  // namespace

Status InitSchema(storage::Database& db) {
  return db.Transact([](storage::Session& s) { return s.ExecScript(kSchema); });
}

Result<SeedReport> SeedCorp(storage::Database& db, const SeedSpec& spec) {
  if (spec.departments < 1 || spec.employees < 1 || spec.customers < 0 || spec.groups < 0)
    return Status::InvalidArgument("bad_seed_spec", "need at least one department and one employee");
  std::mt19937_64 rng(spec.seed);
  SeedReport report;
  const int64_t now = spec.now_s;
  const int64_t span = 548LL * 86400;  // 18 months

  std::vector<std::vector<Value>> depts, emps, custs, follows, groups_rows, tags_rows, tag_group_rows, follow_tag_rows,
      members, admins;
  // Departments: the corp at the root (id 1), the rest under it.
  depts.push_back({spec.corp_id, int64_t{1}, spec.corp_name, int64_t{0}, int64_t{100000000}});
  for (int i = 1; i < spec.departments; ++i)
    depts.push_back({spec.corp_id, int64_t{i + 1}, std::string(kDepartments[(i - 1) % kDepartments.size()]) +
                                                         (i > static_cast<int>(kDepartments.size()) ? std::to_string(i) : ""),
                     int64_t{1}, int64_t{100000000 - i * 1000}});
  report.departments = spec.departments;

  // Employees: every one has 客户联系 enabled; about 3 % have resigned (status 5).
  std::vector<std::string> userids;
  std::set<std::string> taken;
  for (int i = 0; i < spec.employees; ++i) {
    Person p = RandomPerson(rng);
    std::string userid = p.pinyin;
    for (int n = 2; taken.count(userid); ++n) userid = p.pinyin + std::to_string(n);
    taken.insert(userid);
    int dept = spec.departments == 1 ? 1 : 2 + static_cast<int>(rng() % (spec.departments - 1));
    int status = rng() % 100 < 3 && i > 0 ? 5 : 1;
    std::string mobile = "13" + std::to_string(100000000 + rng() % 900000000);
    emps.push_back({spec.corp_id, userid, p.name, "[" + std::to_string(dept) + "]", int64_t{dept},
                    std::string(Pick(rng, kPositions)), int64_t{p.gender}, mobile, int64_t{status}, int64_t{1}});
    if (status == 1) userids.push_back(userid);
  }
  report.employees = spec.employees;
  if (userids.empty()) userids.push_back(std::get<std::string>(emps[0][1]));

  // Corp tags.
  std::vector<std::string> tag_ids;
  int group_sort = 1000;
  for (const auto& g : kTagGroups) {
    std::string gid = RandomId(rng, "et", 20);
    tag_group_rows.push_back({spec.corp_id, gid, std::string(g.name), now - span, int64_t{group_sort -= 10}});
    int tag_sort = 100;
    for (const char* t : g.tags) {
      if (t == nullptr) break;
      std::string tid = RandomId(rng, "et", 20);
      tags_rows.push_back({spec.corp_id, tid, gid, std::string(t), now - span, int64_t{tag_sort -= 1}});
      tag_ids.push_back(tid);
    }
  }
  report.tags = static_cast<int>(tag_ids.size());

  // Customers and who follows them: most have one employee, some two or three.
  std::vector<std::pair<std::string, std::string>> customer_names;  // external_userid, name
  for (int i = 0; i < spec.customers; ++i) {
    Person p = RandomPerson(rng);
    std::string ext = RandomId(rng, "wm", 26);
    bool wecom_user = rng() % 100 < 4;  // type 2: a WeCom user of another company
    std::string company = wecom_user ? std::string("深圳前海微众科技") : std::string(Pick(rng, kCompanies));
    custs.push_back({spec.corp_id, ext, p.name, int64_t{wecom_user ? 2 : 1}, int64_t{rng() % 10 == 0 ? 0 : p.gender},
                     wecom_user ? std::string() : RandomId(rng, "o", 27), company,
                     wecom_user ? std::string("采购经理") : std::string()});
    customer_names.emplace_back(ext, p.name);
    int followers = rng() % 100 < 80 ? 1 : 2 + static_cast<int>(rng() % 2);
    std::set<std::string> chosen;
    for (int f = 0; f < followers && chosen.size() < userids.size(); ++f) {
      std::string userid = userids[rng() % userids.size()];
      if (!chosen.insert(userid).second) continue;
      int add_way = RandomAddWay(rng);
      std::string state = add_way == 1 && rng() % 100 < 65 ? std::string(Pick(rng, kStates)) : std::string();
      std::string remark = rng() % 2 ? p.name.substr(0, 3) + Pick(rng, kRemarkSuffix) : std::string();
      std::string description = rng() % 5 == 0 ? std::string("偏好周末到店，关注新品") : std::string();
      std::string mobiles = rng() % 10 < 3 ? "[\"1" + std::to_string(3 + rng() % 7) + std::to_string(100000000 + rng() % 900000000) + "\"]"
                                           : std::string("[]");
      // Add times skew recent: a customer base grows over time.
      double u = std::uniform_real_distribution<double>(0, 1)(rng);
      int64_t createtime = now - static_cast<int64_t>(span * (1 - std::sqrt(u)));
      std::string oper = add_way == 202 ? userids[rng() % userids.size()] : (rng() % 2 ? userid : ext);
      follows.push_back({spec.corp_id, userid, ext, remark, description, createtime, int64_t{add_way}, state, oper,
                         mobiles, company});
      int ntags = static_cast<int>(rng() % 5);
      std::set<std::string> tagset;
      for (int t = 0; t < ntags; ++t) tagset.insert(tag_ids[rng() % tag_ids.size()]);
      for (const auto& t : tagset) follow_tag_rows.push_back({spec.corp_id, userid, ext, t});
    }
  }
  report.customers = spec.customers;
  report.follows = static_cast<int>(follows.size());

  // Customer groups owned by employees, with employees and customers as members.
  for (int g = 0; g < spec.groups; ++g) {
    std::string chat = RandomId(rng, "wr", 26);
    std::string owner = userids[rng() % userids.size()];
    int64_t created = now - static_cast<int64_t>(rng() % span);
    groups_rows.push_back({spec.corp_id, chat, std::string("锦鲤会员群") + std::to_string(g + 1), owner, created,
                           std::string("欢迎加入锦鲤会员群，群内不定期发放新品试用。"), int64_t{0},
                           RandomId(rng, "", 32)});
    std::set<std::string> in_group{owner};
    members.push_back({spec.corp_id, chat, owner, int64_t{1}, created, int64_t{1}, std::string(), std::string(),
                       std::string(), std::string()});
    if (userids.size() > 1 && rng() % 2) {
      std::string admin = userids[rng() % userids.size()];
      if (in_group.insert(admin).second) {
        members.push_back({spec.corp_id, chat, admin, int64_t{1}, created, int64_t{1}, owner, std::string(),
                           std::string(), std::string()});
        admins.push_back({spec.corp_id, chat, admin});
      }
    }
    int size = customer_names.empty() ? 0 : 5 + static_cast<int>(rng() % std::min<size_t>(195, customer_names.size()));
    for (int m = 0; m < size; ++m) {
      const auto& [ext, name] = customer_names[rng() % customer_names.size()];
      if (!in_group.insert(ext).second) continue;
      int scene = 1 + static_cast<int>(rng() % 3);
      members.push_back({spec.corp_id, chat, ext, int64_t{2}, created + static_cast<int64_t>(rng() % (now - created + 1)),
                         int64_t{scene}, scene == 3 ? std::string() : owner,
                         scene == 3 ? std::string(Pick(rng, kStates)) : std::string(), std::string(), name});
    }
  }
  report.groups = spec.groups;
  report.group_members = static_cast<int>(members.size());

  Status s = db.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto exists, tx.Query("SELECT 1 FROM corps WHERE corp_id = ?", {spec.corp_id}));
    if (!exists.rows.empty()) return Status::AlreadyExists("corp_exists", "corp " + spec.corp_id + " already exists");
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO corps (corp_id, corp_name, secret, verified, callback_url, callback_token, "
                                "callback_aes_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                {spec.corp_id, spec.corp_name, spec.secret, int64_t{spec.verified ? 1 : 0},
                                 spec.callback_url, spec.callback_token, spec.callback_aes_key, now}));
    KOI_RETURN_IF_ERROR(tx.CopyIn("departments", {"corp_id", "id", "name", "parent_id", "sort"}, depts));
    KOI_RETURN_IF_ERROR(tx.CopyIn("employees", {"corp_id", "userid", "name", "departments", "main_department", "position",
                                                "gender", "mobile", "status", "customer_contact"},
                                  emps));
    KOI_RETURN_IF_ERROR(tx.CopyIn("tag_groups", {"corp_id", "group_id", "name", "create_time", "sort"}, tag_group_rows));
    KOI_RETURN_IF_ERROR(tx.CopyIn("tags", {"corp_id", "tag_id", "group_id", "name", "create_time", "sort"}, tags_rows));
    KOI_RETURN_IF_ERROR(tx.CopyIn("customers", {"corp_id", "external_userid", "name", "type", "gender", "unionid",
                                                "corp_name", "position"},
                                  custs));
    KOI_RETURN_IF_ERROR(tx.CopyIn("follows", {"corp_id", "userid", "external_userid", "remark", "description",
                                              "createtime", "add_way", "state", "oper_userid", "remark_mobiles",
                                              "remark_corp_name"},
                                  follows));
    KOI_RETURN_IF_ERROR(tx.CopyIn("follow_tags", {"corp_id", "userid", "external_userid", "tag_id"}, follow_tag_rows));
    KOI_RETURN_IF_ERROR(tx.CopyIn("group_chats", {"corp_id", "chat_id", "name", "owner", "create_time", "notice",
                                                  "status", "member_version"},
                                  groups_rows));
    KOI_RETURN_IF_ERROR(tx.CopyIn("group_members", {"corp_id", "chat_id", "member_id", "type", "join_time",
                                                    "join_scene", "invitor", "state", "unionid", "name"},
                                  members));
    return tx.CopyIn("group_admins", {"corp_id", "chat_id", "userid"}, admins);
  });
  KOI_RETURN_IF_ERROR(s);
  return report;
}

}  // namespace koi::sandbox

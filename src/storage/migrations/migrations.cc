#include "storage/migrations/migrations.h"

#include <spdlog/spdlog.h>

namespace koi::storage {
namespace {

// Add new migrations at the end; never edit one that has shipped.
const std::vector<Migration>& Defined() {
  static const std::vector<Migration> m = {
      {1, "jobs", R"sql(
CREATE TABLE jobs (
  id {{pk}},
  team_id BIGINT NOT NULL DEFAULT 0,
  kind TEXT NOT NULL,
  idempotency_key TEXT,
  payload TEXT NOT NULL DEFAULT '{}',
  checkpoint TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 8,
  run_at BIGINT NOT NULL,
  interval_ms BIGINT NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until BIGINT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  progress_done BIGINT NOT NULL DEFAULT 0,
  progress_total BIGINT NOT NULL DEFAULT 0,
  last_error_reason TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (team_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_team ON jobs (team_id, created_at);
)sql"},
      // Issue 3: teams, their accounts and sessions, SMS codes and the outbox, per-key rate counters, app
      // activations and the audit log. A phone identifies one account across all teams.
      {2, "accounts", R"sql(
CREATE TABLE teams (
  id {{pk}},
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE accounts (
  id {{pk}},
  team_id BIGINT NOT NULL REFERENCES teams (id),
  phone TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  status TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until BIGINT,
  last_login_at BIGINT,
  last_login_ip TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_phone ON accounts (phone);
CREATE INDEX accounts_team ON accounts (team_id, id);
CREATE TABLE sessions (
  id {{pk}},
  team_id BIGINT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_token ON sessions (token_hash);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE TABLE sms_codes (
  id {{pk}},
  phone TEXT NOT NULL,
  purpose TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  consumed_at BIGINT,
  ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sms_codes_phone ON sms_codes (phone, created_at);
CREATE TABLE sms_outbox (
  id {{pk}},
  phone TEXT NOT NULL,
  provider TEXT NOT NULL,
  text TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL
);
CREATE INDEX sms_outbox_phone ON sms_outbox (phone, id);
CREATE TABLE rate_counters (
  bucket TEXT NOT NULL,
  window_start BIGINT NOT NULL,
  hits INTEGER NOT NULL,
  PRIMARY KEY (bucket, window_start)
);
CREATE TABLE team_apps (
  team_id BIGINT NOT NULL REFERENCES teams (id),
  app_key TEXT NOT NULL,
  activated_at BIGINT NOT NULL,
  activated_by BIGINT NOT NULL,
  PRIMARY KEY (team_id, app_key)
);
CREATE TABLE audit_log (
  id {{pk}},
  team_id BIGINT NOT NULL,
  actor_id BIGINT,
  actor_phone TEXT NOT NULL DEFAULT '',
  actor_name TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  ip TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_team ON audit_log (team_id, id);
CREATE INDEX audit_log_team_action ON audit_log (team_id, action, id);
)sql"},
      // Issue 4: the team's linked WeCom corp and the mirror of its data that the full sync (and later the
      // callbacks) keep current. sync_run is the job that last saw a row, so a full sync can drop what WeCom no
      // longer has.
      {3, "wecom_link", R"sql(
CREATE TABLE wecom_corps (
  team_id BIGINT PRIMARY KEY REFERENCES teams (id),
  corp_id TEXT NOT NULL,
  corp_name TEXT NOT NULL DEFAULT '',
  mode TEXT NOT NULL,
  secret_enc TEXT NOT NULL,
  callback_token_enc TEXT NOT NULL,
  callback_aes_key_enc TEXT NOT NULL,
  agent_id TEXT NOT NULL DEFAULT '',
  linked_at BIGINT NOT NULL,
  linked_by BIGINT NOT NULL,
  sync_job_id BIGINT,
  last_synced_at BIGINT
);
CREATE UNIQUE INDEX wecom_corps_corp ON wecom_corps (corp_id);
CREATE TABLE wecom_departments (
  team_id BIGINT NOT NULL, dept_id BIGINT NOT NULL, name TEXT NOT NULL, parent_id BIGINT NOT NULL,
  sort BIGINT NOT NULL, sync_run BIGINT NOT NULL, PRIMARY KEY (team_id, dept_id));
CREATE TABLE wecom_employees (
  team_id BIGINT NOT NULL, userid TEXT NOT NULL, name TEXT NOT NULL, position TEXT NOT NULL, gender INTEGER NOT NULL,
  mobile TEXT NOT NULL, status INTEGER NOT NULL, main_department BIGINT NOT NULL, departments TEXT NOT NULL,
  customer_contact INTEGER NOT NULL, sync_run BIGINT NOT NULL, PRIMARY KEY (team_id, userid));
CREATE TABLE wecom_customers (
  team_id BIGINT NOT NULL, external_userid TEXT NOT NULL, name TEXT NOT NULL, type INTEGER NOT NULL,
  gender INTEGER NOT NULL, unionid TEXT NOT NULL, corp_name TEXT NOT NULL, position TEXT NOT NULL,
  sync_run BIGINT NOT NULL, PRIMARY KEY (team_id, external_userid));
CREATE TABLE wecom_follows (
  team_id BIGINT NOT NULL, userid TEXT NOT NULL, external_userid TEXT NOT NULL, remark TEXT NOT NULL,
  description TEXT NOT NULL, createtime BIGINT NOT NULL, add_way INTEGER NOT NULL, state TEXT NOT NULL,
  oper_userid TEXT NOT NULL, remark_mobiles TEXT NOT NULL, remark_corp_name TEXT NOT NULL, sync_run BIGINT NOT NULL,
  PRIMARY KEY (team_id, userid, external_userid));
CREATE INDEX wecom_follows_customer ON wecom_follows (team_id, external_userid);
CREATE TABLE wecom_follow_tags (
  team_id BIGINT NOT NULL, userid TEXT NOT NULL, external_userid TEXT NOT NULL, tag_id TEXT NOT NULL,
  PRIMARY KEY (team_id, userid, external_userid, tag_id));
CREATE TABLE wecom_tag_groups (
  team_id BIGINT NOT NULL, group_id TEXT NOT NULL, name TEXT NOT NULL, create_time BIGINT NOT NULL,
  sort BIGINT NOT NULL, sync_run BIGINT NOT NULL, PRIMARY KEY (team_id, group_id));
CREATE TABLE wecom_tags (
  team_id BIGINT NOT NULL, tag_id TEXT NOT NULL, group_id TEXT NOT NULL, name TEXT NOT NULL,
  create_time BIGINT NOT NULL, sort BIGINT NOT NULL, sync_run BIGINT NOT NULL, PRIMARY KEY (team_id, tag_id));
CREATE TABLE wecom_group_chats (
  team_id BIGINT NOT NULL, chat_id TEXT NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL, notice TEXT NOT NULL,
  create_time BIGINT NOT NULL, status INTEGER NOT NULL, member_version TEXT NOT NULL, member_count INTEGER NOT NULL,
  sync_run BIGINT NOT NULL, PRIMARY KEY (team_id, chat_id));
CREATE TABLE wecom_group_members (
  team_id BIGINT NOT NULL, chat_id TEXT NOT NULL, member_id TEXT NOT NULL, type INTEGER NOT NULL,
  join_time BIGINT NOT NULL, join_scene INTEGER NOT NULL, invitor TEXT NOT NULL, state TEXT NOT NULL,
  unionid TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (team_id, chat_id, member_id));
)sql"},
      // Issue 4, live sync: the callback inbox. A verified, decrypted callback is stored here before WeCom gets its
      // 200, then applied to the mirror by the wecom.apply_events job. msg_signature is unique per team (a replayed
      // request is refused); digest (SHA-256 of the decrypted message) is unique per team (WeCom's retries of one
      // event are stored once). Relationships become soft-deleted so churn keeps its history.
      {4, "wecom_callbacks", R"sql(
CREATE TABLE wecom_events (
  id {{pk}},
  team_id BIGINT NOT NULL,
  nonce_key TEXT NOT NULL,
  digest TEXT NOT NULL,
  event TEXT NOT NULL,
  change_type TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  payload TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  applied_at BIGINT,
  error TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX wecom_events_nonce ON wecom_events (team_id, nonce_key);
CREATE UNIQUE INDEX wecom_events_digest ON wecom_events (team_id, digest);
CREATE INDEX wecom_events_pending ON wecom_events (id) WHERE state = 'pending';
ALTER TABLE wecom_follows ADD COLUMN deleted_at BIGINT;
ALTER TABLE wecom_follows ADD COLUMN deleted_by TEXT NOT NULL DEFAULT '';
ALTER TABLE wecom_corps ADD COLUMN reconcile_job_id BIGINT;
)sql"},
      // Issue 5, customers: each customer carries a summary of its relationships (latest add time, how many are
      // active) kept by the mirror writes, so the list sorts and filters on the customer row alone. A member
      // account is bound to one WeCom employee (data permission); follow-up notes and the timeline of what Koi
      // itself changed are Koi's own rows.
      {5, "customers", R"sql(
ALTER TABLE wecom_customers ADD COLUMN last_add_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE wecom_customers ADD COLUMN active_follows INTEGER NOT NULL DEFAULT 0;
UPDATE wecom_customers SET
  last_add_time = COALESCE((SELECT MAX(f.createtime) FROM wecom_follows f WHERE f.team_id = wecom_customers.team_id
                            AND f.external_userid = wecom_customers.external_userid), 0),
  active_follows = (SELECT COUNT(*) FROM wecom_follows f WHERE f.team_id = wecom_customers.team_id
                    AND f.external_userid = wecom_customers.external_userid AND f.deleted_at IS NULL);
CREATE INDEX wecom_customers_recent ON wecom_customers (team_id, last_add_time, external_userid);
CREATE INDEX wecom_follows_recent ON wecom_follows (team_id, createtime, external_userid, userid);
CREATE INDEX wecom_group_members_member ON wecom_group_members (team_id, member_id);
CREATE TABLE employee_bindings (
  account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  team_id BIGINT NOT NULL,
  userid TEXT NOT NULL,
  data_scope TEXT NOT NULL,
  bound_at BIGINT NOT NULL,
  bound_by BIGINT NOT NULL
);
CREATE UNIQUE INDEX employee_bindings_userid ON employee_bindings (team_id, userid);
CREATE TABLE customer_notes (
  id {{pk}},
  team_id BIGINT NOT NULL,
  external_userid TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  author_name TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX customer_notes_customer ON customer_notes (team_id, external_userid, id);
)sql"},
      // Issue 5, tags: personal tags are Koi's own (never pushed to WeCom), visible to their owner and admins.
      // customer_events is the timeline of what Koi itself did to a customer (tagged, untagged, …).
      // bulk_tag_items is a bulk tagging job's target list, fixed when the job starts, with each item's outcome.
      // The customer list reads relationship tags by customer (a page's tags) and by tag (a tag filter).
      {6, "tags", R"sql(
CREATE TABLE personal_tags (
  id {{pk}},
  team_id BIGINT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX personal_tags_name ON personal_tags (team_id, account_id, name);
CREATE TABLE personal_tag_customers (
  tag_id BIGINT NOT NULL REFERENCES personal_tags (id) ON DELETE CASCADE,
  team_id BIGINT NOT NULL,
  external_userid TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tag_id, external_userid)
);
CREATE INDEX personal_tag_customers_customer ON personal_tag_customers (team_id, external_userid);
CREATE TABLE customer_events (
  id {{pk}},
  team_id BIGINT NOT NULL,
  external_userid TEXT NOT NULL,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  userid TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX customer_events_customer ON customer_events (team_id, external_userid, at);
CREATE TABLE bulk_tag_items (
  job_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  team_id BIGINT NOT NULL,
  external_userid TEXT NOT NULL,
  userid TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, seq)
);
CREATE INDEX bulk_tag_items_pending ON bulk_tag_items (job_id, seq) WHERE state = 'pending';
CREATE INDEX wecom_follow_tags_customer ON wecom_follow_tags (team_id, external_userid);
CREATE INDEX wecom_follow_tags_tag ON wecom_follow_tags (team_id, tag_id, external_userid);
)sql"},
      // Issue 5, stages and capacity: a team's customer pipeline (客户阶段) and each customer's place in it; whether the
      // linked corp is verified (its customer capacity depends on it; WeCom's API does not say).
      {7, "stages", R"sql(
CREATE TABLE customer_stages (
  id {{pk}},
  team_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  sort BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX customer_stages_name ON customer_stages (team_id, name);
CREATE TABLE customer_profiles (
  team_id BIGINT NOT NULL,
  external_userid TEXT NOT NULL,
  stage_id BIGINT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (team_id, external_userid)
);
CREATE INDEX customer_profiles_stage ON customer_profiles (team_id, stage_id);
ALTER TABLE wecom_corps ADD COLUMN corp_verified INTEGER NOT NULL DEFAULT 1;
)sql"},
      // Issue 6, segments: customer_keys gives every customer a stable integer id (the segment index's bitmaps
      // hold these); segment_changes is appended to, by triggers in the writing transaction, whenever a fact a
      // segment can test changes, so every process's index can catch up exactly. Purging moves the horizon.
      {8, "segments", R"sql(
CREATE TABLE customer_keys (
  id {{pk}},
  team_id BIGINT NOT NULL,
  external_userid TEXT NOT NULL
);
CREATE UNIQUE INDEX customer_keys_customer ON customer_keys (team_id, external_userid);
INSERT INTO customer_keys (team_id, external_userid) SELECT team_id, external_userid FROM wecom_customers
  ORDER BY team_id, external_userid;
CREATE TABLE segment_changes (
  seq {{pk}},
  team_id BIGINT NOT NULL,
  external_userid TEXT NOT NULL
);
CREATE INDEX segment_changes_team ON segment_changes (team_id, seq);
CREATE TABLE segment_change_horizon (upto BIGINT NOT NULL);
INSERT INTO segment_change_horizon (upto) VALUES (0);
CREATE TABLE segments (
  id {{pk}},
  team_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  rule TEXT NOT NULL,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX segments_name ON segments (team_id, name);
CREATE TABLE segment_sizes (
  segment_id BIGINT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
  day BIGINT NOT NULL,
  customers BIGINT NOT NULL,
  PRIMARY KEY (segment_id, day)
);
{{segment_triggers}}
)sql"},
      // Issue 7, mass messaging: the team's rule pack, messages with their planned recipients (one row per target
      // customer: its sender or the reason it is skipped, later WeCom's result), and the send ledger of chunks (one
      // add_msg_template each) that makes sending exactly once. `counts` marks the rows that use a quota; the
      // planner reads them by (team, counted_at) with the customer's key, without a join. Mass messages employees
      // send from their own WeCom client (personal, create_type 1) are synced into personal_mass_receipts, since
      // the pack counts them too.
      {9, "messaging", R"sql(
CREATE TABLE team_rule_packs (
  team_id BIGINT PRIMARY KEY,
  pack TEXT NOT NULL,
  overrides TEXT NOT NULL,
  updated_by BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE mass_messages (
  id {{pk}},
  team_id BIGINT NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  content TEXT NOT NULL,
  target TEXT NOT NULL,
  sender_userid TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  rule_pack TEXT NOT NULL,
  send_at BIGINT NOT NULL,
  targeted BIGINT NOT NULL DEFAULT 0,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  submitted_at BIGINT,
  settled_at BIGINT,
  cancelled_at BIGINT,
  next_sync_at BIGINT,
  job_id BIGINT,
  reminders TEXT NOT NULL DEFAULT '[]',
  plan TEXT NOT NULL DEFAULT '{}',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mass_messages_team ON mass_messages (team_id, id);
CREATE INDEX mass_messages_sync ON mass_messages (state, next_sync_at);
CREATE TABLE mass_message_recipients (
  message_id BIGINT NOT NULL REFERENCES mass_messages (id) ON DELETE CASCADE,
  team_id BIGINT NOT NULL,
  external_userid TEXT NOT NULL,
  customer_id BIGINT NOT NULL,
  userid TEXT NOT NULL,
  skip TEXT NOT NULL,
  chunk BIGINT NOT NULL DEFAULT -1,
  status INTEGER NOT NULL DEFAULT -1,
  send_time BIGINT,
  counts INTEGER NOT NULL DEFAULT 0,
  counted_at BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (message_id, external_userid)
);
CREATE INDEX mass_message_recipients_quota ON mass_message_recipients (team_id, counted_at, customer_id) WHERE counts = 1;
CREATE INDEX mass_message_recipients_customer ON mass_message_recipients (team_id, external_userid);
CREATE INDEX mass_message_recipients_chunk ON mass_message_recipients (message_id, chunk, external_userid);
CREATE TABLE mass_message_chunks (
  message_id BIGINT NOT NULL REFERENCES mass_messages (id) ON DELETE CASCADE,
  chunk BIGINT NOT NULL,
  team_id BIGINT NOT NULL,
  userid TEXT NOT NULL,
  name TEXT NOT NULL,
  recipients BIGINT NOT NULL,
  state TEXT NOT NULL,
  msgid TEXT,
  attempted_at BIGINT,
  first_attempted_at BIGINT,
  submitted_at BIGINT,
  task_status INTEGER NOT NULL DEFAULT 0,
  task_send_time BIGINT,
  results_synced INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (message_id, chunk)
);
CREATE UNIQUE INDEX mass_message_chunks_msgid ON mass_message_chunks (team_id, msgid);
CREATE TABLE personal_mass_messages (
  team_id BIGINT NOT NULL,
  msgid TEXT NOT NULL,
  userid TEXT NOT NULL,
  create_time BIGINT NOT NULL,
  settled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (team_id, msgid)
);
CREATE TABLE personal_mass_receipts (
  team_id BIGINT NOT NULL,
  msgid TEXT NOT NULL,
  external_userid TEXT NOT NULL,
  customer_id BIGINT NOT NULL,
  userid TEXT NOT NULL,
  sent_at BIGINT NOT NULL,
  PRIMARY KEY (team_id, msgid, external_userid)
);
CREATE INDEX personal_mass_receipts_time ON personal_mass_receipts (team_id, sent_at, customer_id);
CREATE TABLE messaging_sync_state (
  team_id BIGINT PRIMARY KEY,
  personal_upto BIGINT NOT NULL,
  next_personal_sync_at BIGINT NOT NULL
);
)sql"},
      // The relationship summary of a customer (latest add time, active relationships) is recomputed on every mirror
      // write. Without statistics SQLite answered its MAX(createtime) from the covering wecom_follows_recent index,
      // scanning the team's relationships backwards for each customer: a 200,000-customer full sync crawled (O(n²)).
      // The customer index now covers the summary, so both engines read just the customer's rows.
      {10, "follows_customer_covering", R"sql(
DROP INDEX wecom_follows_customer;
CREATE INDEX wecom_follows_customer ON wecom_follows (team_id, external_userid, createtime, deleted_at);
)sql"},
      // Issue 7, messages to customer groups. Group tags are Koi's own (WeCom has none for groups). A group message's
      // recipients are rows of mass_message_recipients too, keyed by chat_id in external_userid, with customer_id
      // -1 (no customer key): the customer quota reads customer_id >= 0, the group quota customer_id = -1.
      {11, "group_messages", R"sql(
ALTER TABLE mass_messages ADD COLUMN audience TEXT NOT NULL DEFAULT 'customers';
ALTER TABLE personal_mass_messages ADD COLUMN chat_type TEXT NOT NULL DEFAULT 'single';
CREATE TABLE group_tags (
  id {{pk}},
  team_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX group_tags_name ON group_tags (team_id, name);
CREATE TABLE group_chat_tags (
  team_id BIGINT NOT NULL,
  chat_id TEXT NOT NULL,
  tag_id BIGINT NOT NULL,
  PRIMARY KEY (team_id, chat_id, tag_id)
);
CREATE INDEX group_chat_tags_tag ON group_chat_tags (team_id, tag_id, chat_id);
CREATE INDEX wecom_group_chats_owner ON wecom_group_chats (team_id, owner);
)sql"},
      // Issue 7: enterprise messages an admin created in the WeCom admin console use the quotas too. They are synced
      // with the employees' own into the same tables (the messages made outside Koi), told apart by WeCom's
      // create_type (0 enterprise, 1 an employee's own).
      {12, "outside_mass_messages", R"sql(
ALTER TABLE personal_mass_messages ADD COLUMN create_type INTEGER NOT NULL DEFAULT 1;
ALTER TABLE personal_mass_receipts ADD COLUMN create_type INTEGER NOT NULL DEFAULT 1;
)sql"},
      // Issue 7: files uploaded to WeCom for mass messages' attachments (domain/messaging/media.h). WeCom keeps a
      // media id for 3 days, so Koi keeps the file and uploads it again when a later send needs it. The bytes are
      // base64 TEXT: storage::Value has no binary type (PostgreSQL's text parameters would stop at a NUL byte).
      // media_file_ids holds every id a file ever had, so content saved with an older id still finds its file.
      {13, "media_files", R"sql(
CREATE TABLE media_files (
  id {{pk}},
  team_id BIGINT NOT NULL,
  type TEXT NOT NULL,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes TEXT NOT NULL,
  media_id TEXT NOT NULL,
  uploaded_at BIGINT NOT NULL,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX media_files_content ON media_files (team_id, type, sha256);
CREATE TABLE media_file_ids (
  team_id BIGINT NOT NULL,
  media_id TEXT NOT NULL,
  file_id BIGINT NOT NULL REFERENCES media_files (id),
  uploaded_at BIGINT NOT NULL,
  PRIMARY KEY (team_id, media_id)
);
)sql"},
      // Issue 5: customer exports (domain/customers/exports.h). The file is written by a job in pieces, each with
      // the export's progress (rows, bytes, running CRC-32, the last row's key) in one transaction; state and
      // errors are the job's. Pieces are TEXT: CSV and worksheet XML are UTF-8.
      {14, "customer_exports", R"sql(
CREATE TABLE customer_exports (
  id {{pk}},
  team_id BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  job_id BIGINT NOT NULL,
  format TEXT NOT NULL,
  mode TEXT NOT NULL,
  lang TEXT NOT NULL,
  filename TEXT NOT NULL,
  total BIGINT NOT NULL,
  rows_written BIGINT NOT NULL DEFAULT 0,
  bytes BIGINT NOT NULL DEFAULT 0,
  crc BIGINT NOT NULL DEFAULT 0,
  next_seq BIGINT NOT NULL DEFAULT 0,
  key_customer TEXT NOT NULL DEFAULT '',
  key_userid TEXT NOT NULL DEFAULT '',
  complete INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  expires_at BIGINT NOT NULL
);
CREATE INDEX customer_exports_account ON customer_exports (team_id, account_id, id);
CREATE INDEX customer_exports_expiry ON customer_exports (expires_at);
CREATE TABLE customer_export_chunks (
  export_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (export_id, seq)
);
)sql"},
      // Issue 5: churn reminders (domain/customers/churn.h). A lost relationship keeps the corp tags it had (lost_tags,
      // JSON) since its tags are dropped; losses are listed newest first; an account's last look at them is kept.
      {15, "churn", R"sql(
ALTER TABLE wecom_follows ADD COLUMN lost_tags TEXT NOT NULL DEFAULT '';
CREATE INDEX wecom_follows_lost ON wecom_follows (team_id, deleted_at) WHERE deleted_at IS NOT NULL;
CREATE TABLE churn_seen (
  account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  team_id BIGINT NOT NULL,
  seen_at BIGINT NOT NULL
);
)sql"},
      // Issue 5: unionid matching (domain/customers/fans.h). The corp's verified entity as its admin names it, and
      // the imported fans of its official accounts and mini programs, matched to customers by unionid when read.
      {16, "fans", R"sql(
ALTER TABLE wecom_corps ADD COLUMN corp_subject TEXT NOT NULL DEFAULT '';
CREATE TABLE fans (
  team_id BIGINT NOT NULL,
  openid TEXT NOT NULL,
  unionid TEXT NOT NULL,
  nickname TEXT NOT NULL,
  account_name TEXT NOT NULL,
  account_type TEXT NOT NULL,
  imported_at BIGINT NOT NULL,
  PRIMARY KEY (team_id, openid)
);
CREATE INDEX fans_unionid ON fans (team_id, unionid);
CREATE INDEX fans_account ON fans (team_id, account_name);
CREATE INDEX wecom_customers_unionid ON wecom_customers (team_id, unionid);
)sql"},
      // Issue 5: when Koi learnt of a lost relationship (deleted_at is when it happened, per WeCom), so churn
      // applied late — a retried callback — still counts as unread (domain/customers/churn.h).
      {17, "churn_recorded_at", R"sql(
ALTER TABLE wecom_follows ADD COLUMN lost_recorded_at BIGINT;
UPDATE wecom_follows SET lost_recorded_at = deleted_at WHERE deleted_at IS NOT NULL;
)sql"},
      // Issue 5: custom fields (domain/customers/fields.h). A value row per text/number/date value (option_id 0)
      // and per chosen option (value ''); the segment index watches the values (issue 6).
      {18, "custom_fields", R"sql(
CREATE TABLE customer_fields (
  id {{pk}},
  team_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  sort BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX customer_fields_name ON customer_fields (team_id, name);
CREATE TABLE customer_field_options (
  id {{pk}},
  team_id BIGINT NOT NULL,
  field_id BIGINT NOT NULL,
  label TEXT NOT NULL,
  sort BIGINT NOT NULL
);
CREATE INDEX customer_field_options_field ON customer_field_options (team_id, field_id, sort);
CREATE TABLE customer_field_values (
  team_id BIGINT NOT NULL,
  external_userid TEXT NOT NULL,
  field_id BIGINT NOT NULL,
  option_id BIGINT NOT NULL,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (team_id, external_userid, field_id, option_id)
);
CREATE INDEX customer_field_values_field ON customer_field_values (team_id, field_id, option_id);
{{segment_triggers:18}}
)sql"},
      // Issue 5: the customer list's search is narrowed by the segment index's character grams, so changes to the
      // searched texts (name, company, remarks) must reach segment_changes too.
      // Also: a custom field's option labels are unique (FieldService checks it; this makes concurrent edits safe).
      {19, "search_text_changes", R"sql(
{{segment_update_triggers}}
CREATE UNIQUE INDEX customer_field_options_label ON customer_field_options (team_id, field_id, label);
)sql"},
      // Issue 4: installs through the third-party suite. WeCom pushes a suite_ticket every 10 minutes (the latest
      // is kept); an admin's install is a one-time state (stored hashed) that comes back with the auth_code.
      {20, "wecom_suite_install", R"sql(
CREATE TABLE wecom_suite_tickets (
  suite_id TEXT PRIMARY KEY,
  ticket_enc TEXT NOT NULL,
  received_at BIGINT NOT NULL
);
CREATE TABLE wecom_installs (
  state_hash TEXT PRIMARY KEY,
  team_id BIGINT NOT NULL REFERENCES teams (id),
  account_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  corp_id TEXT NOT NULL DEFAULT '',
  error_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX wecom_installs_team ON wecom_installs (team_id, created_at);
)sql"},
      // Issue 5: search by pinyin initials (王小明 → "wxm"). Filled by the mirror's writes; NULL until the start-up
      // backfill (customers::BackfillInitials) computes it for rows written before.
      {21, "pinyin_initials", R"sql(
ALTER TABLE wecom_customers ADD COLUMN name_py TEXT;
ALTER TABLE wecom_follows ADD COLUMN remark_py TEXT;
)sql"},
      // Issue 4: a corp's admin can uninstall the third-party app (cancel_auth): the link stays, marked, until the
      // app is installed again.
      {22, "wecom_auth_cancelled", R"sql(
ALTER TABLE wecom_corps ADD COLUMN auth_cancelled_at BIGINT;
)sql"},
      // The start-up fill of pinyin initials (customers::BackfillInitials) finds the rows still missing them
      // through these, instead of scanning both tables on every start; once filled they hold nothing.
      {23, "pinyin_initials_missing", R"sql(
CREATE INDEX wecom_customers_name_py_missing ON wecom_customers (team_id, external_userid) WHERE name_py IS NULL;
CREATE INDEX wecom_follows_remark_py_missing ON wecom_follows (team_id, userid, external_userid) WHERE remark_py IS NULL;
)sql"},
      // Issue 5: the segment index also orders the customer list (by day of last_add_time), so a change of it must
      // reach segment_changes even when written apart from the relationship that caused it.
      {24, "list_order_changes", R"sql(
{{list_order_trigger}}
)sql"},
      // Issue 4, callback ingestion: the digest (a SHA-256, random) led its unique index, so every stored callback
      // dirtied a page somewhere in it and each group commit wrote ~one page per row. The same plaintext always has the
      // same create_time (it is read from that plaintext), so leading with create_time keeps the rule (one row per
      // identical message) while new rows land together at the index's end.
      {25, "wecom_events_digest_by_time", R"sql(
DROP INDEX wecom_events_digest;
CREATE UNIQUE INDEX wecom_events_digest ON wecom_events (team_id, create_time, digest);
)sql"},
      // Issues 5 and 6: PostgreSQL commits transactions in any order, so a change row can appear below changes the
      // segment index has already read. Each row now carries its transaction's id; the index re-reads the rows of
      // transactions that were still running at its last read (SegmentIndex::Refresh). SQLite commits in seq order
      // and leaves it 0.
      {26, "segment_changes_txid", R"sql(
{{segment_changes_txid}}
)sql"},
      // Issue 4, the chat toolbar: a WeCom member who opened one of Koi's sidebar pages, identified by WeCom's OAuth
      // (wecom_link/sidebar.h). Not an account's session: it carries the member's userid and sees only their
      // customers. Only the token's hash is stored.
      {27, "sidebar_sessions", R"sql(
CREATE TABLE sidebar_sessions (
  id {{pk}},
  team_id BIGINT NOT NULL,
  corp_id TEXT NOT NULL,
  userid TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sidebar_sessions_token ON sidebar_sessions (token_hash);
CREATE INDEX sidebar_sessions_team ON sidebar_sessions (team_id, created_at);
)sql"},
      // Issue 7, the media library: a page of files listed from the index alone. On SQLite the kept bytes come
      // before the listed columns in each row, so reading those from the table walks every file's overflow pages.
      {28, "media_library_index", R"sql(
CREATE INDEX media_files_library ON media_files (team_id, created_at, id, type, filename, content_type, media_id, size,
                                                 uploaded_at, created_by);
)sql"},
      // Issue 4, callback ingestion: a stored callback cost its row, three index entries, and once applied the whole
      // row written again to say so. Now the row is written once. What waits to be applied is a row of
      // wecom_event_queue (two integers, written by a trigger on insert, deleted when applied), so wecom_events.state is 'received' or 'failed' from
      // here on (a received event no longer queued was applied; older rows keep 'done'). A replay is told from a
      // retry by the stored row's nonce (a replayed request carries the same ciphertext, hence the same message and
      // digest), so the nonce index goes; the nonces of WeCom's retries, rare, are kept in wecom_event_nonces. The digest
      // kept is 128 bits from now on; the stored ones are cut to match, so a retry across the upgrade still matches.
      {29, "wecom_event_queue", R"sql(
CREATE TABLE wecom_event_queue (
  id {{key}},
  team_id BIGINT NOT NULL
);
{{wecom_event_queue_trigger}}
INSERT INTO wecom_event_queue (id, team_id) SELECT id, team_id FROM wecom_events WHERE state = 'pending';
UPDATE wecom_events SET state = 'received' WHERE state = 'pending';
UPDATE wecom_events SET digest = substr(digest, 1, 32) WHERE length(digest) = 64;
DROP INDEX wecom_events_pending;
DROP INDEX wecom_events_nonce;
CREATE TABLE wecom_event_nonces (
  team_id BIGINT NOT NULL,
  nonce_key TEXT NOT NULL,
  digest TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (team_id, nonce_key, digest)
);
)sql"},
      // Issue 7, the media library: the media ids of deleted files, so a message composed before a delete cannot be
      // saved with the file afterwards (MediaService::NotDeleted).
      {30, "media_deleted_ids", R"sql(
CREATE TABLE media_deleted_ids (
  team_id BIGINT NOT NULL,
  media_id TEXT NOT NULL,
  deleted_at BIGINT NOT NULL,
  PRIMARY KEY (team_id, media_id)
);
)sql"},
      // Issue 6: the segment index reads every relationship tag of a page of customers, by customer. Through an index
      // of (team, customer) alone each row cost a second lookup in the table: a sixth of a 1M-customer build, and at
      // 10M the table's pages besides the index's. The customer index now holds the employee and the tag.
      {31, "follow_tags_by_customer_covering", R"sql(
DROP INDEX wecom_follow_tags_customer;
CREATE INDEX wecom_follow_tags_customer ON wecom_follow_tags (team_id, external_userid, userid, tag_id);
)sql"},
      // Issue 4, callback ingestion: the digests are random, so their unique index took each stored callback to a page
      // of its own — most of what a group commit wrote. The inbox's writer now remembers the last ten minutes'
      // callbacks itself (wecom_link/recent_callbacks.h). SQLite has one Koi node, so the index goes; PostgreSQL keeps
      // it for the callbacks another node stored.
      {32, "wecom_events_digest_sqlite", R"sql(
{{wecom_events_digest_sqlite}}
)sql"},
  };
  return m;
}

// The tables the segment index reads, the column naming the customer, and the columns whose updates matter.
// `since`: the migration that creates the triggers (the one that created the table, or 8 for the first ones).
struct Watched {
  const char* table;
  const char* customer;
  const char* update_of;
  int since;
};
constexpr Watched kWatched[] = {
    {"wecom_customers", "external_userid", "gender, name, corp_name", 8},
    {"wecom_follows", "external_userid",
     "createtime, add_way, state, deleted_at, remark, remark_mobiles, remark_corp_name", 8},
    {"wecom_follow_tags", "external_userid", nullptr, 8},
    {"customer_profiles", "external_userid", "stage_id", 8},
    {"personal_tag_customers", "external_userid", nullptr, 8},
    {"wecom_group_members", "member_id", nullptr, 8},
    {"customer_field_values", "external_userid", nullptr, 18},
};

// The triggers migration `version` creates (8 also creates customer_keys' trigger and PostgreSQL's functions).
std::string SegmentTriggers(Engine engine, int version) {
  std::string out;
  if (engine == Engine::kSqlite) {
    if (version == 8)
      out += "CREATE TRIGGER customer_keys_assign AFTER INSERT ON wecom_customers BEGIN INSERT OR IGNORE INTO "
             "customer_keys (team_id, external_userid) VALUES (NEW.team_id, NEW.external_userid); END;\n";
    for (const auto& w : kWatched) {
      if (w.since != version) continue;
      const std::string t = w.table, col = w.customer;
      auto trig = [&](const std::string& when, const char* row) {
        return "CREATE TRIGGER seg_" + t + "_" + when.substr(0, 3) + " AFTER " + when + " ON " + t +
               " BEGIN INSERT INTO segment_changes (team_id, external_userid) VALUES (" + row + ".team_id, " + row +
               "." + col + "); END;\n";
      };
      out += trig("INSERT", "NEW") + trig("DELETE", "OLD");
      if (w.update_of) {
        out += "CREATE TRIGGER seg_" + t + "_upd AFTER UPDATE OF " + w.update_of + " ON " + t +
               " BEGIN INSERT INTO segment_changes (team_id, external_userid) VALUES (NEW.team_id, NEW." + col +
               "); END;\n";
      }
    }
    return out;
  }
  if (version == 8) {
    out += "CREATE FUNCTION koi_customer_keys_assign() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO "
           "customer_keys (team_id, external_userid) VALUES (NEW.team_id, NEW.external_userid) ON CONFLICT DO NOTHING; "
           "RETURN NULL; END $$;\n"
           "CREATE TRIGGER customer_keys_assign AFTER INSERT ON wecom_customers FOR EACH ROW EXECUTE FUNCTION "
           "koi_customer_keys_assign();\n";
    for (const char* col : {"external_userid", "member_id"}) {
      out += std::string("CREATE FUNCTION koi_segment_change_") + col +
             "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'DELETE' THEN INSERT INTO segment_changes "
             "(team_id, external_userid) VALUES (OLD.team_id, OLD." + col + "); ELSE INSERT INTO segment_changes "
             "(team_id, external_userid) VALUES (NEW.team_id, NEW." + col + "); END IF; RETURN NULL; END $$;\n";
    }
  }
  for (const auto& w : kWatched) {
    if (w.since != version) continue;
    const std::string t = w.table;
    std::string events = "INSERT OR DELETE";
    if (w.update_of) events += std::string(" OR UPDATE OF ") + w.update_of;
    out += "CREATE TRIGGER seg_" + t + " AFTER " + events + " ON " + t +
           " FOR EACH ROW EXECUTE FUNCTION koi_segment_change_" + w.customer + "();\n";
  }
  return out;
}

// Migration 19: the update triggers again, for the columns kWatched names now (8 created them for fewer).
std::string SegmentUpdateTriggers(Engine engine) {
  std::string out;
  for (const auto& w : kWatched) {
    if (!w.update_of || w.since != 8) continue;
    const std::string t = w.table;
    if (engine == Engine::kSqlite) {
      out += "DROP TRIGGER IF EXISTS seg_" + t + "_upd;\n"
             "CREATE TRIGGER seg_" + t + "_upd AFTER UPDATE OF " + w.update_of + " ON " + t +
             " BEGIN INSERT INTO segment_changes (team_id, external_userid) VALUES (NEW.team_id, NEW." + w.customer +
             "); END;\n";
    } else {
      out += "DROP TRIGGER IF EXISTS seg_" + t + " ON " + t + ";\n"
             "CREATE TRIGGER seg_" + t + " AFTER INSERT OR DELETE OR UPDATE OF " + w.update_of + " ON " + t +
             " FOR EACH ROW EXECUTE FUNCTION koi_segment_change_" + w.customer + "();\n";
    }
  }
  return out;
}

std::string Render(const std::string& sql, Engine engine) {
  std::string pk = engine == Engine::kPostgres ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                                                : "INTEGER PRIMARY KEY AUTOINCREMENT";
  std::string out = sql;
  for (size_t pos = out.find("{{pk}}"); pos != std::string::npos; pos = out.find("{{pk}}", pos))
    out.replace(pos, 6, pk);
  // An integer key given by the writer: on SQLite the rowid itself (no separate index).
  constexpr std::string_view kKey = "{{key}}";
  for (size_t pos = out.find(kKey); pos != std::string::npos; pos = out.find(kKey, pos))
    out.replace(pos, kKey.size(), engine == Engine::kPostgres ? "BIGINT PRIMARY KEY" : "INTEGER PRIMARY KEY");
  // Each "{{name}}" placeholder, where the migration has it, replaced by its engine's SQL.
  auto substitute = [&out](std::string_view name, auto make) {
    if (auto pos = out.find(name); pos != std::string::npos) out.replace(pos, name.size(), make());
  };
  substitute("{{segment_triggers}}", [&] { return SegmentTriggers(engine, 8); });
  substitute("{{segment_update_triggers}}", [&] { return SegmentUpdateTriggers(engine); });
  substitute("{{list_order_trigger}}", [&] {
    return std::string(
        engine == Engine::kSqlite
            ? "CREATE TRIGGER seg_wecom_customers_order AFTER UPDATE OF last_add_time ON wecom_customers WHEN "
              "OLD.last_add_time IS NOT NEW.last_add_time BEGIN INSERT INTO segment_changes (team_id, "
              "external_userid) VALUES (NEW.team_id, NEW.external_userid); END;"
            : "CREATE TRIGGER seg_wecom_customers_order AFTER UPDATE OF last_add_time ON wecom_customers FOR "
              "EACH ROW WHEN (OLD.last_add_time IS DISTINCT FROM NEW.last_add_time) EXECUTE FUNCTION "
              "koi_segment_change_external_userid();");
  });
  substitute("{{wecom_event_queue_trigger}}", [&] {
    return std::string(
        engine == Engine::kSqlite
            ? "CREATE TRIGGER wecom_events_queued AFTER INSERT ON wecom_events BEGIN INSERT INTO "
              "wecom_event_queue (id, team_id) VALUES (NEW.id, NEW.team_id); END;"
            : "CREATE FUNCTION koi_wecom_event_queued() RETURNS trigger AS $$ BEGIN INSERT INTO "
              "wecom_event_queue (id, team_id) VALUES (NEW.id, NEW.team_id); RETURN NULL; END $$ LANGUAGE "
              "plpgsql;\n"
              "CREATE TRIGGER wecom_events_queued AFTER INSERT ON wecom_events FOR EACH ROW EXECUTE FUNCTION "
              "koi_wecom_event_queued();");
  });
  substitute("{{segment_changes_txid}}", [&] {
    return std::string(engine == Engine::kSqlite
                           ? "ALTER TABLE segment_changes ADD COLUMN txid BIGINT NOT NULL DEFAULT 0;"
                           : "ALTER TABLE segment_changes ADD COLUMN txid BIGINT NOT NULL DEFAULT "
                             "(pg_current_xact_id()::text::bigint);\n"
                             "CREATE INDEX segment_changes_txid ON segment_changes (team_id, txid);");
  });
  substitute("{{wecom_events_digest_sqlite}}", [&] {
    return std::string(engine == Engine::kSqlite ? "DROP INDEX wecom_events_digest;" : "SELECT 1;");
  });
  constexpr std::string_view kLaterTriggers = "{{segment_triggers:";  // "{{segment_triggers:18}}"
  if (auto pos = out.find(kLaterTriggers); pos != std::string::npos) {
    const size_t end = out.find("}}", pos);
    const int version = std::stoi(out.substr(pos + kLaterTriggers.size(), end - pos - kLaterTriggers.size()));
    out.replace(pos, end + 2 - pos, SegmentTriggers(engine, version));
  }
  return out;
}

constexpr std::string_view kCreateLedger =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at BIGINT NOT NULL)";

}  // namespace

const std::vector<Migration>& AllMigrations() { return Defined(); }

int64_t LatestSchemaVersion() { return Defined().empty() ? 0 : Defined().back().version; }

Result<int64_t> CurrentSchemaVersion(Database& db) {
  auto r = db.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!r.ok()) {
    // No ledger table yet means an empty database; any other failure is real.
    auto probe = db.Query(db.engine() == Engine::kPostgres
                              ? "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'schema_migrations' AND schemaname = current_schema()"
                              : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (probe.ok() && probe->rows.at(0).Int(0) == 0) return int64_t{0};
    return r.status();
  }
  return r->rows.at(0).Int(0);
}

Result<int> Migrate(Database& db, const Clock& clock) {
  int applied = 0;
  for (const auto& m : Defined()) {
    bool did = false;
    Status s = db.Transact([&](Session& tx) -> Status {
      did = false;
      if (tx.engine() == Engine::kPostgres)
        KOI_RETURN_IF_ERROR(tx.Exec("SELECT pg_advisory_xact_lock(7309441)"));  // "koi" migrations lock
      KOI_RETURN_IF_ERROR(tx.ExecScript(kCreateLedger));
      KOI_ASSIGN_OR_RETURN(auto cur, tx.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
      int64_t current = cur.rows.at(0).Int(0);
      if (current > LatestSchemaVersion())
        return Status::FailedPrecondition(
            "database_newer_than_binary",
            "the database is at schema version " + std::to_string(current) + " but this binary knows only up to " +
                std::to_string(LatestSchemaVersion()) + "; run a newer koi");
      if (current >= m.version) return Status::Ok();
      KOI_RETURN_IF_ERROR(tx.ExecScript(Render(m.sql, tx.engine())).WithContext("migration " + m.name));
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                  {m.version, m.name, clock.NowMillis()}));
      did = true;
      return Status::Ok();
    });
    KOI_RETURN_IF_ERROR(s);
    if (did) {
      spdlog::info("applied migration {} ({})", m.version, m.name);
      ++applied;
    }
  }
  if (Defined().empty()) {
    KOI_RETURN_IF_ERROR(db.Exec(kCreateLedger));
  }
  // Also refuse when there was nothing to apply but the database is ahead.
  KOI_ASSIGN_OR_RETURN(int64_t current, CurrentSchemaVersion(db));
  if (current > LatestSchemaVersion())
    return Status::FailedPrecondition("database_newer_than_binary",
                                      "the database is at schema version " + std::to_string(current) +
                                          " but this binary knows only up to " + std::to_string(LatestSchemaVersion()));
  return applied;
}

}  // namespace koi::storage

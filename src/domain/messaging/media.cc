#include "domain/messaging/media.h"

#include <algorithm>

#include "core/utf8.h"
#include "domain/accounts/secrets.h"
#include "wecom/protocol/crypto.h"
#include "wecom/protocol/media.h"

namespace koi::messaging {
namespace {

using storage::Value;

constexpr char kSelect[] =
    "SELECT f.id, f.type, f.filename, f.content_type, f.media_id, f.size, f.uploaded_at FROM media_files f ";

bool FilenameOk(std::string_view name) {
  if (TrimSpace(name).empty() || !IsValidUtf8(name) || CodePointCount(name) > kMaxMediaFilenameChars) return false;
  if (name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == '/' || c == '\\';
  });
}

}  // namespace

Status CheckMedia(std::string_view type, std::string_view filename, std::string_view bytes) {
  // WeCom's voice type is for other messages: a mass message's attachments are images, videos and files.
  if (type != "image" && type != "video" && type != "file")
    return Status::InvalidArgument("media_type_invalid", "type: image, video or file");
  if (!FilenameOk(filename))
    return Status::InvalidArgument("media_filename_invalid",
                                   "filename: 1 to " + std::to_string(kMaxMediaFilenameChars) +
                                       " characters, without a path separator or control characters");
  const auto size = static_cast<int64_t>(bytes.size());
  if (size < wecom::kMinMediaBytes)
    return Status::InvalidArgument("media_empty", "the file is empty: WeCom takes files of more than 5 bytes");
  const std::string kind = (type == "image" ? "an " : "a ") + std::string(type);
  if (const int64_t max = wecom::MaxMediaBytes(type); size > max)
    return Status::InvalidArgument("media_too_large", kind + " is at most " + std::to_string(max >> 20) +
                                                          " MB; this file has " + std::to_string(size) + " bytes");
  if (!wecom::MediaFormatOk(type, bytes))
    return Status::InvalidArgument("media_format_invalid",
                                   kind + " must be " + std::string(wecom::MediaFormats(type)));
  return Status::Ok();
}

std::string MediaContentType(std::string_view type, std::string_view declared, std::string_view bytes) {
  if (type == "image") return bytes.starts_with("\x89PNG") ? "image/png" : "image/jpeg";
  if (type == "video") return "video/mp4";
  // A file's type only labels it; a header-breaking or absurd one is not passed on.
  const std::string t = TrimSpace(declared);
  const bool mime = t.size() <= 127 && t.find('/') != std::string::npos &&
                    std::all_of(t.begin(), t.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  return mime ? t : "application/octet-stream";
}

Result<Media> MediaService::Upload(const accounts::Principal& who, const std::string& type, const std::string& filename,
                                   const std::string& content_type, std::string_view bytes) {
  KOI_RETURN_IF_ERROR(CheckMedia(type, filename, bytes));
  const TeamId team = who.team;
  const std::string sha256 = accounts::Sha256Hex(bytes);
  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  KOI_ASSIGN_OR_RETURN(auto known, Find("WHERE f.team_id = ? AND f.type = ? AND f.sha256 = ?",
                                        {team.value(), type, sha256}));
  if (known) {
    if (known->filename == filename && Fresh(*known)) return ToMedia(*known);
    KOI_ASSIGN_OR_RETURN(auto again, Reupload(team, *known, filename, corp));
    return ToMedia(again);
  }
  const std::string mime = MediaContentType(type, content_type, bytes);
  KOI_ASSIGN_OR_RETURN(auto uploaded, client_.UploadMedia(corp, type, filename, mime, bytes));
  Stored file{.id = 0, .type = type, .filename = filename, .content_type = mime, .media_id = uploaded.media_id,
              .size = static_cast<int64_t>(bytes.size()), .uploaded_at_ms = UploadedAt(uploaded)};
  const std::string encoded = wecom::Base64Encode(bytes);
  const int64_t now = clock_.NowMillis();
  Status s = db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto row, tx.Query("INSERT INTO media_files (team_id, type, filename, content_type, size, "
                                            "sha256, bytes, media_id, uploaded_at, created_by, created_at) VALUES (?, "
                                            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                            {team.value(), type, filename, mime, file.size, sha256, encoded,
                                             file.media_id, file.uploaded_at_ms, who.account.value(), now}));
    file.id = row.rows.at(0).Int(0);
    return tx.Exec("INSERT INTO media_file_ids (team_id, media_id, file_id, uploaded_at) VALUES (?, ?, ?, ?)",
                   {team.value(), file.media_id, file.id, file.uploaded_at_ms});
  });
  // The same file was kept meanwhile by a concurrent upload: use that row (this media id stays unused).
  if (s.code() == StatusCode::kAlreadyExists) return Upload(who, type, filename, content_type, bytes);
  KOI_RETURN_IF_ERROR(s);
  return ToMedia(file);
}

Result<std::string> MediaService::Usable(TeamId team, const std::string& media_id, const wecom::CorpCredentials& corp) {
  if (media_id.empty()) return media_id;
  KOI_ASSIGN_OR_RETURN(auto file, Find("JOIN media_file_ids i ON i.file_id = f.id AND i.team_id = f.team_id WHERE "
                                       "i.team_id = ? AND i.media_id = ?",
                                       {team.value(), media_id}));
  if (!file) return media_id;
  if (Fresh(*file)) return file->media_id;
  KOI_ASSIGN_OR_RETURN(auto again, Reupload(team, *file, file->filename, corp));
  return again.media_id;
}

Status MediaService::NotDeleted(storage::Session& tx, TeamId team, const std::vector<std::string>& media_ids) {
  const bool postgres = tx.engine() == storage::Engine::kPostgres;
  for (const auto& media_id : media_ids) {
    if (media_id.empty()) continue;
    if (postgres)
      KOI_RETURN_IF_ERROR(tx.Exec("SELECT f.id FROM media_files f JOIN media_file_ids i ON i.file_id = f.id AND "
                                  "i.team_id = f.team_id WHERE i.team_id = ? AND i.media_id = ? FOR SHARE OF f",
                                  {team.value(), media_id}));
    KOI_ASSIGN_OR_RETURN(auto q, tx.Query("SELECT 1 FROM media_deleted_ids WHERE team_id = ? AND media_id = ?",
                                          {team.value(), media_id}));
    if (!q.rows.empty())
      return Status::NotFound("media_not_found", "the file with media id " + media_id +
                                                     " was deleted from the media library: choose or upload it again");
  }
  return Status::Ok();
}

Result<int64_t> MediaService::PurgeDeletedIds() {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("DELETE FROM media_deleted_ids WHERE deleted_at < ?",
                                         {clock_.NowMillis() - 7 * 86'400'000LL}));
  return r.affected_rows;
}

Result<MediaService::Kept> MediaService::File(TeamId team, const std::string& media_id) {
  KOI_ASSIGN_OR_RETURN(auto q, db_.Query("SELECT f.type, f.filename, f.content_type, f.bytes FROM media_files f JOIN "
                                         "media_file_ids i ON i.file_id = f.id AND i.team_id = f.team_id WHERE "
                                         "i.team_id = ? AND i.media_id = ?", {team.value(), media_id}));
  if (q.rows.empty()) return Status::NotFound("media_not_found", "no file uploaded through Koi has this media id");
  Kept out{.type = q.rows[0].Text(0), .filename = q.rows[0].Text(1), .content_type = q.rows[0].Text(2), .bytes = {}};
  if (!wecom::Base64Decode(q.rows[0].Text(3), out.bytes))
    return Status::Internal("media_corrupt", "the kept bytes of media " + media_id + " cannot be read");
  return out;
}

Result<std::optional<MediaService::Stored>> MediaService::Find(const std::string& joins_and_where,
                                                               const std::vector<Value>& params) {
  KOI_ASSIGN_OR_RETURN(auto q, db_.Query(kSelect + joins_and_where, params));
  if (q.rows.empty()) return std::optional<Stored>();
  const auto& r = q.rows[0];
  return std::optional<Stored>(Stored{.id = r.Int(0), .type = r.Text(1), .filename = r.Text(2),
                                      .content_type = r.Text(3), .media_id = r.Text(4), .size = r.Int(5),
                                      .uploaded_at_ms = r.Int(6)});
}

Result<MediaService::Stored> MediaService::Reupload(TeamId team, Stored file, const std::string& filename,
                                                    const wecom::CorpCredentials& corp) {
  KOI_ASSIGN_OR_RETURN(auto kept, db_.Query("SELECT bytes FROM media_files WHERE id = ?", {file.id}));
  std::string bytes;
  if (kept.rows.empty() || !wecom::Base64Decode(kept.rows[0].Text(0), bytes))
    return Status::Internal("media_corrupt", "the kept bytes of media file " + std::to_string(file.id) +
                                                 " cannot be read");
  KOI_ASSIGN_OR_RETURN(auto uploaded, client_.UploadMedia(corp, file.type, filename, file.content_type, bytes));
  file.filename = filename;
  file.media_id = uploaded.media_id;
  file.uploaded_at_ms = UploadedAt(uploaded);
  // Two refreshes at once both upload; the later write becomes current, and either id is good for 3 days.
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO media_file_ids (team_id, media_id, file_id, uploaded_at) VALUES (?, ?, "
                                "?, ?)",
                                {team.value(), file.media_id, file.id, file.uploaded_at_ms}));
    return tx.Exec("UPDATE media_files SET filename = ?, media_id = ?, uploaded_at = ? WHERE id = ?",
                   {file.filename, file.media_id, file.uploaded_at_ms, file.id});
  }));
  return file;
}

int64_t MediaService::UploadedAt(const wecom::UploadedMedia& uploaded) const {
  // WeCom's 3 days run from its created_at; the earlier of its clock and Koi's is the safe side of a skew.
  const int64_t now = clock_.NowMillis();
  return uploaded.created_at > 0 ? std::min(now, uploaded.created_at * 1000) : now;
}

bool MediaService::Fresh(const Stored& file) const {
  return file.uploaded_at_ms + kMediaLifetimeMs - kMediaMarginMs > clock_.NowMillis();
}

Result<accounts::Paged<MediaService::LibraryItem>> MediaService::List(TeamId team, std::string_view type,
                                                                     std::string_view query, int page, int page_size) {
  if (!type.empty() && type != "image" && type != "video" && type != "file")
    return Status::InvalidArgument("media_type_invalid", "type is image, video or file");
  std::string where = " WHERE f.team_id = ?";
  std::vector<Value> params{team.value()};
  if (!type.empty()) {
    where += " AND f.type = ?";
    params.emplace_back(std::string(type));
  }
  const std::string q = TrimSpace(query);
  if (!q.empty()) {
    // Case-insensitive on both engines (SQLite's LIKE folds ASCII case, PostgreSQL's folds none); each engine
    // lower-cases both sides its own way.
    where += " AND LOWER(f.filename) LIKE LOWER(?)" + std::string(" ESCAPE '\\'");
    params.emplace_back(storage::LikeContains(q));
  }
  accounts::Paged<LibraryItem> out;
  KOI_ASSIGN_OR_RETURN(auto n, db_.Query("SELECT COUNT(*) FROM media_files f" + where, params));
  out.total = n.rows.at(0).Int(0);
  params.emplace_back(int64_t{page_size});
  params.emplace_back(int64_t{page - 1} * page_size);
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT f.id, f.type, f.filename, f.content_type, f.media_id, f.size, "
                                         "f.uploaded_at, f.created_at, f.created_by, COALESCE(a.name, '') FROM "
                                         "media_files f LEFT JOIN accounts a ON a.id = f.created_by" + where +
                                             " ORDER BY f.created_at DESC, f.id DESC LIMIT ? OFFSET ?",
                                         params));
  for (const auto& row : r.rows) {
    Stored s{.id = row.Int(0), .type = row.Text(1), .filename = row.Text(2), .content_type = row.Text(3),
             .media_id = row.Text(4), .size = row.Int(5), .uploaded_at_ms = row.Int(6)};
    out.items.push_back({.media = ToMedia(s), .uploaded_at_ms = s.uploaded_at_ms, .created_at_ms = row.Int(7),
                         .created_by = row.Text(9), .created_by_id = row.Int(8)});
  }
  return out;
}

Status MediaService::Delete(const accounts::Principal& who, int64_t id, const accounts::Client& client) {
  const Status not_found = Status::NotFound("media_not_found", "no such file in the team's media library");
  KOI_ASSIGN_OR_RETURN(auto f, db_.Query("SELECT created_by, filename FROM media_files WHERE team_id = ? AND id = ?",
                                         {who.team.value(), id}));
  if (f.rows.empty()) return not_found;
  if (!who.is_admin() && f.rows[0].Int(0) != who.account.value())
    return Status::PermissionDenied("media_not_yours", "only the member who uploaded a file, or an admin, deletes it");
  const std::string filename = f.rows[0].Text(1);
  return db_.Transact([&](storage::Session& tx) -> Status {
    // A message being saved with this file holds it (NotDeleted): wait for it, then see it below.
    if (tx.engine() == storage::Engine::kPostgres) {
      KOI_ASSIGN_OR_RETURN(auto held, tx.Query("SELECT id FROM media_files WHERE team_id = ? AND id = ? FOR UPDATE",
                                               {who.team.value(), id}));
      if (held.rows.empty()) return not_found;
    }
    // Every id the file ever had: content saved with an older one still uses the file.
    KOI_ASSIGN_OR_RETURN(auto ids, tx.Query("SELECT media_id FROM media_file_ids WHERE team_id = ? AND file_id = ? "
                                            "UNION SELECT media_id FROM media_files WHERE id = ?",
                                            {who.team.value(), id, id}));
    for (const auto& row : ids.rows) {
      // The id as content holds it, in a media_id or a cover_media_id field (not as a part of another id or text).
      KOI_ASSIGN_OR_RETURN(auto used, tx.Query("SELECT id, title FROM mass_messages WHERE team_id = ? AND state IN "
                                               "('draft', 'scheduled', 'sending') AND content LIKE ?" +
                                                   std::string(" ESCAPE '\\'") + " ORDER BY id LIMIT 1",
                                               {who.team.value(),
                                                storage::LikeContains("media_id\":\"" + row.Text(0) + "\"")}));
      if (!used.rows.empty())
        return Status::FailedPrecondition("media_in_use", "message " + std::to_string(used.rows[0].Int(0)) + " (" +
                                                              used.rows[0].Text(1) +
                                                              ") uses this file and is not sent yet");
    }
    // Remembered, so that a message composed before the delete cannot still be saved with the file.
    for (const auto& row : ids.rows)
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO media_deleted_ids (team_id, media_id, deleted_at) VALUES (?, ?, ?) ON "
                                  "CONFLICT DO NOTHING",
                                  {who.team.value(), row.Text(0), clock_.NowMillis()}));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM media_file_ids WHERE team_id = ? AND file_id = ?", {who.team.value(), id}));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM media_files WHERE team_id = ? AND id = ?", {who.team.value(), id}));
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "media.deleted", std::to_string(id),
                                                 client.ip, filename);
  });
}

Media MediaService::ToMedia(const Stored& file) {
  return {.id = file.id, .media_id = file.media_id, .type = file.type, .filename = file.filename, .size = file.size,
          .expires_at_ms = file.uploaded_at_ms + kMediaLifetimeMs};
}

}  // namespace koi::messaging

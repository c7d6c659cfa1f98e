// Media for mass messages' attachments (上传临时素材): the images, videos and files whose WeCom media_id an image,
// video or file attachment or a mini program's cover needs.
//
// WeCom keeps a temporary media id for 3 days, but a message may be scheduled further ahead, or its content reused
// later. So Koi keeps each file it uploads (media_files) and, just before a message goes out, Usable() gives a media
// id valid for at least another hour: the same one while it is fresh, otherwise a new one after uploading the kept
// bytes again. Every id a file ever had stays mapped to it (media_file_ids), so content saved with an older id still
// finds its file.
//
// A file is checked before anything is uploaded, by WeCom's rules (wecom/protocol/media.h) but with reasons a person
// can act on: the type is image, video or file (a mass message takes no voice); more than 5 bytes; image ≤10 MB JPG
// or PNG, video ≤10 MB MP4, file ≤20 MB of any format, formats told by their magic bytes rather than by the name or
// the browser's MIME type. The same file (team, type, SHA-256) is kept once: uploading it again reuses its row.
// Thread safety: thread-safe (state in the database).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "domain/wecom_link/link.h"
#include "storage/database.h"
#include "wecom/client/client.h"

namespace koi::messaging {

inline constexpr int64_t kMediaLifetimeMs = 3 * 86'400'000LL;  // WeCom's lifetime of a temporary media id
inline constexpr int64_t kMediaMarginMs = 3'600'000;            // Usable() gives ids valid at least this much longer
inline constexpr size_t kMaxMediaFilenameChars = 128;

struct Media {
  int64_t id = 0;             // Koi's (media_files.id)
  std::string media_id;       // WeCom's, current
  std::string type;           // image | video | file
  std::string filename;
  int64_t size = 0;           // bytes
  int64_t expires_at_ms = 0;  // when WeCom forgets media_id
};

// Checks a file for a mass message's attachment (InvalidArgument): media_type_invalid (not image, video or file),
// media_filename_invalid (not 1–128 characters of UTF-8, or with a path separator or a control character),
// media_empty (5 bytes or less), media_too_large, media_format_invalid.
Status CheckMedia(std::string_view type, std::string_view filename, std::string_view bytes);

// The MIME type a checked file is uploaded with: the detected format's for an image or a video; for a file the
// `declared` one when it looks like a MIME type, else application/octet-stream.
std::string MediaContentType(std::string_view type, std::string_view declared, std::string_view bytes);

class MediaService {
 public:
  MediaService(storage::Database& db, const Clock& clock, wecom::WecomClient& client, wecom_link::WecomLink& link)
      : db_(db), clock_(clock), client_(client), link_(link) {}

  // Any account of the team (the SCRM app's routes check its activation). Checks the file (CheckMedia) and uploads
  // it through the team's linked corp (wecom_not_linked otherwise; WeCom's refusals as wecom_* reasons). A file the
  // team uploaded before (same type and bytes) keeps its row; its media id is reused while fresh and under the same
  // name (WeCom shows a file's name to the customer), else the file is uploaded again.
  Result<Media> Upload(const accounts::Principal& who, const std::string& type, const std::string& filename,
                       const std::string& content_type, std::string_view bytes);

  // A media id to send in place of `media_id`, valid for at least kMediaMarginMs more: for a file Koi uploaded
  // (under this or any earlier id of it), its current id while fresh, otherwise a new one after uploading its bytes
  // again through `corp` (the team's). An id Koi never uploaded, or "", is returned unchanged (WeCom judges it).
  Result<std::string> Usable(TeamId team, const std::string& media_id, const wecom::CorpCredentials& corp);

  // In `tx`, the transaction saving a message: media_not_found (NotFound) if any of `media_ids` is an id of a file
  // deleted from the team's library; Ok for any other id. On PostgreSQL the files the ids stand for stay locked
  // (FOR SHARE) until `tx` ends and Delete locks its file (FOR UPDATE) before its checks, so a delete and a save
  // running at once never both pass: whichever locks second sees the other's commit.
  Status NotDeleted(storage::Session& tx, TeamId team, const std::vector<std::string>& media_ids);
  // Forgets deleted files' ids older than a week (WeCom forgets a media id after 3 days, so a message saved with one
  // later is refused by WeCom itself); the nightly wecom.reconcile job calls it. Returns the rows removed.
  Result<int64_t> PurgeDeletedIds();

  // The kept file a media id (current or earlier) of the team stands for, to show in the console; NotFound
  // media_not_found for an id Koi never uploaded for this team.
  struct Kept {
    std::string type, filename, content_type, bytes;
  };
  Result<Kept> File(TeamId team, const std::string& media_id);

  // --- The media library (素材库): the files the team uploaded, to reuse in messages. ---
  struct LibraryItem {
    Media media;
    int64_t uploaded_at_ms = 0;  // when the current media id was uploaded
    int64_t created_at_ms = 0;   // when the file first came to Koi
    std::string created_by;      // the uploader's name ("" when the account is gone)
    int64_t created_by_id = 0;
  };
  // Newest first; `type` "" or image | video | file (media_type_invalid otherwise), `query` a part of the filename
  // (letters' case ignored).
  Result<accounts::Paged<LibraryItem>> List(TeamId team, std::string_view type, std::string_view query, int page,
                                            int page_size);
  // The uploader or an admin. Refused while a message not sent yet (a draft, scheduled or sending) uses any of the
  // file's media ids (FailedPrecondition media_in_use, naming the message); media_not_found for another team's file.
  // A sent message keeps its content but its preview no longer shows the file.
  // Every media id the file had is remembered as deleted (NotDeleted), so a composer open while the file goes cannot
  // save it afterwards.
  Status Delete(const accounts::Principal& who, int64_t id, const accounts::Client& client);

 private:
  struct Stored {
    int64_t id = 0;
    std::string type, filename, content_type, media_id;
    int64_t size = 0, uploaded_at_ms = 0;
  };
  // The file `joins_and_where` (SQL after "FROM media_files f") selects, or nullopt.
  Result<std::optional<Stored>> Find(const std::string& joins_and_where, const std::vector<storage::Value>& params);
  // Uploads a kept file again under `filename` and makes the new id its current one.
  Result<Stored> Reupload(TeamId team, Stored file, const std::string& filename, const wecom::CorpCredentials& corp);
  // When WeCom's 3 days start for an upload answered now.
  int64_t UploadedAt(const wecom::UploadedMedia& uploaded) const;
  // Whether the file's current id is valid for at least kMediaMarginMs more.
  bool Fresh(const Stored& file) const;
  static Media ToMedia(const Stored& file);

  storage::Database& db_;
  const Clock& clock_;
  wecom::WecomClient& client_;
  wecom_link::WecomLink& link_;
};

}  // namespace koi::messaging

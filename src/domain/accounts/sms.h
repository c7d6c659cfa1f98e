// SmsSender: how Koi delivers text messages (verification codes, invitations). Chosen by `sms.provider`.
//
// - ConsoleSms (development default): writes the message to the log and to the sms_outbox table, which the
//   development inbox page (/dev/sms-inbox) reads, so the demo works with no SMS account and no network.
// - TencentSms: Tencent Cloud SMS `SendSms` (API 2021-01-11) signed with TC3-HMAC-SHA256. The HTTPS transport is
//   injected (http/ owns sockets); every delivery is recorded in sms_outbox with the code masked.
//
// Messages are semantic (kind + parameters) so a real provider can map them to its approved templates; the text is
// the console provider's rendering. Thread safety: implementations are thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "storage/database.h"

namespace koi::accounts {

struct SmsMessage {
  enum class Kind { kCode, kInvitation, kPasswordReset, kPhoneChanged } kind = Kind::kCode;
  std::string phone;       // 11 digits
  std::string code;        // kCode only
  std::string team_name;   // the notices
};

// The text a person reads (Chinese, as SMS in mainland China are). `mask_code` hides the code for logs/outbox.
std::string RenderSms(const SmsMessage& message, bool mask_code);

class SmsSender {
 public:
  virtual ~SmsSender() = default;
  virtual std::string_view name() const = 0;
  // Delivers the message or fails with kUnavailable ("sms_send_failed") / kInvalidArgument from the provider.
  virtual Status Send(const SmsMessage& message) = 0;
  // True when delivered messages may be read back in the development inbox.
  virtual bool HasInbox() const { return false; }
};

class ConsoleSms final : public SmsSender {
 public:
  ConsoleSms(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  std::string_view name() const override { return "console"; }
  Status Send(const SmsMessage& message) override;
  bool HasInbox() const override { return true; }

 private:
  storage::Database& db_;
  const Clock& clock_;
};

// One HTTPS POST: url, headers, body -> response body, or kUnavailable.
using HttpsPost = std::function<Result<std::string>(const std::string& url,
                                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                                    const std::string& body)>;

struct TencentSmsConfig {
  std::string endpoint = "https://sms.tencentcloudapi.com";
  std::string region = "ap-guangzhou";
  std::string secret_id;
  std::string secret_key;
  std::string sdk_app_id;
  std::string sign_name;
  std::string code_template;
  std::string notice_template;
};

// The signed request TencentSms sends (exposed for tests of the signature).
struct SignedRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};
// TC3-HMAC-SHA256 signature of a Tencent Cloud API POST with a JSON body.
SignedRequest SignTencentRequest(const TencentSmsConfig& config, const std::string& service, const std::string& action,
                                 const std::string& version, const std::string& body, int64_t unix_seconds);

class TencentSms final : public SmsSender {
 public:
  TencentSms(TencentSmsConfig config, HttpsPost post, storage::Database& db, const Clock& clock)
      : config_(std::move(config)), post_(std::move(post)), db_(db), clock_(clock) {}
  std::string_view name() const override { return "tencent"; }
  Status Send(const SmsMessage& message) override;

 private:
  TencentSmsConfig config_;
  HttpsPost post_;
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace koi::accounts

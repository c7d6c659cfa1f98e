#include "domain/accounts/sms.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <ctime>

#include "domain/accounts/secrets.h"

namespace koi::accounts {
namespace {

Status RecordOutbox(storage::Database& db, const Clock& clock, std::string_view provider, const SmsMessage& m,
                    const std::string& text, const Status& outcome) {
  return db.Exec("INSERT INTO sms_outbox (phone, provider, text, status, error, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                 {m.phone, std::string(provider), text, std::string(outcome.ok() ? "sent" : "failed"),
                  outcome.ok() ? std::string() : outcome.message(), clock.NowMillis()});
}

std::string UtcDate(int64_t unix_seconds) {
  std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string HostOf(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  auto end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

std::string RenderSms(const SmsMessage& m, bool mask_code) {
  switch (m.kind) {
    case SmsMessage::Kind::kCode:
      return "【锦鲤】验证码 " + (mask_code ? std::string("******") : m.code) + "，5 分钟内有效。请勿告诉他人。";
    case SmsMessage::Kind::kInvitation:
      return "【锦鲤】" + m.team_name + " 邀请你使用锦鲤 SCRM。请打开登录页，点击“忘记密码 / 设置密码”，用本手机号接收验证码设置密码。";
    case SmsMessage::Kind::kPasswordReset:
      return "【锦鲤】" + m.team_name + " 的管理员重置了你的锦鲤密码。请在登录页点击“忘记密码 / 设置密码”，用验证码设置新密码。";
    case SmsMessage::Kind::kPhoneChanged:
      return "【锦鲤】你在 " + m.team_name + " 的锦鲤账号已改绑到另一个手机号。如非本人操作，请立即联系团队管理员。";
  }
  return "";
}

Status ConsoleSms::Send(const SmsMessage& message) {
  std::string text = RenderSms(message, false);
  // Development provider: the text (with the code) is the whole point of the log line.
  spdlog::info("sms[console] to {}: {}", message.phone, text);
  return RecordOutbox(db_, clock_, name(), message, text, Status::Ok());
}

SignedRequest SignTencentRequest(const TencentSmsConfig& c, const std::string& service, const std::string& action,
                                 const std::string& version, const std::string& body, int64_t ts) {
  const std::string host = HostOf(c.endpoint);
  const std::string content_type = "application/json; charset=utf-8";
  // Canonical request: method, URI, query, headers (content-type and host, lowercase, sorted), signed headers,
  // hex SHA-256 of the payload.
  std::string canonical = "POST\n/\n\ncontent-type:" + content_type + "\nhost:" + host + "\n\ncontent-type;host\n" +
                          Sha256Hex(body);
  std::string date = UtcDate(ts);
  std::string scope = date + "/" + service + "/tc3_request";
  std::string to_sign = "TC3-HMAC-SHA256\n" + std::to_string(ts) + "\n" + scope + "\n" + Sha256Hex(canonical);
  std::string k_date = HmacSha256("TC3" + c.secret_key, date);
  std::string k_service = HmacSha256(k_date, service);
  std::string k_signing = HmacSha256(k_service, "tc3_request");
  std::string signature = HexEncode(HmacSha256(k_signing, to_sign));
  SignedRequest r;
  r.url = c.endpoint;
  r.body = body;
  r.headers = {
      {"Authorization", "TC3-HMAC-SHA256 Credential=" + c.secret_id + "/" + scope +
                            ", SignedHeaders=content-type;host, Signature=" + signature},
      {"Content-Type", content_type},
      {"Host", host},
      {"X-TC-Action", action},
      {"X-TC-Timestamp", std::to_string(ts)},
      {"X-TC-Version", version},
      {"X-TC-Region", c.region},
  };
  return r;
}

Status TencentSms::Send(const SmsMessage& m) {
  boost::json::object req;
  req["PhoneNumberSet"] = boost::json::array{"+86" + m.phone};
  req["SmsSdkAppId"] = config_.sdk_app_id;
  req["SignName"] = config_.sign_name;
  if (m.kind == SmsMessage::Kind::kCode) {
    req["TemplateId"] = config_.code_template;
    req["TemplateParamSet"] = boost::json::array{m.code};
  } else {
    req["TemplateId"] = config_.notice_template;
    req["TemplateParamSet"] = boost::json::array{};
  }
  SignedRequest signed_req =
      SignTencentRequest(config_, "sms", "SendSms", "2021-01-11", boost::json::serialize(req), clock_.NowSeconds());
  Status outcome;
  auto response = post_(signed_req.url, signed_req.headers, signed_req.body);
  if (!response.ok()) {
    outcome = Status::Unavailable("sms_send_failed", "the SMS provider could not be reached");
  } else {
    boost::system::error_code ec;
    auto v = boost::json::parse(*response, ec);
    const boost::json::object* resp = nullptr;
    if (!ec && v.is_object() && v.as_object().contains("Response") && v.at("Response").is_object())
      resp = &v.at("Response").as_object();
    if (resp == nullptr) {
      outcome = Status::Unavailable("sms_send_failed", "the SMS provider answered something unreadable");
    } else if (resp->contains("Error")) {
      const auto& err = resp->at("Error");
      std::string code = err.is_object() && err.as_object().contains("Code") ? std::string(err.at("Code").as_string()) : "";
      outcome = Status::Unavailable("sms_send_failed", "the SMS provider refused the message: " + code);
    } else if (resp->contains("SendStatusSet") && resp->at("SendStatusSet").is_array() &&
               !resp->at("SendStatusSet").as_array().empty()) {
      const auto& first = resp->at("SendStatusSet").as_array()[0];
      std::string code = first.is_object() && first.as_object().contains("Code") ? std::string(first.at("Code").as_string()) : "";
      if (code != "Ok") outcome = Status::Unavailable("sms_send_failed", "the SMS was not delivered: " + code);
    }
  }
  if (!outcome.ok()) spdlog::warn("sms[tencent] to {} failed: {}", MaskPhone(m.phone), outcome.message());
  Status recorded = RecordOutbox(db_, clock_, name(), m, RenderSms(m, true), outcome);
  if (!recorded.ok()) spdlog::warn("sms outbox: {}", recorded.ToString());
  return outcome;
}

}  // namespace koi::accounts

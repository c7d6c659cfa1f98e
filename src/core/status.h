// Status and Result<T>: errors as values, with a closed set of codes.
//
// Every fallible function in Koi returns Status or Result<T>. A Status carries a code (what kind of failure,
// which decides retry and the HTTP status), a stable `reason` key (snake_case; the console localises by it) and an
// English message for logs and API users. Codes follow abseil's canonical set; only http/ maps them to HTTP.
// Retry rule (used by jobs/): kUnavailable, kAborted, kResourceExhausted, kDeadlineExceeded and kInternal are
// worth retrying; the others are permanent.
//
// Thread safety: value types, no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace koi {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,
  kUnauthenticated,
  kPermissionDenied,
  kNotFound,
  kAlreadyExists,
  kAborted,
  kFailedPrecondition,
  kResourceExhausted,
  kDeadlineExceeded,
  kInternal,
  kUnavailable,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string reason, std::string message);

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string reason, std::string message);
  static Status Unauthenticated(std::string reason, std::string message);
  static Status PermissionDenied(std::string reason, std::string message);
  static Status NotFound(std::string reason, std::string message);
  static Status AlreadyExists(std::string reason, std::string message);
  static Status Aborted(std::string reason, std::string message);
  static Status FailedPrecondition(std::string reason, std::string message);
  static Status ResourceExhausted(std::string reason, std::string message);
  static Status DeadlineExceeded(std::string reason, std::string message);
  static Status Internal(std::string reason, std::string message);
  static Status Unavailable(std::string reason, std::string message);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }

  // True when trying the same operation again later may succeed (see the retry rule above).
  bool IsRetryable() const;

  // Returns a copy whose message is prefixed with `context` ("opening database: …"); code and reason stay.
  Status WithContext(std::string_view context) const;

  // Seconds after which the same request may succeed (rate limits, lockouts); 0 when not applicable. http/ sends it
  // as a Retry-After header and a `retry_after` envelope field so the console can say "try again in N s".
  int64_t retry_after_seconds() const { return retry_after_seconds_; }
  Status WithRetryAfter(int64_t seconds) const {
    Status copy = *this;
    copy.retry_after_seconds_ = seconds < 1 ? 1 : seconds;
    return copy;
  }

  // "NotFound(job_not_found): job 7 does not exist" — for logs and test failure output.
  std::string ToString() const;

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string reason_;
  std::string message_;
  int64_t retry_after_seconds_ = 0;
};

// Result<T> holds either a T or a non-OK Status.
// REQUIRES: constructing from a Status only with a non-OK one.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like absl::StatusOr
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace koi

#define KOI_CONCAT_INNER_(a, b) a##b
#define KOI_CONCAT_(a, b) KOI_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define KOI_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::koi::Status koi_status_ = (expr);      \
    if (!koi_status_.ok()) return koi_status_; \
  } while (0)

// `lhs = value of expr`, or return its Status. `lhs` may declare a variable: KOI_ASSIGN_OR_RETURN(auto x, F());
#define KOI_ASSIGN_OR_RETURN(lhs, expr) KOI_ASSIGN_OR_RETURN_IMPL_(KOI_CONCAT_(koi_result_, __LINE__), lhs, expr)
#define KOI_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

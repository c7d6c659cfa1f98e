#include "core/status.h"

namespace koi {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "Ok";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kUnauthenticated: return "Unauthenticated";
    case StatusCode::kPermissionDenied: return "PermissionDenied";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kAborted: return "Aborted";
    case StatusCode::kFailedPrecondition: return "FailedPrecondition";
    case StatusCode::kResourceExhausted: return "ResourceExhausted";
    case StatusCode::kDeadlineExceeded: return "DeadlineExceeded";
    case StatusCode::kInternal: return "Internal";
    case StatusCode::kUnavailable: return "Unavailable";
  }
  return "Unknown";
}

Status::Status(StatusCode code, std::string reason, std::string message)
    : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

#define KOI_STATUS_FACTORY_(Name)                                       \
  Status Status::Name(std::string reason, std::string message) {        \
    return Status(StatusCode::k##Name, std::move(reason), std::move(message)); \
  }
KOI_STATUS_FACTORY_(InvalidArgument)
KOI_STATUS_FACTORY_(Unauthenticated)
KOI_STATUS_FACTORY_(PermissionDenied)
KOI_STATUS_FACTORY_(NotFound)
KOI_STATUS_FACTORY_(AlreadyExists)
KOI_STATUS_FACTORY_(Aborted)
KOI_STATUS_FACTORY_(FailedPrecondition)
KOI_STATUS_FACTORY_(ResourceExhausted)
KOI_STATUS_FACTORY_(DeadlineExceeded)
KOI_STATUS_FACTORY_(Internal)
KOI_STATUS_FACTORY_(Unavailable)
#undef KOI_STATUS_FACTORY_

bool Status::IsRetryable() const {
  switch (code_) {
    case StatusCode::kUnavailable:
    case StatusCode::kAborted:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kInternal:
      return true;
    default:
      return false;
  }
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  Status out(code_, reason_, std::move(msg));
  out.retry_after_seconds_ = retry_after_seconds_;
  return out;
}

std::string Status::ToString() const {
  if (ok()) return "Ok";
  std::string out(StatusCodeName(code_));
  out += "(" + reason_ + "): " + message_;
  return out;
}

}  // namespace koi

// WeCom's errcodes (../shared/specs/wecom-api.md §14): what each means, whether the call is worth retrying, whether
// it means "get a new access token", and the Koi Status a user sees for it (reason `wecom_<name>`, so the console
// can say "IP not trusted" rather than "internal error"). Shared by Koi's client and the sandbox.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace koi::wecom {

struct ErrcodeInfo {
  int code = 0;
  std::string_view name;     // stable snake_case, used in Status reasons: "wecom_" + name
  std::string_view meaning;  // English
  bool retryable = false;    // -1 busy, 45009 frequency, 45033 concurrency
  bool token_error = false;  // 40001, 40014, 42001: refresh the access token and retry once
};

// Known codes, in ascending order.
const std::vector<ErrcodeInfo>& AllErrcodes();
// The entry for `code`, or {code, "unknown", …} when WeCom answers something this table does not know.
ErrcodeInfo LookupErrcode(int code);

// The Status for a failed WeCom call: kUnavailable for retryable codes, kPermissionDenied for permission and IP
// codes, kNotFound for unknown ids, kInvalidArgument otherwise. The message carries the errcode and errmsg.
Status StatusFromErrcode(int errcode, std::string_view errmsg);

}  // namespace koi::wecom

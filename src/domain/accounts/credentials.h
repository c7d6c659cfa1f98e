// Credentials rules of the accounts module (issue 3): mainland mobile numbers and passwords.
//
// Phones: an account is identified by an 11-digit mainland mobile number, 1[3-9] followed by 9 digits. Input may
// carry spaces, dashes or a +86/0086 prefix; NormalizePhone returns the bare 11 digits or InvalidArgument
// "invalid_phone".
// Passwords: at least 8 and at most 128 characters, with at least one letter and one digit
// ("weak_password" otherwise). They are stored only as argon2id hashes (libsodium, interactive limits: about
// 55 ms and 64 MiB per hash on these machines; see design/stack.md), never logged.
// Thread safety: free functions; HashPassword is safe to call concurrently (each call uses its own memory).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace koi::accounts {

Result<std::string> NormalizePhone(std::string_view input);

Status CheckPasswordPolicy(std::string_view password);

// An encoded argon2id hash ("$argon2id$v=19$m=65536,t=2,p=1$…") of a password that passed the policy.
Result<std::string> HashPassword(std::string_view password);

// True if `password` matches `encoded`. A malformed hash is simply no match.
bool VerifyPassword(std::string_view password, const std::string& encoded);

// True when `encoded` was made with weaker limits than HashPassword uses now (rehash after a successful login).
bool PasswordNeedsRehash(const std::string& encoded);

}  // namespace koi::accounts

// Random tokens, codes and digests for the accounts module (libsodium underneath).
//
// Session tokens are 32 random bytes in unpadded base64url (43 characters); the server stores only their SHA-256.
// Verification codes are 6 uniformly random digits. Thread safety: all functions are safe to call concurrently.
#pragma once

#include <string>
#include <string_view>

namespace koi::accounts {

// 32 random bytes, base64url without padding.
std::string RandomToken();
// "000000"–"999999", uniform.
std::string RandomSixDigitCode();
// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` under `key` (any key length).
std::string HmacSha256(std::string_view key, std::string_view data);
// Lowercase hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);
// Constant-time equality of two strings (length is not secret).
bool SecureEquals(std::string_view a, std::string_view b);
// "13812345678" -> "138****5678"; anything else is returned as is.
std::string MaskPhone(std::string_view phone);

}  // namespace koi::accounts

// SecretBox: encryption at rest for the secrets a team hands Koi (its WeCom app secret, callback token and
// EncodingAESKey). XSalsa20-Poly1305 (libsodium crypto_secretbox) with a fresh nonce per value, under one 32-byte
// server key that lives outside the database (a key file, see docs/operations.md), so a copy of the database alone
// does not reveal them. Values are stored as "v1:" + base64(nonce || ciphertext). Thread-safe (immutable).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace koi::wecom_link {

class SecretBox {
 public:
  // REQUIRES: key.size() == 32.
  explicit SecretBox(std::string key) : key_(std::move(key)) {}

  // Reads the key file, creating it (mode 0600, 32 random bytes) when it does not exist.
  static Result<SecretBox> FromKeyFile(const std::string& path);

  std::string Seal(std::string_view plaintext) const;
  // InvalidArgument "secret_unreadable" when the value was sealed under another key or is damaged.
  Result<std::string> Open(std::string_view sealed) const;

 private:
  std::string key_;
};

}  // namespace koi::wecom_link

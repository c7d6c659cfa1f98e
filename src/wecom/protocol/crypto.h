// WeCom callback crypto (WXBizMsgCrypt): the signature and AES scheme WeCom uses for every callback it sends and
// every passive reply it reads. Shared by Koi (verifying and decrypting callbacks) and koi-wecom-sandbox
// (encrypting and signing them), and proven byte-for-byte against the official vectors (crypto_test.cc).
//
// Scheme (../shared/specs/wecom-api.md §1): AESKey = base64(EncodingAESKey + "="), 32 bytes; AES-256-CBC with
// IV = AESKey[0:16]; PKCS#7-style padding to a 32-byte block; plaintext = random(16) || len(4, big-endian) || msg
// || receiveid; standard base64 on the wire. Signature = lowercase hex SHA-1 of the byte-wise sorted concatenation
// of token, timestamp, nonce and the ciphertext.
//
// Errors carry the reason below and the official crypto error code in CryptoErrorCode():
//   callback_signature_mismatch -40001, callback_bad_envelope -40002, callback_bad_aes_key -40004,
//   callback_receiveid_mismatch -40005, callback_decrypt_failed -40007, callback_bad_buffer -40008,
//   callback_bad_base64 -40010.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace koi::wecom {

struct CallbackKeys {
  std::string token;
  std::string aes_key;     // 32 raw bytes
  std::string receive_id;  // corpid (self-built), suite_id (third-party instructions) or ""
};

// Validates the 43-character EncodingAESKey and derives the AES key.
Result<CallbackKeys> MakeCallbackKeys(std::string_view token, std::string_view encoding_aes_key,
                                      std::string_view receive_id);

// msg_signature of a callback or reply.
std::string CallbackSignature(std::string_view token, std::string_view timestamp, std::string_view nonce,
                              std::string_view encrypted);

// The JS-SDK signature of config / agentConfig (sidebar pages): lowercase hex SHA-1 of
// "jsapi_ticket=<ticket>&noncestr=<nonce>&timestamp=<timestamp>&url=<url>", the url without its #fragment (cut
// here, so callers may pass location.href as is).
std::string JsSdkSignature(std::string_view ticket, std::string_view nonce, std::string_view timestamp,
                           std::string_view url);

// Constant-time comparison of `msg_signature` with the expected one.
Status VerifyCallbackSignature(const CallbackKeys& keys, std::string_view msg_signature, std::string_view timestamp,
                               std::string_view nonce, std::string_view encrypted);

// Decrypts a base64 ciphertext and checks its receiveid; returns the message.
Result<std::string> DecryptCallback(const CallbackKeys& keys, std::string_view base64_cipher);

// Encrypts `message` with the given 16-byte random prefix (deterministic: tests and the sandbox's replays).
Result<std::string> EncryptCallback(const CallbackKeys& keys, std::string_view message, std::string_view random16);
// Same with a fresh random prefix.
Result<std::string> EncryptCallback(const CallbackKeys& keys, std::string_view message);

// The official numeric error code of a crypto Status (0 for OK or a Status that is not from this module).
int CryptoErrorCode(const Status& status);

// Standard base64 with padding (the callback envelope's; Koi's media store keeps files in it too). Decode fails on
// empty or malformed input.
bool Base64Decode(std::string_view in, std::string& out);
std::string Base64Encode(std::string_view in);

}  // namespace koi::wecom

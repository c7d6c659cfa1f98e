#include "wecom/protocol/crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <memory>
#include <vector>

namespace koi::wecom {
namespace {

constexpr size_t kBlock = 32;  // WeCom pads to 32 bytes, not AES's 16

struct Code {
  const char* reason;
  int code;
};
constexpr Code kCodes[] = {
    {"callback_signature_mismatch", -40001}, {"callback_bad_envelope", -40002}, {"callback_bad_aes_key", -40004},
    {"callback_receiveid_mismatch", -40005}, {"callback_encrypt_failed", -40006},
    {"callback_decrypt_failed", -40007},     {"callback_bad_buffer", -40008},   {"callback_bad_base64", -40010},
};

Status Fail(const char* reason, std::string message) { return Status::InvalidArgument(reason, std::move(message)); }

}  // namespace

bool Base64Decode(std::string_view in, std::string& out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  for (char c : in)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) return false;
  out.assign(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return true;
}

std::string Base64Encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// AES-256-CBC without OpenSSL's own padding (WeCom's 32-byte padding is applied by hand).
bool AesCbc(const CallbackKeys& keys, bool encrypt, std::string_view in, std::string& out) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) return false;
  const auto* key = reinterpret_cast<const unsigned char*>(keys.aes_key.data());
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key, key, encrypt ? 1 : 0) != 1) return false;
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  out.assign(in.size() + 32, '\0');
  int n1 = 0, n2 = 0;
  if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n1,
                       reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size())) != 1)
    return false;
  if (EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n1, &n2) != 1) return false;
  out.resize(static_cast<size_t>(n1 + n2));
  return true;
}

}  // namespace

Result<CallbackKeys> MakeCallbackKeys(std::string_view token, std::string_view encoding_aes_key,
                                      std::string_view receive_id) {
  if (encoding_aes_key.size() != 43 ||
      !std::all_of(encoding_aes_key.begin(), encoding_aes_key.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
    return Fail("callback_bad_aes_key", "EncodingAESKey must be 43 letters and digits");
  CallbackKeys keys{.token = std::string(token), .receive_id = std::string(receive_id)};
  if (!Base64Decode(std::string(encoding_aes_key) + "=", keys.aes_key) || keys.aes_key.size() != 32)
    return Fail("callback_bad_aes_key", "EncodingAESKey does not decode to a 32-byte key");
  return keys;
}

namespace {
std::string Sha1Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(data.data(), data.size(), digest, &digest_len, EVP_sha1(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < digest_len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}
}  // namespace

std::string CallbackSignature(std::string_view token, std::string_view timestamp, std::string_view nonce,
                              std::string_view encrypted) {
  std::array<std::string_view, 4> parts{token, timestamp, nonce, encrypted};
  std::sort(parts.begin(), parts.end());
  std::string joined;
  for (auto p : parts) joined += p;
  return Sha1Hex(joined);
}

std::string JsSdkSignature(std::string_view ticket, std::string_view nonce, std::string_view timestamp,
                           std::string_view url) {
  url = url.substr(0, url.find('#'));
  std::string plain = "jsapi_ticket=";
  plain.append(ticket).append("&noncestr=").append(nonce).append("&timestamp=").append(timestamp);
  plain.append("&url=").append(url);
  return Sha1Hex(plain);
}

Status VerifyCallbackSignature(const CallbackKeys& keys, std::string_view msg_signature, std::string_view timestamp,
                               std::string_view nonce, std::string_view encrypted) {
  std::string want = CallbackSignature(keys.token, timestamp, nonce, encrypted);
  unsigned char diff = want.size() == msg_signature.size() ? 0 : 1;
  for (size_t i = 0; i < want.size() && i < msg_signature.size(); ++i)
    diff |= static_cast<unsigned char>(want[i] ^ msg_signature[i]);
  if (diff != 0) return Fail("callback_signature_mismatch", "msg_signature does not match (-40001)");
  return Status::Ok();
}

Result<std::string> DecryptCallback(const CallbackKeys& keys, std::string_view base64_cipher) {
  std::string cipher;
  if (!Base64Decode(base64_cipher, cipher)) return Fail("callback_bad_base64", "ciphertext is not base64 (-40010)");
  if (cipher.empty() || cipher.size() % 16 != 0)
    return Fail("callback_decrypt_failed", "ciphertext is not a whole number of AES blocks (-40007)");
  std::string plain;
  if (!AesCbc(keys, false, cipher, plain)) return Fail("callback_decrypt_failed", "AES decryption failed (-40007)");
  // WeCom's padding: the last byte is the pad length, 1..32, and every pad byte equals it.
  auto pad = static_cast<unsigned char>(plain.back());
  if (pad < 1 || pad > kBlock || pad > plain.size())
    return Fail("callback_bad_buffer", "bad padding in the decrypted message (-40008)");
  for (size_t i = plain.size() - pad; i < plain.size(); ++i)
    if (static_cast<unsigned char>(plain[i]) != pad)
      return Fail("callback_bad_buffer", "bad padding in the decrypted message (-40008)");
  plain.resize(plain.size() - pad);
  if (plain.size() < 20) return Fail("callback_bad_buffer", "decrypted message is too short (-40008)");
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(plain[i])); };
  uint32_t len = b(16) << 24 | b(17) << 16 | b(18) << 8 | b(19);
  if (len > plain.size() - 20) return Fail("callback_bad_buffer", "message length field is out of range (-40008)");
  std::string message = plain.substr(20, len);
  std::string_view receive_id = std::string_view(plain).substr(20 + len);
  if (receive_id != keys.receive_id)
    return Fail("callback_receiveid_mismatch", "the message is for another receiver (-40005)");
  return message;
}

Result<std::string> EncryptCallback(const CallbackKeys& keys, std::string_view message, std::string_view random16) {
  if (random16.size() != 16) return Fail("callback_encrypt_failed", "the random prefix must be 16 bytes (-40006)");
  std::string plain(random16);
  auto len = static_cast<uint32_t>(message.size());
  plain += static_cast<char>(len >> 24);
  plain += static_cast<char>(len >> 16);
  plain += static_cast<char>(len >> 8);
  plain += static_cast<char>(len);
  plain += message;
  plain += keys.receive_id;
  size_t pad = kBlock - plain.size() % kBlock;  // 1..32: a full block when already aligned
  plain.append(pad, static_cast<char>(pad));
  std::string cipher;
  if (!AesCbc(keys, true, plain, cipher)) return Fail("callback_encrypt_failed", "AES encryption failed (-40006)");
  return Base64Encode(cipher);
}

Result<std::string> EncryptCallback(const CallbackKeys& keys, std::string_view message) {
  // The official sample uses 16 random ASCII digits; any bytes are accepted, digits keep logs readable.
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return Fail("callback_encrypt_failed", "no randomness (-40006)");
  std::string prefix;
  for (unsigned char c : raw) prefix += static_cast<char>('0' + c % 10);
  return EncryptCallback(keys, message, prefix);
}

int CryptoErrorCode(const Status& status) {
  for (const auto& c : kCodes)
    if (status.reason() == c.reason) return c.code;
  return 0;
}

}  // namespace koi::wecom

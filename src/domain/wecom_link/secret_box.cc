#include "domain/wecom_link/secret_box.h"

#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <cstring>
#include <iterator>

namespace koi::wecom_link {
namespace {

bool Ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

}  // namespace

Result<SecretBox> SecretBox::FromKeyFile(const std::string& path) {
  if (!Ready()) return Status::Internal("crypto_unavailable", "libsodium failed to initialise");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    std::string key(crypto_secretbox_KEYBYTES, '\0');
    randombytes_buf(key.data(), key.size());
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(key.data(), static_cast<std::streamsize>(key.size()));
      if (!out) return Status::Internal("secret_key_unwritable", "cannot write the secret key file " + path);
    }
    ::chmod(path.c_str(), 0600);
    return SecretBox(std::move(key));
  }
  std::ifstream in(path, std::ios::binary);
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.size() != crypto_secretbox_KEYBYTES)
    return Status::Internal("bad_secret_key", "the secret key file " + path + " must hold exactly 32 bytes");
  return SecretBox(std::move(key));
}

std::string SecretBox::Seal(std::string_view plaintext) const {
  Ready();
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        plaintext.size(), nonce, reinterpret_cast<const unsigned char*>(key_.data()));
  std::string b64(sodium_base64_ENCODED_LEN(box.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(box.data()), box.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::strlen(b64.c_str()));
  return "v1:" + b64;
}

Result<std::string> SecretBox::Open(std::string_view sealed) const {
  const Status bad = Status::InvalidArgument("secret_unreadable", "a stored secret cannot be decrypted with this key");
  if (sealed.rfind("v1:", 0) != 0) return bad;
  sealed.remove_prefix(3);
  std::string box(sealed.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(box.data()), box.size(), sealed.data(), sealed.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return bad;
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  std::string plain(len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), nonce + crypto_secretbox_NONCEBYTES,
                                 len - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0)
    return bad;
  return plain;
}

}  // namespace koi::wecom_link

#include "domain/accounts/credentials.h"

#include <sodium.h>

#include <cctype>
#include <mutex>

namespace koi::accounts {
namespace {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Result<std::string> NormalizePhone(std::string_view input) {
  std::string digits;
  bool international = false;
  for (size_t i = 0; i < input.size(); ++i) {
    char c = input[i];
    if (c == ' ' || c == '-') continue;
    if (c == '+' && i == 0) {
      international = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Status::InvalidArgument("invalid_phone", "a phone number may contain only digits, spaces and dashes");
    }
    digits += c;
  }
  // "+1 415 555 0100" has 11 digits starting with 14: an international prefix must be 86, or it is not ours.
  if (international) {
    if (digits.rfind("86", 0) != 0)
      return Status::InvalidArgument("invalid_phone", "only mainland China (+86) mobile numbers are supported");
    digits = digits.substr(2);
  } else if (digits.size() == 15 && digits.rfind("0086", 0) == 0) {
    digits = digits.substr(4);
  } else if (digits.size() == 13 && digits.rfind("86", 0) == 0) {
    digits = digits.substr(2);
  }
  if (digits.size() != 11 || digits[0] != '1' || digits[1] < '3' || digits[1] > '9') {
    return Status::InvalidArgument("invalid_phone", "enter an 11-digit mainland mobile number starting with 13-19");
  }
  return digits;
}

Status CheckPasswordPolicy(std::string_view password) {
  // Characters are code points, as people count them; any non-ASCII character (锦, é) counts as a letter.
  bool letter = false, digit = false;
  size_t chars = 0;
  for (unsigned char c : password) {
    if ((c & 0xC0) != 0x80) ++chars;
    letter = letter || std::isalpha(c) || c >= 0x80;
    digit = digit || std::isdigit(c);
  }
  if (chars < 8 || chars > 128 || !letter || !digit) {
    return Status::InvalidArgument("weak_password", "a password needs 8-128 characters with letters and digits");
  }
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  KOI_RETURN_IF_ERROR(CheckPasswordPolicy(password));
  if (!SodiumReady()) return Status::Internal("crypto_unavailable", "libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::ResourceExhausted("hash_out_of_memory", "not enough memory to hash the password");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view password, const std::string& encoded) {
  if (!SodiumReady() || encoded.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(const std::string& encoded) {
  if (!SodiumReady()) return false;
  return crypto_pwhash_str_needs_rehash(encoded.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

}  // namespace koi::accounts

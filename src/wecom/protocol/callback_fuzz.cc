// Fuzz target for the callback path Koi runs on untrusted input: envelope XML -> signature -> base64 -> AES ->
// padding -> length -> receiveid -> event XML. The first byte picks the stage the rest of the input feeds:
//   0: a whole POST body, signed here (the fuzzer cannot forge SHA-1), then decrypted and parsed;
//   1: a ciphertext given directly to DecryptCallback;
//   2: an event XML given to ParseXmlMessage;
//   3: a message that must survive EncryptCallback -> DecryptCallback unchanged.
// Properties: no crash, no sanitizer report, every refusal carries an official crypto code, and round trips hold.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "wecom/protocol/crypto.h"
#include "wecom/protocol/xml.h"

namespace {

const koi::wecom::CallbackKeys& Keys() {
  static const auto* keys = new koi::wecom::CallbackKeys(
      *koi::wecom::MakeCallbackKeys("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
                                    "ww1436e0e65a779aee"));
  return *keys;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckRefusal(const koi::Status& s) { Check(s.ok() || koi::wecom::CryptoErrorCode(s) != 0); }

}  // namespace

std::vector<std::string> KoiFuzzCorpus() {
  const auto& k = Keys();
  std::string event = koi::wecom::BuildXmlMessage(
      {{"ToUserName", "ww1436e0e65a779aee"}, {"CreateTime", "1700000000", true}, {"Event", "change_external_contact"},
       {"ChangeType", "add_external_contact"}, {"UserID", "zhangsan"}, {"ExternalUserID", "wmAAAA"}},
      {{"MemChangeList", {"wm1", "wm2"}}});
  std::string cipher = *koi::wecom::EncryptCallback(k, event, "0123456789012345");
  return {
      std::string("\0", 1) + koi::wecom::BuildEncryptedEnvelope({.to_user = "ww1436e0e65a779aee", .encrypt = cipher}),
      "\1" + cipher,
      "\1" + *koi::wecom::EncryptCallback(k, "", "0123456789012345"),
      "\2" + event,
      "\2<xml><A><![CDATA[x]]><![CDATA[y]]></A><L><Item>1</Item></L></xml>",
      "\3客户" + std::string(40, 'x'),
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto& keys = Keys();
  switch (data[0] % 4) {
    case 0: {
      auto envelope = koi::wecom::ParseEncryptedEnvelope(input);
      if (!envelope.ok()) return CheckRefusal(envelope.status()), 0;
      std::string sig = koi::wecom::CallbackSignature(keys.token, "1700000000", "nonce", envelope->encrypt);
      Check(koi::wecom::VerifyCallbackSignature(keys, sig, "1700000000", "nonce", envelope->encrypt).ok());
      auto plain = koi::wecom::DecryptCallback(keys, envelope->encrypt);
      if (!plain.ok()) return CheckRefusal(plain.status()), 0;
      auto event = koi::wecom::ParseXmlMessage(*plain);
      if (!event.ok()) CheckRefusal(event.status());
      return 0;
    }
    case 1: {
      auto plain = koi::wecom::DecryptCallback(keys, input);
      CheckRefusal(plain.status());
      return 0;
    }
    case 2: {
      auto event = koi::wecom::ParseXmlMessage(input);
      CheckRefusal(event.status());
      if (event.ok()) {
        // Whatever parsed must survive a rebuild (values may hold any text, including "]]>").
        std::vector<koi::wecom::XmlField> fields;
        for (const auto& [k, v] : event->fields)
          if (!k.empty() && k.find_first_of("<>&\"' ") == std::string::npos) fields.push_back({k, v});
        auto again = koi::wecom::ParseXmlMessage(koi::wecom::BuildXmlMessage(fields));
        Check(again.ok());
        for (const auto& f : fields) Check(again->Get(f.name) == f.value);
      }
      return 0;
    }
    default: {
      auto cipher = koi::wecom::EncryptCallback(keys, input);
      Check(cipher.ok());
      auto plain = koi::wecom::DecryptCallback(keys, *cipher);
      Check(plain.ok() && *plain == input);
      return 0;
    }
  }
}

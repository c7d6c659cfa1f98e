// The official WXBizMsgCrypt vectors (../shared/specs/wecom-api.md §1.7), decrypt and encrypt, byte for byte.
#include "wecom/protocol/crypto.h"

#include <gtest/gtest.h>

#include "wecom/protocol/errcode.h"
#include "wecom/protocol/xml.h"

namespace koi::wecom {
namespace {

constexpr const char* kToken = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
constexpr const char* kAesKey = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
constexpr const char* kCorpId = "ww1436e0e65a779aee";

constexpr const char* kEchoStr =
    "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==";
constexpr const char* kEncryptB =
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+"
    "Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjb"
    "fvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGX"
    "Ayh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+";
constexpr const char* kPlainB =
    "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779"
    "</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID>"
    "</xml>";
constexpr const char* kEncryptC =
    "cjhLUX7UU4yCSelv1vz7T0zT8huF51bAMVWriNvO1FMegHrQZNrtvRxbwf0fUPsFvwqR0U0fgiJNEA5Y30F2MoI2S7vv3EjVQ68C0cjw9frBoUE2Hj0"
    "BvFp9h3u6Vbsg4lc1C8AtHdaN8orKuNKkLRLuYEL52R1J3v8olJGZRLnRdVKIivixmX/eQpzgeExtp20jI1HxRP1AAZ6xZoILdqDPO549LO4WeG+68"
    "5JRUTdiwcY5fjZlqeMxuT4PpMn1X9OWsS7NRj06Wa5E3Tvg4twjWp39KPfOdRte6P1T4JU=";

CallbackKeys Keys() { return *MakeCallbackKeys(kToken, kAesKey, kCorpId); }

TEST(CallbackCrypto, DerivesTheAesKey) {
  auto keys = MakeCallbackKeys(kToken, kAesKey, kCorpId);
  ASSERT_TRUE(keys.ok());
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : keys->aes_key) (hex += kHex[c >> 4]) += kHex[c & 15];
  EXPECT_EQ(hex, "eaa91d32babaf274ca76ece72583b5037ed6da8120a64314be4b6d453a2a854b");
  for (const char* bad : {"", "short", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhU", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhU+"}) {
    auto r = MakeCallbackKeys(kToken, bad, kCorpId);
    EXPECT_EQ(r.status().reason(), "callback_bad_aes_key") << bad;
    EXPECT_EQ(CryptoErrorCode(r.status()), -40004);
  }
}

TEST(CallbackCrypto, VectorAUrlVerification) {
  EXPECT_EQ(CallbackSignature(kToken, "1476416373", "47744683", kEchoStr), "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb");
  EXPECT_TRUE(VerifyCallbackSignature(Keys(), "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
                                      kEchoStr)
                  .ok());
  auto plain = DecryptCallback(Keys(), kEchoStr);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, "1288432023552776189");
  // Re-encrypting with the vector's random prefix reproduces the ciphertext.
  EXPECT_EQ(*EncryptCallback(Keys(), "1288432023552776189", "8908d0ff052afda0"), kEchoStr);
}

TEST(CallbackCrypto, VectorBEncryptedPost) {
  EXPECT_TRUE(VerifyCallbackSignature(Keys(), "0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914",
                                      kEncryptB)
                  .ok());
  std::string body = std::string("<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA[") +
                     kEncryptB + "]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>";
  auto envelope = ParseEncryptedEnvelope(body);
  ASSERT_TRUE(envelope.ok());
  EXPECT_EQ(envelope->to_user, kCorpId);
  EXPECT_EQ(envelope->agent_id, "1000002");
  auto plain = DecryptCallback(Keys(), envelope->encrypt);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, kPlainB);
  EXPECT_EQ(plain->size(), 228u);
  auto msg = ParseXmlMessage(*plain);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->Get("Content"), "你好");
  EXPECT_EQ(msg->Get("FromUserName"), "ChenJiaShun");
  EXPECT_EQ(*EncryptCallback(Keys(), kPlainB, "694ce5a83ae07fe3"), kEncryptB);
}

TEST(CallbackCrypto, VectorCJsonEnvelopeCiphertext) {
  EXPECT_TRUE(VerifyCallbackSignature(Keys(), "e3647471e395139e2308c1fa963f2d648a00b90e", "1409659813", "1372623149",
                                      kEncryptC)
                  .ok());
  auto plain = DecryptCallback(Keys(), kEncryptC);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_NE(plain->find("mycreate"), std::string::npos);  // the vector's (invalid JSON) payload
}

TEST(CallbackCrypto, RoundTripsAnyMessageWithAFreshPrefix) {
  for (std::string msg : {std::string(), std::string("x"), std::string(27, 'a'), std::string(28, 'b'),
                          std::string(1000, 'c'), std::string("客户添加了员工")}) {
    auto a = EncryptCallback(Keys(), msg);
    auto b = EncryptCallback(Keys(), msg);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(*a, *b);  // the random prefix differs
    EXPECT_EQ(*DecryptCallback(Keys(), *a), msg);
  }
}

TEST(CallbackCrypto, RefusesEveryKindOfBadInputWithTheOfficialCode) {
  auto keys = Keys();
  EXPECT_EQ(CryptoErrorCode(VerifyCallbackSignature(keys, "0c3914025cb4b4d68103f6bfc8db550f79dcf48f", "1476422779",
                                                    "1597212914", kEncryptB)),
            -40001);
  EXPECT_EQ(CryptoErrorCode(VerifyCallbackSignature(keys, "", "1476422779", "1597212914", kEncryptB)), -40001);
  EXPECT_EQ(CryptoErrorCode(DecryptCallback(keys, "not base64!").status()), -40010);
  EXPECT_EQ(CryptoErrorCode(DecryptCallback(keys, "").status()), -40010);
  EXPECT_EQ(CryptoErrorCode(DecryptCallback(keys, "QUJD").status()), -40007);  // 3 bytes: not a whole block
  // Another receiver's message.
  auto other = *MakeCallbackKeys(kToken, kAesKey, "wwsomeoneelse");
  EXPECT_EQ(CryptoErrorCode(DecryptCallback(other, kEncryptB).status()), -40005);
  // A ciphertext whose padding is wrong: encrypt 32 bytes of 0x00 by hand-building through another key.
  auto wrong_key = *MakeCallbackKeys(kToken, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", kCorpId);
  auto garbage = DecryptCallback(wrong_key, kEncryptB);
  EXPECT_FALSE(garbage.ok());
  int code = CryptoErrorCode(garbage.status());
  EXPECT_TRUE(code == -40008 || code == -40005) << code;
  EXPECT_EQ(CryptoErrorCode(ParseEncryptedEnvelope("<xml><ToUserName>x</ToUserName></xml>").status()), -40002);
  EXPECT_EQ(CryptoErrorCode(ParseEncryptedEnvelope("not xml at all").status()), -40002);
  EXPECT_EQ(CryptoErrorCode(ParseEncryptedEnvelope("<other><Encrypt>x</Encrypt></other>").status()), -40002);
}

TEST(CallbackXml, BuildsAndParsesEventsWithListsAndTrickyText) {
  std::string xml = BuildXmlMessage({{"ToUserName", "ww1"}, {"CreateTime", "1700000000", true},
                                     {"Event", "change_external_chat"}, {"Name", "a]]>b<c>&"}},
                                    {{"MemChangeList", {"wm1", "wm2"}}});
  auto m = ParseXmlMessage(xml);
  ASSERT_TRUE(m.ok()) << xml;
  EXPECT_EQ(m->Get("Name"), "a]]>b<c>&");
  EXPECT_EQ(m->Get("CreateTime"), "1700000000");
  EXPECT_EQ(m->lists.at("MemChangeList"), (std::vector<std::string>{"wm1", "wm2"}));
  EXPECT_EQ(m->Get("Missing"), "");
  auto env = ParseEncryptedEnvelope(BuildEncryptedEnvelope({.to_user = "ww1", .encrypt = "abc", .agent_id = ""}));
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->encrypt, "abc");
}

TEST(Errcodes, MapToSpecificStatuses) {
  EXPECT_EQ(StatusFromErrcode(60020, "not allow").reason(), "wecom_ip_not_trusted");
  EXPECT_EQ(StatusFromErrcode(60020, "not allow").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(StatusFromErrcode(45009, "freq").IsRetryable());
  EXPECT_TRUE(StatusFromErrcode(-1, "busy").IsRetryable());
  EXPECT_FALSE(StatusFromErrcode(40096, "bad id").IsRetryable());
  EXPECT_EQ(StatusFromErrcode(40096, "bad id").code(), StatusCode::kNotFound);
  EXPECT_TRUE(LookupErrcode(42001).token_error);
  EXPECT_EQ(LookupErrcode(12345).name, "unknown");
  EXPECT_NE(StatusFromErrcode(12345, "x").message().find("12345"), std::string::npos);
}

}  // namespace
// The example of the WeChat JS-SDK documentation (appendix 1, the signature algorithm), which WeCom's agentConfig
// uses unchanged; a #fragment is not signed.
TEST(JsSdkSignature, MatchesThePublishedExample) {
  const char* ticket =
      "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";
  EXPECT_EQ(JsSdkSignature(ticket, "Wm3WZYTPz0wzccnW", "1414587457", "http://mp.weixin.qq.com?params=value"),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
  EXPECT_EQ(JsSdkSignature(ticket, "Wm3WZYTPz0wzccnW", "1414587457", "http://mp.weixin.qq.com?params=value#top"),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
  EXPECT_NE(JsSdkSignature(ticket, "Wm3WZYTPz0wzccnW", "1414587458", "http://mp.weixin.qq.com?params=value"),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
}

}  // namespace koi::wecom

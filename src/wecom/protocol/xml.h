// The XML of WeCom callbacks: the encrypted envelope (<xml><ToUserName/><Encrypt/><AgentID/></xml>) and the flat
// event messages inside it. pugixml underneath; shared by Koi and the sandbox.
//
// An event is a flat <xml> of elements holding text or CDATA; an element whose children are <Item>s (MemChangeList)
// is a list. Parsing accepts any element order and ignores unknown elements. Thread safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace koi::wecom {

struct XmlMessage {
  std::map<std::string, std::string> fields;
  std::map<std::string, std::vector<std::string>> lists;
  // Field text or "".
  std::string Get(const std::string& name) const;
};

// InvalidArgument "callback_bad_envelope" (-40002) when it is not an <xml> document.
Result<XmlMessage> ParseXmlMessage(std::string_view xml);

// Builds <xml>…</xml> in the given order. Text values are written as CDATA (split around "]]>"), numbers bare.
struct XmlField {
  std::string name;
  std::string value;
  bool number = false;
};
std::string BuildXmlMessage(const std::vector<XmlField>& fields,
                            const std::vector<std::pair<std::string, std::vector<std::string>>>& lists = {});

struct EncryptedEnvelope {
  std::string to_user;
  std::string encrypt;
  std::string agent_id;
};
// Requires a non-empty <Encrypt>; "callback_bad_envelope" otherwise.
Result<EncryptedEnvelope> ParseEncryptedEnvelope(std::string_view xml);
std::string BuildEncryptedEnvelope(const EncryptedEnvelope& envelope);

}  // namespace koi::wecom

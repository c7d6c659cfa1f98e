#include "wecom/protocol/xml.h"

#include <pugixml.hpp>

namespace koi::wecom {
namespace {

Status BadEnvelope(std::string message) {
  return Status::InvalidArgument("callback_bad_envelope", std::move(message) + " (-40002)");
}

void AppendCdata(std::string& out, std::string_view text) {
  out += "<![CDATA[";
  for (size_t pos; (pos = text.find("]]>")) != std::string_view::npos;) {
    out.append(text.substr(0, pos + 2));
    out += "]]><![CDATA[";
    text.remove_prefix(pos + 2);
  }
  out.append(text);
  out += "]]>";
}

}  // namespace

std::string XmlMessage::Get(const std::string& name) const {
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : it->second;
}

Result<XmlMessage> ParseXmlMessage(std::string_view xml) {
  pugi::xml_document doc;
  // No DOCTYPE/entity expansion beyond the predefined five; pugixml never fetches external entities.
  auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default);
  if (!parsed) return BadEnvelope(std::string("not XML: ") + parsed.description());
  pugi::xml_node root = doc.child("xml");
  if (!root) return BadEnvelope("no <xml> root element");
  XmlMessage out;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    pugi::xml_node first = child.first_child();
    if (first && first.type() == pugi::node_element) {
      auto& list = out.lists[child.name()];
      for (pugi::xml_node item : child.children("Item")) list.push_back(item.text().get());
      continue;
    }
    // Concatenate every text piece: a value holding "]]>" arrives as several CDATA sections.
    std::string text;
    for (pugi::xml_node piece : child.children())
      if (piece.type() == pugi::node_pcdata || piece.type() == pugi::node_cdata) text += piece.value();
    out.fields[child.name()] = std::move(text);
  }
  return out;
}

std::string BuildXmlMessage(const std::vector<XmlField>& fields,
                            const std::vector<std::pair<std::string, std::vector<std::string>>>& lists) {
  std::string out = "<xml>";
  for (const auto& f : fields) {
    out += "<" + f.name + ">";
    if (f.number) out += f.value;
    else AppendCdata(out, f.value);
    out += "</" + f.name + ">";
  }
  for (const auto& [name, items] : lists) {
    out += "<" + name + ">";
    for (const auto& item : items) {
      out += "<Item>";
      AppendCdata(out, item);
      out += "</Item>";
    }
    out += "</" + name + ">";
  }
  out += "</xml>";
  return out;
}

Result<EncryptedEnvelope> ParseEncryptedEnvelope(std::string_view xml) {
  KOI_ASSIGN_OR_RETURN(XmlMessage m, ParseXmlMessage(xml));
  EncryptedEnvelope e{.to_user = m.Get("ToUserName"), .encrypt = m.Get("Encrypt"), .agent_id = m.Get("AgentID")};
  if (e.encrypt.empty()) return BadEnvelope("no <Encrypt> element");
  return e;
}

std::string BuildEncryptedEnvelope(const EncryptedEnvelope& e) {
  return BuildXmlMessage({{"ToUserName", e.to_user}, {"Encrypt", e.encrypt}, {"AgentID", e.agent_id}});
}

}  // namespace koi::wecom

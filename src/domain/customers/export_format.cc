#include "domain/customers/export_format.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace koi::customers::exportfmt {
namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = MakeCrcTable();

// Appends the code point at in[i] (advancing i) when it is well-formed UTF-8 and allowed in XML 1.0 text; drops
// it otherwise. Returns false for a dropped one.
bool AppendXmlChar(std::string_view in, size_t& i, std::string& out) {
  const auto b0 = static_cast<unsigned char>(in[i]);
  if (b0 < 0x80) {
    ++i;
    if (b0 < 0x20 && b0 != '\t' && b0 != '\n' && b0 != '\r') return false;
    switch (b0) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\r': out += "&#13;"; break;  // a bare CR would be normalised away by XML parsers
      default: out += static_cast<char>(b0);
    }
    return true;
  }
  size_t len = b0 > 0xF4 ? 0 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 ? 2 : 0;
  if (len == 0 || i + len > in.size()) {
    ++i;
    return false;
  }
  uint32_t cp = len == 2 ? b0 & 0x1F : len == 3 ? b0 & 0x0F : b0 & 0x07;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(in[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return false;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  const bool allowed = !overlong && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) && cp != 0xFFFE && cp != 0xFFFF;
  if (!allowed) {
    ++i;
    return false;
  }
  out.append(in.substr(i, len));
  i += len;
  return true;
}

void AppendCellText(std::string_view text, std::string& out) {
  constexpr size_t kMaxCellChars = 32767;  // Excel's limit per cell
  size_t chars = 0;
  for (size_t i = 0; i < text.size() && chars < kMaxCellChars;) {
    if (AppendXmlChar(text, i, out)) ++chars;
  }
}

void Put16(std::string& out, uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void Put32(std::string& out, uint32_t v) {
  Put16(out, v & 0xFFFF);
  Put16(out, v >> 16);
}

constexpr std::string_view kXmlDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
constexpr std::string_view kMainNs = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr std::string_view kRelNs = "http://schemas.openxmlformats.org/package/2006/relationships";
constexpr std::string_view kDocRel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
constexpr std::string_view kSheetPath = "xl/worksheets/sheet1.xml";

// The workbook's parts other than the worksheet, in archive order.
std::vector<std::pair<std::string, std::string>> FixedParts(std::string_view sheet_name) {
  std::string name;
  for (size_t i = 0; i < sheet_name.size();) AppendXmlChar(sheet_name, i, name);
  std::vector<std::pair<std::string, std::string>> parts;
  parts.emplace_back(
      "[Content_Types].xml",
      std::string(kXmlDecl) +
          "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
          "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
          "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
          "<Override PartName=\"/xl/workbook.xml\" "
          "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
          "<Override PartName=\"/xl/styles.xml\" "
          "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>"
          "<Override PartName=\"/" + std::string(kSheetPath) + "\" "
          "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>");
  parts.emplace_back("_rels/.rels", std::string(kXmlDecl) + "<Relationships xmlns=\"" + std::string(kRelNs) +
                                        "\"><Relationship Id=\"rId1\" Type=\"" + std::string(kDocRel) +
                                        "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>");
  parts.emplace_back("xl/workbook.xml", std::string(kXmlDecl) + "<workbook xmlns=\"" + std::string(kMainNs) +
                                            "\" xmlns:r=\"" + std::string(kDocRel) + "\"><sheets><sheet name=\"" +
                                            name + "\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>");
  parts.emplace_back("xl/_rels/workbook.xml.rels",
                     std::string(kXmlDecl) + "<Relationships xmlns=\"" + std::string(kRelNs) +
                         "\"><Relationship Id=\"rId1\" Type=\"" + std::string(kDocRel) +
                         "/worksheet\" Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"" +
                         std::string(kDocRel) + "/styles\" Target=\"styles.xml\"/></Relationships>");
  // Style 0 is the default; style 1 is bold, for the header row.
  parts.emplace_back(
      "xl/styles.xml",
      std::string(kXmlDecl) + "<styleSheet xmlns=\"" + std::string(kMainNs) +
          "\"><fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font><font><b/><sz val=\"11\"/>"
          "<name val=\"Calibri\"/></font></fonts><fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>"
          "<fill><patternFill patternType=\"gray125\"/></fill></fills><borders count=\"1\"><border><left/><right/>"
          "<top/><bottom/><diagonal/></border></borders><cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" "
          "fillId=\"0\" borderId=\"0\"/></cellStyleXfs><cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" "
          "fillId=\"0\" borderId=\"0\" xfId=\"0\"/><xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" "
          "xfId=\"0\" applyFont=\"1\"/></cellXfs><cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" "
          "builtinId=\"0\"/></cellStyles></styleSheet>");
  return parts;
}

// A stored entry's local file header (is_central false) or central directory record.
std::string EntryHeader(bool central, std::string_view name, uint32_t crc, uint32_t size, ZipStamp stamp,
                        uint32_t local_offset) {
  std::string h;
  Put32(h, central ? 0x02014b50 : 0x04034b50);
  if (central) Put16(h, 20);  // made by: MS-DOS attributes, zip 2.0
  Put16(h, 10);               // needed to extract: 1.0 (stored)
  Put16(h, 0x0800);           // the name is UTF-8
  Put16(h, 0);                // stored
  Put16(h, stamp.dos_time);
  Put16(h, stamp.dos_date);
  Put32(h, crc);
  Put32(h, size);             // compressed = uncompressed
  Put32(h, size);
  Put16(h, static_cast<uint32_t>(name.size()));
  Put16(h, 0);                // extra field
  if (central) {
    Put16(h, 0);              // comment
    Put16(h, 0);              // disk
    Put16(h, 0);              // internal attributes
    Put32(h, 0);              // external attributes
    Put32(h, local_offset);
  }
  h.append(name);
  return h;
}

}  // namespace

uint32_t Crc32(uint32_t crc, std::string_view data) {
  uint32_t c = ~crc;
  for (unsigned char b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return ~c;
}

std::string CsvLine(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    std::string v = cells[i];
    v.erase(std::remove(v.begin(), v.end(), '\0'), v.end());  // no text column takes NUL (PostgreSQL refuses it)
    const bool formula = !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' ||
                                        v[0] == '\r');
    const bool quote = formula || v.find_first_of(",\"\r\n") != std::string::npos;
    if (!quote) {
      out += v;
      continue;
    }
    out += '"';
    if (formula) out += '\'';
    for (char c : v) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  out += "\r\n";
  return out;
}

std::optional<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text) {
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  auto end_row = [&] {
    row.push_back(std::move(cell));
    cell.clear();
    if (any || row.size() > 1 || !row[0].empty()) rows.push_back(std::move(row));
    row.clear();
    any = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c != '"') {
        cell += c;
      } else if (i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = any = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_row();
    } else {
      cell += c;
    }
  }
  if (quoted) return std::nullopt;
  if (!cell.empty() || !row.empty() || any) end_row();
  return rows;
}

std::string SheetHead(size_t columns) {
  return std::string(kXmlDecl) + "<worksheet xmlns=\"" + std::string(kMainNs) +
         "\"><sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" "
         "state=\"frozen\"/></sheetView></sheetViews><cols><col min=\"1\" max=\"" +
         std::to_string(columns == 0 ? 1 : columns) + "\" width=\"20\" customWidth=\"1\"/></cols><sheetData>";
}

std::string SheetRow(int64_t number, const std::vector<std::string>& cells, bool header) {
  std::string out = "<row r=\"" + std::to_string(number) + "\">";
  for (const auto& cell : cells) {
    if (cell.empty() && !header) {
      out += "<c/>";  // a blank cell keeps the next cells in their columns
      continue;
    }
    out += header ? "<c t=\"inlineStr\" s=\"1\"><is>" : "<c t=\"inlineStr\"><is>";
    // Leading or trailing white space is kept only when asked for.
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    out += !cell.empty() && (space(cell.front()) || space(cell.back())) ? "<t xml:space=\"preserve\">" : "<t>";
    AppendCellText(cell, out);
    out += "</t></is></c>";
  }
  out += "</row>";
  return out;
}

std::string SheetTail() { return "</sheetData></worksheet>"; }

namespace {

struct Civil {
  int64_t year, month, day, hour, minute, second;
};

Civil CivilOf(int64_t unix_ms, int utc_offset_minutes) {
  int64_t secs = unix_ms / 1000 + int64_t{utc_offset_minutes} * 60;
  if (secs < 0) secs = 0;
  const int64_t days = secs / 86400, rem = secs % 86400;
  // The civil date of a day count since 1970-01-01 (proleptic Gregorian, in eras of 400 years).
  const int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day, rem / 3600, (rem % 3600) / 60, rem % 60};
}

}  // namespace

std::string LocalMinute(int64_t unix_ms, int utc_offset_minutes) {
  const Civil c = CivilOf(unix_ms, utc_offset_minutes);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld %02lld:%02lld", static_cast<long long>(c.year),
                static_cast<long long>(c.month), static_cast<long long>(c.day), static_cast<long long>(c.hour),
                static_cast<long long>(c.minute));
  return buf;
}

ZipStamp StampOf(int64_t unix_ms, int utc_offset_minutes) {
  const Civil c = CivilOf(unix_ms, utc_offset_minutes);
  ZipStamp s;
  if (c.year < 1980 || c.year > 2107) return s;
  s.dos_date = static_cast<uint16_t>(((c.year - 1980) << 9) | (c.month << 5) | c.day);
  s.dos_time = static_cast<uint16_t>((c.hour << 11) | (c.minute << 5) | (c.second / 2));
  return s;
}

std::string XlsxBefore(std::string_view sheet_name, uint32_t sheet_crc, uint64_t sheet_size, ZipStamp stamp) {
  std::string out;
  for (const auto& [name, body] : FixedParts(sheet_name)) {
    out += EntryHeader(false, name, Crc32(0, body), static_cast<uint32_t>(body.size()), stamp, 0);
    out += body;
  }
  out += EntryHeader(false, kSheetPath, sheet_crc, static_cast<uint32_t>(sheet_size), stamp, 0);
  return out;
}

std::string XlsxAfter(std::string_view sheet_name, uint32_t sheet_crc, uint64_t sheet_size, ZipStamp stamp) {
  std::string directory;
  uint32_t offset = 0;
  uint16_t entries = 0;
  for (const auto& [name, body] : FixedParts(sheet_name)) {
    const uint32_t crc = Crc32(0, body), size = static_cast<uint32_t>(body.size());
    directory += EntryHeader(true, name, crc, size, stamp, offset);
    offset += static_cast<uint32_t>(EntryHeader(false, name, crc, size, stamp, 0).size()) + size;
    ++entries;
  }
  directory += EntryHeader(true, kSheetPath, sheet_crc, static_cast<uint32_t>(sheet_size), stamp, offset);
  ++entries;
  const uint64_t directory_offset =
      offset + EntryHeader(false, kSheetPath, sheet_crc, 0, stamp, 0).size() + sheet_size;
  std::string end;
  Put32(end, 0x06054b50);
  Put16(end, 0);  // this disk
  Put16(end, 0);  // the disk with the directory
  Put16(end, entries);
  Put16(end, entries);
  Put32(end, static_cast<uint32_t>(directory.size()));
  Put32(end, static_cast<uint32_t>(directory_offset));
  Put16(end, 0);  // comment
  return directory + end;
}

}  // namespace koi::customers::exportfmt

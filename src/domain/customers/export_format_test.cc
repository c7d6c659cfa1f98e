#include "domain/customers/export_format.h"

#include <gtest/gtest.h>

#include <map>
#include <pugixml.hpp>

namespace koi::customers::exportfmt {
namespace {

uint32_t Le(std::string_view s, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

// Reads a stored (uncompressed) zip archive the way an unzip tool does: from the end-of-directory record through
// the central directory to each local header. Fails the test on any inconsistency.
std::map<std::string, std::string> Unzip(std::string_view zip) {
  std::map<std::string, std::string> out;
  EXPECT_GE(zip.size(), 22u);
  if (zip.size() < 22) return out;
  const size_t end = zip.size() - 22;
  EXPECT_EQ(Le(zip, end, 4), 0x06054b50u);
  const uint32_t entries = Le(zip, end + 10, 2), dir_size = Le(zip, end + 12, 4), dir_at = Le(zip, end + 16, 4);
  EXPECT_EQ(dir_at + dir_size, end);
  size_t at = dir_at;
  for (uint32_t i = 0; i < entries; ++i) {
    EXPECT_EQ(Le(zip, at, 4), 0x02014b50u);
    EXPECT_EQ(Le(zip, at + 10, 2), 0u);  // stored
    const uint32_t crc = Le(zip, at + 16, 4), size = Le(zip, at + 24, 4), name_len = Le(zip, at + 28, 2);
    const uint32_t local = Le(zip, at + 42, 4);
    const std::string name(zip.substr(at + 46, name_len));
    at += 46 + name_len;
    EXPECT_EQ(Le(zip, local, 4), 0x04034b50u) << name;
    EXPECT_EQ(Le(zip, local + 14, 4), crc) << name;
    EXPECT_EQ(Le(zip, local + 22, 4), size) << name;
    EXPECT_EQ(std::string(zip.substr(local + 30, Le(zip, local + 26, 2))), name);
    const size_t data = local + 30 + Le(zip, local + 26, 2) + Le(zip, local + 28, 2);
    std::string body(zip.substr(data, size));
    EXPECT_EQ(Crc32(0, body), crc) << name;
    out[name] = std::move(body);
  }
  return out;
}

TEST(ExportFormat, Crc32MatchesTheCheckValue) {
  EXPECT_EQ(Crc32(0, "123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(Crc32(0, "12345"), "6789"), 0xCBF43926u);  // continued across pieces
  EXPECT_EQ(Crc32(0, ""), 0u);
}

TEST(ExportFormat, CsvQuotesWhatNeedsItAndKeepsFormulasText) {
  EXPECT_EQ(CsvLine({"张三", "a,b", "say \"hi\"", "two\nlines", ""}),
            "张三,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n");
  EXPECT_EQ(CsvLine({std::string("nul\0byte", 8)}), "nulbyte\r\n");
  EXPECT_EQ(CsvLine({"=HYPERLINK(\"x\")", "+1", "-2", "@a", "ok"}),
            "\"'=HYPERLINK(\"\"x\"\")\",\"'+1\",\"'-2\",\"'@a\",ok\r\n");
}

TEST(ExportFormat, CsvIsReadBackAsWritten) {
  const std::vector<std::vector<std::string>> rows = {{"openid", "昵称"}, {"o1", "a,b"}, {"o2", "say \"hi\""},
                                                      {"o3", "two\nlines"}, {"o4", ""}};
  std::string text(kUtf8Bom);
  for (const auto& r : rows) text += CsvLine(r);
  EXPECT_EQ(ParseCsv(text), rows);
  // LF endings, blank lines, no final newline.
  EXPECT_EQ(ParseCsv("a,b\n\nc,d"), (std::vector<std::vector<std::string>>{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(ParseCsv("a,\"open\n"), std::nullopt);
  EXPECT_EQ(ParseCsv(""), (std::vector<std::vector<std::string>>{}));
}

TEST(ExportFormat, SheetCellsAreEscapedAndCleaned) {
  const std::string row =
      SheetRow(2, {"a<b>&\"c\"", std::string("bell\x07 ok"), "bad\xFF\xF8\x88\x80 utf8", " padded ", ""}, false);
  EXPECT_EQ(row,
            "<row r=\"2\"><c t=\"inlineStr\"><is><t>a&lt;b&gt;&amp;&quot;c&quot;</t></is></c>"
            "<c t=\"inlineStr\"><is><t>bell ok</t></is></c>"
            "<c t=\"inlineStr\"><is><t>bad utf8</t></is></c>"
            "<c t=\"inlineStr\"><is><t xml:space=\"preserve\"> padded </t></is></c><c/></row>");
  // Excel's cell limit: 32,767 characters.
  const std::string cell = SheetRow(3, {std::string(40'000, 'x')}, false);
  EXPECT_EQ(cell.size(), std::string("<row r=\"3\"><c t=\"inlineStr\"><is><t></t></is></c></row>").size() + 32'767);
}

TEST(ExportFormat, LocalTimesAreInTheGivenOffset) {
  // 2026-11-26 13:30:00 UTC is 21:30 in UTC+8.
  EXPECT_EQ(LocalMinute(1'795'699'800'000, 480), "2026-11-26 21:30");
  EXPECT_EQ(LocalMinute(1'795'699'800'000, 0), "2026-11-26 13:30");
  EXPECT_EQ(LocalMinute(951'782'400'000, 0), "2000-02-29 00:00");  // a leap day
  const ZipStamp s = StampOf(1'795'699'800'000, 480);
  EXPECT_EQ(s.dos_date, ((2026 - 1980) << 9) | (11 << 5) | 26);
  EXPECT_EQ(s.dos_time, (21 << 11) | (30 << 5));
}

TEST(ExportFormat, TheWorkbookIsAZipAnOfficeReaderOpens) {
  // The worksheet written in pieces, as the export job does, with its CRC continued piece by piece.
  std::vector<std::string> pieces = {SheetHead(2) + SheetRow(1, {"客户名称", "性别"}, true),
                                     SheetRow(2, {"张三", "男"}, false) + SheetRow(3, {"李四 & Co", "女"}, false),
                                     SheetTail()};
  uint32_t crc = 0;
  uint64_t size = 0;
  std::string sheet;
  for (const auto& p : pieces) {
    crc = Crc32(crc, p);
    size += p.size();
    sheet += p;
  }
  const ZipStamp stamp = StampOf(1'795'699'800'000, 480);
  const std::string file = XlsxBefore("客户", crc, size, stamp) + sheet + XlsxAfter("客户", crc, size, stamp);
  ASSERT_EQ(file.substr(0, 4), "PK\x03\x04");
  auto parts = Unzip(file);
  ASSERT_EQ(parts.size(), 6u);
  for (const char* name : {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                           "xl/styles.xml", "xl/worksheets/sheet1.xml"}) {
    ASSERT_TRUE(parts.count(name)) << name;
    pugi::xml_document doc;
    EXPECT_TRUE(doc.load_buffer(parts[name].data(), parts[name].size())) << name;
  }
  pugi::xml_document wb;
  ASSERT_TRUE(wb.load_string(parts["xl/workbook.xml"].c_str()));
  EXPECT_STREQ(wb.child("workbook").child("sheets").child("sheet").attribute("name").value(), "客户");
  pugi::xml_document ws;
  ASSERT_TRUE(ws.load_string(parts["xl/worksheets/sheet1.xml"].c_str()));
  std::vector<std::string> names;
  for (auto row : ws.child("worksheet").child("sheetData").children("row"))
    names.push_back(row.child("c").child("is").child("t").text().get());
  EXPECT_EQ(names, (std::vector<std::string>{"客户名称", "张三", "李四 & Co"}));
}

}  // namespace
}  // namespace koi::customers::exportfmt

// The file formats of customer exports (导出): CSV as Excel and WPS open it, and XLSX (Office Open XML) written as
// a stream. Pure functions, no I/O: the export job (exports.h) writes a file piece by piece into the database and
// the download puts it together.
//
// An XLSX file is a zip archive. Its worksheet is written row by row; the zip container around it needs the
// worksheet's CRC-32 and size, which are known only at the end, so the archive is assembled when downloaded:
// XlsxBefore(crc, size) + the worksheet's pieces + XlsxAfter(crc, size). Entries are stored, not deflated (the
// export is written in resumable pieces, and a deflate stream cannot be resumed from a checkpoint); the worksheet
// is the last entry so everything before it has a fixed size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace koi::customers::exportfmt {

// CRC-32 (ISO-HDLC, as zip uses it) of `data`, continuing from `crc` (0 to start).
uint32_t Crc32(uint32_t crc, std::string_view data);

// The UTF-8 byte-order mark Excel needs to read a CSV file as UTF-8 instead of the system code page.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// One CSV line (RFC 4180, CRLF). A cell with a comma, quote or line break is quoted. A cell that a spreadsheet
// would run as a formula (starting with = + - @, a tab or a carriage return) is prefixed with an apostrophe, so a
// customer named "=HYPERLINK(…)" stays text (CSV injection).
std::string CsvLine(const std::vector<std::string>& cells);

// The rows of a CSV file (RFC 4180; CRLF or LF; a UTF-8 byte-order mark skipped; empty lines dropped). nullopt for a
// quote left open.
std::optional<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text);

// The worksheet XML: Head, one Row per line (numbered from 1; row 1 is the bold header when `header`), Tail.
// Cells are inline strings; characters XML 1.0 forbids are dropped and a cell is cut at Excel's 32,767 characters.
std::string SheetHead(size_t columns);
std::string SheetRow(int64_t number, const std::vector<std::string>& cells, bool header);
std::string SheetTail();

// "2026-11-26 21:30": the minute of `unix_ms` at `utc_offset_minutes` (UTC+8 is 480).
std::string LocalMinute(int64_t unix_ms, int utc_offset_minutes);

// The zip archive around a worksheet of `sheet_size` bytes with CRC-32 `sheet_crc`: every other part of the
// workbook, then the worksheet's local header; and after the worksheet, the central directory. `sheet_name` names
// the tab. `dos_time`/`dos_date` stamp the entries (MS-DOS format). A worksheet must be under 4 GiB (no zip64).
inline constexpr uint64_t kMaxSheetBytes = 0xFFFF'0000ULL;
struct ZipStamp {
  uint16_t dos_time = 0;
  uint16_t dos_date = (1 << 5) | 1;  // 1980-01-01
};
ZipStamp StampOf(int64_t unix_ms, int utc_offset_minutes);
std::string XlsxBefore(std::string_view sheet_name, uint32_t sheet_crc, uint64_t sheet_size, ZipStamp stamp);
std::string XlsxAfter(std::string_view sheet_name, uint32_t sheet_crc, uint64_t sheet_size, ZipStamp stamp);

}  // namespace koi::customers::exportfmt

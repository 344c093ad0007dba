#include "report/TextDocument.h"

#include "report/Xml.h"

#include <llvm/ADT/STLExtras.h>

#include <algorithm>

namespace edgesplit {
namespace {

std::string withoutBackticks(const std::string &text) {
  std::string out;
  for (char c : text)
    if (c != '`') out += c;
  return out;
}

// A '|' inside a cell would end it.
std::string markdownCell(const std::string &text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string markdownTable(const TextTable &table) {
  std::string out = "|";
  for (const std::string &title : table.header) out += " " + markdownCell(title) + " |";
  out += "\n|";
  for (size_t c = 0; c < table.header.size(); ++c)
    out += c < table.rightAligned.size() && table.rightAligned[c] ? "---:|" : "---|";
  out += "\n";
  for (const auto &row : table.rows) {
    out += "|";
    for (const std::string &cell : row) out += " " + markdownCell(cell) + " |";
    out += "\n";
  }
  return out;
}

std::string textTable(const TextTable &table) {
  const size_t columns = table.header.size();
  std::vector<size_t> widths(columns, 0);
  auto measure = [&](const std::vector<std::string> &row) {
    for (size_t c = 0; c < columns && c < row.size(); ++c)
      widths[c] = std::max(widths[c], displayWidth(withoutBackticks(row[c])));
  };
  measure(table.header);
  for (const auto &row : table.rows) measure(row);
  auto line = [&](const std::vector<std::string> &row) {
    std::string out;
    for (size_t c = 0; c < columns; ++c) {
      const std::string cell = c < row.size() ? withoutBackticks(row[c]) : "";
      const std::string pad(widths[c] - displayWidth(cell), ' ');
      const bool right = c < table.rightAligned.size() && table.rightAligned[c];
      if (c) out += "  ";
      out += right ? pad + cell : cell + pad;
    }
    return out.erase(out.find_last_not_of(' ') + 1) + "\n";
  };
  // A table of name/value rows has no header worth a line.
  std::string out;
  if (llvm::any_of(table.header, [](const std::string &title) { return !title.empty(); })) {
    out += line(table.header);
    std::vector<std::string> rule;
    for (size_t width : widths) rule.push_back(std::string(width, '-'));
    out += line(rule);
  }
  for (const auto &row : table.rows) out += line(row);
  return out;
}

} // namespace

size_t displayWidth(const std::string &text) {
  // Continuation bytes of UTF-8 are 10xxxxxx.
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

void TextDocument::heading(int level, std::string text) {
  blocks_.push_back({Block::Kind::Heading, level, std::move(text), {}});
}

void TextDocument::paragraph(std::string text) {
  blocks_.push_back({Block::Kind::Paragraph, 0, std::move(text), {}});
}

void TextDocument::table(TextTable table) {
  blocks_.push_back({Block::Kind::Table, 0, {}, std::move(table)});
}

void TextDocument::beginDetails(std::string summary) {
  blocks_.push_back({Block::Kind::BeginDetails, 0, std::move(summary), {}});
}

void TextDocument::endDetails() { blocks_.push_back({Block::Kind::EndDetails, 0, {}, {}}); }

std::string TextDocument::render(TextFormat format) const {
  const bool md = format == TextFormat::Markdown;
  std::string out;
  for (const Block &block : blocks_) {
    if (block.kind == Block::Kind::EndDetails) {
      if (md) out += "\n</details>\n"; // a blank line first, or GitHub reads it as a table row
      continue;
    }
    if (!out.empty()) out += "\n";
    switch (block.kind) {
    case Block::Kind::Heading:
      if (md) {
        out += std::string(static_cast<size_t>(block.level), '#') + " " + block.text + "\n";
      } else {
        const std::string text = withoutBackticks(block.text);
        out += text + "\n";
        if (block.level <= 2)
          out += std::string(displayWidth(text), block.level == 1 ? '=' : '-') + "\n";
      }
      break;
    case Block::Kind::Paragraph:
      out += (md ? block.text : withoutBackticks(block.text)) + "\n";
      break;
    case Block::Kind::Table:
      out += md ? markdownTable(block.table) : textTable(block.table);
      break;
    case Block::Kind::BeginDetails:
      if (md) out += "<details><summary>" + xmlEscaped(withoutBackticks(block.text)) + "</summary>\n";
      else out += withoutBackticks(block.text) + "\n" +
                  std::string(displayWidth(withoutBackticks(block.text)), '-') + "\n";
      break;
    case Block::Kind::EndDetails:
      break;
    }
  }
  return out;
}

} // namespace edgesplit

// One document, two renderings: markdown (report.md, PR comments) and aligned plain text
// (terminals, logs). The report and the diff build their output once, so the two formats cannot
// drift apart.
#pragma once

#include <string>
#include <vector>

namespace edgesplit {

enum class TextFormat { Markdown, Text };

struct TextTable {
  std::vector<std::string> header;
  std::vector<bool> rightAligned; // per column; numbers read best right-aligned
  std::vector<std::vector<std::string>> rows;
};

// Text may hold `code` spans: markdown keeps the backticks, plain text drops them.
class TextDocument {
public:
  void heading(int level, std::string text);
  void paragraph(std::string text);
  void table(TextTable table);
  // Collapsed in markdown (<details>), so a PR comment shows the summary first; a plain heading
  // in text.
  void beginDetails(std::string summary);
  void endDetails();

  std::string render(TextFormat format) const;

private:
  struct Block {
    enum class Kind { Heading, Paragraph, Table, BeginDetails, EndDetails } kind;
    int level = 0;
    std::string text;
    TextTable table;
  };
  std::vector<Block> blocks_;
};

// Characters (UTF-8 code points) of `text`: the column width of plain-text tables.
size_t displayWidth(const std::string &text);

} // namespace edgesplit

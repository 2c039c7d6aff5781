// Architecture list files: comments, blank lines, CRLF and surrounding blanks are skipped or
// trimmed, line numbers are kept for messages, an empty list and a missing file are errors.
#include "tools/formats/arch_file.h"

#include <gtest/gtest.h>

#include "formats/format_test_util.h"

namespace naswot::test {
namespace {

TEST(ArchFile, SkipsCommentsAndBlankLinesKeepsLineNumbers) {
  TempDir tmp;
  const std::string path = tmp.path("archs.txt");
  write_bytes(path, to_bytes("# header comment\n"
                             "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|\r\n"
                             "\n"
                             "   \t\n"
                             "  # indented comment\n"
                             "  |none~0|+|none~0|none~1|+|none~0|none~1|none~2|  \n"
                             "last-without-newline"));
  const std::vector<formats::ArchLine> lines = formats::read_arch_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].line, 2);
  EXPECT_EQ(lines[0].arch, "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
  EXPECT_EQ(lines[1].line, 6);
  EXPECT_EQ(lines[1].arch, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
  EXPECT_EQ(lines[2].line, 7);
  EXPECT_EQ(lines[2].arch, "last-without-newline");
  EXPECT_EQ(formats::read_arch_file(path), (std::vector<std::string>{lines[0].arch, lines[1].arch, lines[2].arch}));
}

TEST(ArchFile, EmptyAndMissingFiles) {
  TempDir tmp;
  const std::string path = tmp.path("empty.txt");
  write_bytes(path, to_bytes("# only a comment\n\n"));
  EXPECT_TRUE(throws_error([&] { formats::read_arch_file(path); }, ErrorKind::BadInput, {path, "no architecture"}));
  EXPECT_TRUE(throws_error([&] { formats::read_arch_file(tmp.path("absent.txt")); }, ErrorKind::Io, {"absent.txt"}));
  write_bytes(path, {'a', 0, 'b', '\n'});
  EXPECT_TRUE(throws_error([&] { formats::read_arch_file(path); }, ErrorKind::BadInput, {"line 1", "NUL"}));
}

}  // namespace
}  // namespace naswot::test

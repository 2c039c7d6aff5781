// NB-201 API index map: CPython random.seed(88) shuffle of the enumeration order (§3.1).
// Known pairs from the benchmark's own asserts (index 0, 9, 123; reference-semantics.md §3.1)
// and from shared/data/README.md (index 1, 12172) always run; the full 15,625-row table is
// compared with shared/data/nb201/nb201_accuracies.csv when the data folder is present.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cells/nb201.h"
#include "runtime/error.h"

namespace naswot::cells {
namespace {

TEST(Nb201Index, KnownPairs) {
  const std::vector<std::pair<int, std::string>> known = {
      {0, "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"},
      {1, "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"},
      {9, "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"},
      {123, "|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"},
      {12172, "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|"},
  };
  for (const auto& [index, arch] : known) {
    EXPECT_EQ(to_string(nb201_from_index(index)), arch) << "index " << index;
    EXPECT_EQ(nb201_index(parse_nb201(arch)), index) << arch;
  }
}

TEST(Nb201Index, IsAPermutationAndInvertible) {
  const std::vector<int>& order = nb201_index_to_preindex();
  ASSERT_EQ(static_cast<int>(order.size()), kNb201Size);
  std::vector<int> hits(kNb201Size, 0);
  for (int p : order) {
    ASSERT_GE(p, 0);
    ASSERT_LT(p, kNb201Size);
    ++hits[static_cast<size_t>(p)];
  }
  for (int p = 0; p < kNb201Size; ++p) ASSERT_EQ(hits[static_cast<size_t>(p)], 1) << "pre-index " << p;
  for (int i = 0; i < kNb201Size; ++i) ASSERT_EQ(nb201_index(nb201_from_index(i)), i);
  const std::vector<std::string> all = nb201_all_strings_in_index_order();
  ASSERT_EQ(static_cast<int>(all.size()), kNb201Size);
  for (int i = 0; i < kNb201Size; i += 97) EXPECT_EQ(all[static_cast<size_t>(i)], to_string(nb201_from_index(i)));
}

TEST(Nb201Index, RejectsOutOfRange) {
  for (int bad : {-1, kNb201Size, 1 << 30}) {
    try {
      nb201_from_index(bad);
      ADD_FAILURE() << "accepted index " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput);
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
    }
  }
}

TEST(Nb201Index, MatchesSharedAccuracyTable) {
  const std::filesystem::path csv = std::filesystem::path(NASWOT_SHARED_DATA) / "nb201" / "nb201_accuracies.csv";
  if (!std::filesystem::exists(csv)) GTEST_SKIP() << "shared data not found: " << csv;
  std::ifstream in(csv);
  ASSERT_TRUE(in) << csv;
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  ASSERT_EQ(line.rfind("index,arch,", 0), 0u) << "unexpected header: " << line;
  const std::vector<std::string> all = nb201_all_strings_in_index_order();
  std::vector<int> seen(kNb201Size, 0);
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t c1 = line.find(',');
    const size_t c2 = line.find(',', c1 + 1);
    ASSERT_NE(c2, std::string::npos) << "row " << rows + 1 << ": " << line;
    const int index = std::stoi(line.substr(0, c1));
    const std::string arch = line.substr(c1 + 1, c2 - c1 - 1);
    ASSERT_GE(index, 0);
    ASSERT_LT(index, kNb201Size);
    ++seen[static_cast<size_t>(index)];
    EXPECT_EQ(all[static_cast<size_t>(index)], arch) << "index " << index;
    ++rows;
  }
  EXPECT_EQ(rows, kNb201Size);
  for (int i = 0; i < kNb201Size; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << "index " << i;
}

}  // namespace
}  // namespace naswot::cells

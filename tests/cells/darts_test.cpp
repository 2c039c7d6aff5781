// DARTS genotype notations (cells/darts.h): the DARTS Genotype(...) string, the NB301 compact
// op~input lists, NDS JSON items and files, the width=/depth=/aux= suffix, the canonical printer;
// and for bad input, that the message names the place (character position or JSON path) and what
// was expected. The first rows of the shared NB301 table parse when the shared data is present.
#include "cells/darts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/error.h"

namespace naswot::cells {
namespace {

// DARTS_V2 (Liu et al. 2019), as DARTS prints it, and the same genotype in the other notations.
const char* const kDartsV2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
const char* const kV2Normal =
    "sep_conv_3x3~0,sep_conv_3x3~1,sep_conv_3x3~0,sep_conv_3x3~1,sep_conv_3x3~1,skip_connect~0,skip_connect~0,"
    "dil_conv_3x3~2";
const char* const kV2Reduce =
    "max_pool_3x3~0,max_pool_3x3~1,skip_connect~2,max_pool_3x3~1,max_pool_3x3~0,skip_connect~2,skip_connect~2,"
    "max_pool_3x3~1";
const char* const kV2Json =
    R"({"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],
        ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],
        "normal_concat": [2, 3, 4, 5],
        "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],
        ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]],
        "reduce_concat": [2, 3, 4, 5]})";

// The message of the BadInput `f` throws (fails the test if it does not throw one).
template <class F>
std::string bad_input(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a BadInput error";
  return {};
}

#define EXPECT_HAS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

TEST(DartsGenotype, ParsesDartsV2AndPrintsItBack) {
  const DartsGenotype g = parse_darts_genotype(kDartsV2);
  ASSERT_EQ(g.normal.edges.size(), 8u);
  EXPECT_EQ(g.normal.steps(), 4);
  EXPECT_EQ(g.normal.edges[7], (DartsEdge{DartsOp::DilConv3x3, 2}));
  EXPECT_EQ(g.reduce.edges[2], (DartsEdge{DartsOp::SkipConnect, 2}));
  EXPECT_EQ(g.normal.concat, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(to_string(g), kDartsV2);  // DARTS' own repr, with list concats, is the canonical form
}

TEST(DartsGenotype, AcceptsPythonVariants) {
  const DartsGenotype want = parse_darts_genotype(kDartsV2);
  // range(2, 6) as DARTS writes it, tuples of lists, double quotes, keywords reordered, blanks and
  // trailing commas anywhere Python allows them.
  std::string s = kDartsV2;
  s.replace(s.find("normal_concat=[2, 3, 4, 5]"), 26, "normal_concat=range(2, 6)");
  EXPECT_EQ(parse_darts_genotype(s), want);
  const std::string variant =
      "  Genotype( reduce_concat = (2,3,4,5,), reduce=[ [\"max_pool_3x3\",0],(\"max_pool_3x3\" , 1), ('skip_connect', "
      "2),"
      "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1),],\n"
      " normal=(('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
      "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2,)), "
      "normal_concat=range(2,6),) ";
  EXPECT_EQ(parse_darts_genotype(variant), want);
}

TEST(DartsGenotype, EveryOpNameRoundTrips) {
  EXPECT_EQ(darts_op_list().substr(0, 20), "none, avg_pool_2x2, ");
  for (int k = 0; k < kDartsOpCount; ++k) {
    const auto op = static_cast<DartsOp>(k);
    ASSERT_TRUE(darts_op_from_name(to_string(op)).has_value()) << to_string(op);
    EXPECT_EQ(*darts_op_from_name(to_string(op)), op);
  }
  EXPECT_FALSE(darts_op_from_name("nor_conv_3x3").has_value());  // an NB201 op is not a DARTS op
  EXPECT_FALSE(darts_op_from_name("").has_value());
}

TEST(DartsGenotype, CompactFormsEqualTheDartsString) {
  const DartsGenotype want = parse_darts_genotype(kDartsV2);
  EXPECT_EQ(parse_darts_compact(kV2Normal, kV2Reduce), want);  // the two CSV columns
  const std::string n = kV2Normal, r = kV2Reduce;
  EXPECT_EQ(parse_darts_compact(n + ";" + r), want);
  EXPECT_EQ(parse_darts_compact(n + " | " + r), want);
  EXPECT_EQ(parse_darts_compact(n + "   " + r), want);
  EXPECT_EQ(parse_darts_compact("\"" + n + "\",\"" + r + "\""), want);  // cut from the CSV file
  EXPECT_EQ(parse_darts_compact(n + "," + r), want);                    // one list of 16: halves
  std::string spaced = n;
  for (size_t p = spaced.find(','); p != std::string::npos; p = spaced.find(',', p + 2)) spaced.insert(p + 1, " ");
  EXPECT_EQ(parse_darts_compact(spaced + "; " + r), want);  // blanks after commas stay in one list
}

TEST(DartsGenotype, JsonGenotypeAndNdsItem) {
  const DartsGenotype want = parse_darts_genotype(kDartsV2);
  const DartsArch bare = parse_nds_item_json(kV2Json);
  EXPECT_EQ(bare.genotype, want);
  EXPECT_EQ(bare.width, 0);
  const std::string item = std::string(R"({"net": {"aux": true, "depth": 14, "drop_prob": 0.0, "genotype": )") +
                           kV2Json + R"(, "width": 20}, "optim": {"base_lr": 0.1}, "test_ep_top1": [90.0, 12.5]})";
  const DartsArch a = parse_nds_item_json(item);
  EXPECT_EQ(a.genotype, want);
  EXPECT_EQ(a.width, 20);
  EXPECT_EQ(a.depth, 14);
  EXPECT_TRUE(a.aux);
  EXPECT_EQ(to_string(a), std::string(kDartsV2) + " width=20 depth=14 aux=true");
  EXPECT_EQ(parse_darts_arch(to_string(a)), a);
  EXPECT_EQ(parse_darts_arch(item), a);  // parse_darts_arch dispatches on the first character
}

TEST(DartsGenotype, NdsFileTopThenMid) {
  auto item = [](const char* op, int width) {
    return std::string(R"({"net": {"aux": false, "depth": 8, "width": )") + std::to_string(width) +
           R"(, "genotype": {"normal": [[")" + op + R"(", 0], ["none", 1]], "normal_concat": [2],
           "reduce": [["skip_connect", 1], ["avg_pool_3x3", 0]], "reduce_concat": [2]}}, "train_ep_loss": [1, 2]})";
  };
  const std::string dict = R"({"mid": [)" + item("conv_3x3", 12) + "], \"top\": [" + item("conv_1x1", 10) + ", " +
                           item("sep_conv_7x7", 11) + "]}";
  const std::vector<NdsItem> items = parse_nds_json(dict, "test.json");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].path, "top[0]");
  EXPECT_EQ(items[1].path, "top[1]");
  EXPECT_EQ(items[2].path, "mid[0]");
  EXPECT_EQ(items[0].arch.width, 10);
  EXPECT_EQ(items[1].arch.genotype.normal.edges[0].op, DartsOp::SepConv7x7);
  EXPECT_EQ(items[2].arch.genotype.normal.edges[0].op, DartsOp::Conv3x3);
  EXPECT_EQ(items[2].arch.genotype.normal.steps(), 1);

  const std::vector<NdsItem> list = parse_nds_json("[" + item("dil_sep_conv_3x3", 6) + "]", "list.json");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].path, "[0]");
  EXPECT_EQ(list[0].arch.genotype.normal.edges[0].op, DartsOp::DilSepConv3x3);

  const auto path = std::filesystem::temp_directory_path() / "naswot_darts_test_nds.json";
  std::ofstream(path) << dict;
  EXPECT_EQ(read_nds_json(path.string()).size(), 3u);
  std::filesystem::remove(path);
}

TEST(DartsGenotype, SuffixAfterEveryNotation) {
  const DartsGenotype want = parse_darts_genotype(kDartsV2);
  const DartsArch a = parse_darts_arch(std::string(kDartsV2) + "  depth=20 width=36");
  EXPECT_EQ(a.genotype, want);
  EXPECT_EQ(a.width, 36);
  EXPECT_EQ(a.depth, 20);
  EXPECT_FALSE(a.aux);
  EXPECT_EQ(to_string(a), std::string(kDartsV2) + " width=36 depth=20");
  const DartsArch c = parse_darts_arch(std::string(kV2Normal) + ";" + kV2Reduce + " width=16");
  EXPECT_EQ(c.genotype, want);
  EXPECT_EQ(c.width, 16);
  EXPECT_EQ(c.depth, 0);
  EXPECT_EQ(parse_darts_arch(std::string(kV2Json) + " depth=5").depth, 5);
  EXPECT_EQ(parse_darts_arch(kDartsV2).genotype, want);
}

TEST(DartsGenotype, FiveNodeCellsAndLooseEndConcat) {
  // NDS NASNet/Amoeba/PNAS/ENAS cells have 5 nodes and concat their loose ends.
  const std::string s =
      "Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('avg_pool_3x3', 0), ('skip_connect', 1), "
      "('avg_pool_3x3', 1), ('avg_pool_3x3', 0), ('sep_conv_5x5', 0), ('sep_conv_3x3', 0), ('skip_connect', 4), "
      "('conv_7x1_1x7', 5)], normal_concat=[2, 3, 6], reduce=[('max_pool_2x2', 0), ('conv_3x1_1x3', 1), "
      "('avg_pool_5x5', 0), ('max_pool_7x7', 1), ('max_pool_5x5', 0), ('dil_conv_5x5', 1), ('none', 3), "
      "('avg_pool_2x2', 2), ('dil_sep_conv_3x3', 4), ('sep_conv_7x7', 1)], reduce_concat=[5, 6])";
  const DartsGenotype g = parse_darts_genotype(s);
  EXPECT_EQ(g.normal.steps(), 5);
  EXPECT_EQ(g.normal.concat, (std::vector<int>{2, 3, 6}));
  EXPECT_EQ(to_string(g), s);
}

TEST(DartsGenotype, BadDartsStrings) {
  std::string s = kDartsV2;
  // Unknown op: named, with its position and the op list.
  std::string bad = s;
  bad.replace(bad.find("dil_conv_3x3"), 12, "dil_conv_9x9");
  std::string m = bad_input([&] { parse_darts_genotype(bad); });
  EXPECT_HAS(m, "char " + std::to_string(bad.find("dil_conv_9x9")));  // 1-based: the opening quote
  EXPECT_HAS(m, "unknown op 'dil_conv_9x9'");
  EXPECT_HAS(m, "sep_conv_7x7");
  // An input that is not a cell input or an earlier node.
  bad = s;
  bad.replace(bad.find("('sep_conv_3x3', 0)"), 19, "('sep_conv_3x3', 2)");
  m = bad_input([&] { parse_darts_genotype(bad); });
  EXPECT_HAS(m, "edge 0 (into node 2) reads state 2; expected 0..1");
  EXPECT_HAS(m, "char 35: normal: edge 0");
  // An odd number of edges (a node with one input).
  bad = s;
  bad.replace(bad.find(", ('dil_conv_3x3', 2)"), 21, "");
  m = bad_input([&] { parse_darts_genotype(bad); });
  EXPECT_HAS(m, "normal cell: 7 edges; expected 2 per node");
  // Structure errors.
  m = bad_input([&] { parse_darts_genotype("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)])"); });
  EXPECT_HAS(m, "missing normal_concat");
  m = bad_input([&] { parse_darts_genotype(s + " extra"); });
  EXPECT_HAS(m, "unexpected text after the closing parenthesis");
  m = bad_input([&] { parse_darts_genotype("Genotype(normal=[('sep_conv_3x3, 0)])"); });
  EXPECT_HAS(m, "unterminated string");
  EXPECT_HAS(m, "char 19");
  m = bad_input([&] { parse_darts_genotype("Genotype(normal=[('sep_conv_3x3' 0)])"); });
  EXPECT_HAS(m, "expected ','");
  EXPECT_HAS(m, "char 34");
  bad = s;
  bad.replace(bad.find("reduce_concat"), 13, "normal_concat");
  m = bad_input([&] { parse_darts_genotype(bad); });
  EXPECT_HAS(m, "normal_concat is given twice");
  m = bad_input([&] { parse_darts_genotype("Genotype(normal=[], normal_concat=[2], reduce=[], reduce_concat=[2])"); });
  EXPECT_HAS(m, "0 edges");
  bad = s;
  bad.replace(bad.find("normal_concat=[2, 3, 4, 5]"), 26, "normal_concat=[2, 3, 7]");
  m = bad_input([&] { parse_darts_genotype(bad); });
  EXPECT_HAS(m, "concat lists state 7; expected 0..5");
  m = bad_input([&] { parse_darts_genotype("Genotype(normal=[('skip_connect', x)])"); });
  EXPECT_HAS(m, "(an integer)");
  m = bad_input([&] { parse_darts_genotype("genotype(normal=[])"); });
  EXPECT_HAS(m, "expected Genotype(");
  m = bad_input([&] { parse_darts_genotype(""); });
  EXPECT_HAS(m, "char 1");
}

TEST(DartsGenotype, BadCompactStrings) {
  const std::string n = kV2Normal, r = kV2Reduce;
  std::string m = bad_input([&] { parse_darts_compact(n + ";" + r + ";" + r); });
  EXPECT_HAS(m, "a third list starts here");
  m = bad_input([&] { parse_darts_compact(n + ";" + r.substr(0, r.rfind(','))); });
  EXPECT_HAS(m, "reduce cell: 7 edges");
  m = bad_input([&] {
    parse_darts_compact("sep_conv_3x3~0,sep_conv_3x3~1,sep_conv_3x3~0,sep_conv_3x3~1,skip_connect~0,skip_connect~1");
  });
  EXPECT_HAS(m, "6 entries in one list");
  m = bad_input([&] { parse_darts_compact("sep_conv_3x3~0,sep_conv_3x3~5", "skip_connect~0,skip_connect~1"); });
  EXPECT_HAS(m, "compact normal cell");
  EXPECT_HAS(m, "char 29");
  EXPECT_HAS(m, "edge 1 (into node 2) reads state 5");
  m = bad_input([&] { parse_darts_compact("sep_conv_3x3~0,sepconv~1", "skip_connect~0,skip_connect~1"); });
  EXPECT_HAS(m, "char 16: unknown op 'sepconv'");
  m = bad_input([&] { parse_darts_compact("sep_conv_3x3~0,sep_conv_3x3~", "skip_connect~0,skip_connect~1"); });
  EXPECT_HAS(m, "is not a non-negative integer");
  m = bad_input([&] { parse_darts_compact("sep_conv_3x3~0,,sep_conv_3x3~1;skip_connect~0,skip_connect~1"); });
  EXPECT_HAS(m, "separator ',,'");
  m = bad_input([&] { parse_darts_compact("sep_conv_3x3~0,sep_conv_3x3~1;skip_connect~0,skip_connect~1!"); });
  EXPECT_HAS(m, "unexpected '!'");
  m = bad_input([&] { parse_darts_compact("sep_conv_3x3,sep_conv_3x3~1;skip_connect~0,skip_connect~1"); });
  EXPECT_HAS(m, "is not op~input");
}

TEST(DartsGenotype, BadJsonNamesThePath) {
  std::string m = bad_input([&] { parse_nds_item_json(R"({"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1]]})"); });
  EXPECT_HAS(m, "missing 'normal_concat'");
  m = bad_input([&] {
    parse_nds_json(R"({"top": [{"net": {"width": 8, "depth": 5, "aux": false, "genotype":
      {"normal": [["conv_1x1", 0], ["conv_5x5", 1]], "normal_concat": [2],
       "reduce": [["conv_1x1", 0], ["conv_1x1", 1]], "reduce_concat": [2]}}}], "mid": []})",
                   "DARTS.json");
  });
  EXPECT_HAS(m, "DARTS.json: top[0].net.genotype.normal[1][0]: unknown op 'conv_5x5'");
  m = bad_input([&] {
    parse_nds_json(R"([{"net": {"width": 8, "depth": 5, "genotype": {"normal": [["conv_1x1", 0], ["conv_1x1", 3]],
       "normal_concat": [2], "reduce": [["conv_1x1", 0], ["conv_1x1", 1]], "reduce_concat": [2]}}}])",
                   "x.json");
  });
  EXPECT_HAS(m, "x.json: [0].net.genotype.normal[1][1]: input state 3 for node 2; expected 0..1");
  m = bad_input([&] {
    parse_nds_json(R"([{"net": {"width": 0, "depth": 5, "genotype": {"normal": [["conv_1x1", 0], ["conv_1x1", 1]],
       "normal_concat": [2], "reduce": [["conv_1x1", 0], ["conv_1x1", 1]], "reduce_concat": [2]}}}])",
                   "x.json");
  });
  EXPECT_HAS(m, "[0].net.width: expected a positive integer");
  m = bad_input([&] {
    parse_nds_json(R"([{"net": {"ds": [1, 2], "ws": [16, 32], "block_type": "res_bottleneck_block"}}])", "ResNet.json");
  });
  EXPECT_HAS(m, "ResNet.json: [0].net: no 'genotype': an AnyNet item");
  m = bad_input([&] { parse_nds_json("[{\"net\": {\"width\": 8,, }}]", "broken.json"); });
  EXPECT_HAS(m, "broken.json: not valid JSON at byte 22");
  m = bad_input([&] { parse_nds_json(R"({"items": []})", "odd.json"); });
  EXPECT_HAS(m, "expected a list of NDS items or an object with 'top' and 'mid'");
  m = bad_input([&] { parse_nds_json("[]", "empty.json"); });
  EXPECT_HAS(m, "empty.json: holds no NDS item");
  const std::string cell = R"("reduce": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1]], "reduce_concat": [2])";
  m = bad_input([&] {
    parse_nds_item_json(R"({"normal": [["sep_conv_3x3"], ["none", 0]], "normal_concat": [2], )" + cell + "}");
  });
  EXPECT_HAS(m, "JSON genotype: normal[0]: expected an [op, input] pair, found a list of 1");
  m = bad_input(
      [&] { parse_nds_item_json(R"({"normal": [["sep_conv_3x3", 0]], "normal_concat": [2], )" + cell + "}"); });
  EXPECT_HAS(m, "JSON genotype: normal: 1 edges; expected 2 per node");
  m = bad_input(
      [&] { parse_nds_item_json(R"({"normal": [["sep_conv_3x3", 0], [0, 1]], "normal_concat": [2], )" + cell + "}"); });
  EXPECT_HAS(m, "JSON genotype: normal[1][0]: expected an op name, found an integer");
}

TEST(DartsGenotype, BadArchText) {
  std::string m = bad_input([&] { parse_darts_arch("   "); });
  EXPECT_HAS(m, "empty text");
  m = bad_input([&] { parse_darts_arch("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"); });
  EXPECT_HAS(m, "char 17: unexpected '+'");  // NB201 strings are not DARTS genotypes
  m = bad_input([&] { parse_darts_arch("hello"); });
  EXPECT_HAS(m, "not a genotype");
  m = bad_input([&] { parse_darts_arch(std::string(kDartsV2) + " width=0"); });
  EXPECT_HAS(m, "width=0: expected an integer from 1 to 4096");
  m = bad_input([&] { parse_darts_arch(std::string(kDartsV2) + " width=8 width=8"); });
  EXPECT_HAS(m, "width is given twice");
  m = bad_input([&] { parse_darts_arch(std::string(kDartsV2) + " layers=8"); });
  EXPECT_HAS(m, "unknown setting 'layers'");
  m = bad_input([&] { parse_darts_arch(std::string(kDartsV2) + " aux=maybe"); });
  EXPECT_HAS(m, "aux: expected true or false");
  m = bad_input([&] { parse_darts_arch("Genotype(normal=[('sep_conv_3x3', 0)"); });
  EXPECT_HAS(m, "never closed");
  const std::string item = R"({"net": {"width": 8, "depth": 5, "genotype": )" + std::string(kV2Json) + "}}";
  m = bad_input([&] { parse_darts_arch(item + " width=16"); });
  EXPECT_HAS(m, "width is given twice");
}

TEST(DartsGenotype, SharedNb301TableParses) {
  const std::filesystem::path csv =
      std::filesystem::path(NASWOT_SHARED_DATA) / "nb301_darts/naslib_zc_nb301_subset.csv";
  if (!std::filesystem::exists(csv)) GTEST_SKIP() << "shared data absent: " << csv;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line.substr(0, 25), "naslib_idx,normal,reduce,");
  int rows = 0;
  while (std::getline(in, line)) {
    // naslib_idx,"normal","reduce",...: the two quoted fields follow the first comma.
    const size_t a = line.find(",\"");
    const size_t b = line.find("\",\"", a + 2);
    ASSERT_NE(b, std::string::npos) << line;
    const size_t c = line.find("\",", b + 3);
    ASSERT_NE(c, std::string::npos) << line;
    const std::string both = line.substr(a + 1, c - a);
    const DartsGenotype g = parse_darts_compact(both);  // "normal","reduce" as cut from the file
    EXPECT_EQ(g.normal.steps(), 4);
    EXPECT_EQ(g.reduce.steps(), 4);
    EXPECT_EQ(parse_darts_genotype(to_string(g)), g);
    EXPECT_EQ(parse_darts_arch(both).genotype, g);
    ++rows;
  }
  EXPECT_EQ(rows, 725);
}

}  // namespace
}  // namespace naswot::cells

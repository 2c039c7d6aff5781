// NB-201 notation: parse/print round trip over the whole space, pre-index order (§3.1), conv
// edge count, and rejection of malformed strings with the offending token named.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cells/nb201.h"
#include "runtime/error.h"

namespace naswot::cells {
namespace {

constexpr const char* kExample =  // NB-201 docs example, c = 3 (reference-semantics.md §3.7)
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

TEST(Nb201Notation, ParsesEdgesInStringOrder) {
  const Nb201Arch a = parse_nb201(kExample);
  EXPECT_EQ(a.edges[0], Nb201Op::NorConv3x3);   // 0->1
  EXPECT_EQ(a.edges[1], Nb201Op::NorConv3x3);   // 0->2
  EXPECT_EQ(a.edges[2], Nb201Op::AvgPool3x3);   // 1->2
  EXPECT_EQ(a.edges[3], Nb201Op::SkipConnect);  // 0->3
  EXPECT_EQ(a.edges[4], Nb201Op::NorConv3x3);   // 1->3
  EXPECT_EQ(a.edges[5], Nb201Op::SkipConnect);  // 2->3
  EXPECT_EQ(nb201_conv_edges(a), 3);
  EXPECT_EQ(to_string(a), kExample);
}

TEST(Nb201Notation, RoundTripsWholeSpaceAndPreindexIsABijection) {
  std::set<std::string> seen;
  for (int p = 0; p < kNb201Size; ++p) {
    const Nb201Arch a = nb201_from_preindex(p);
    ASSERT_EQ(nb201_preindex(a), p);
    const std::string s = to_string(a);
    ASSERT_EQ(parse_nb201(s), a) << s;
    ASSERT_EQ(to_string(parse_nb201(s)), s);
    seen.insert(s);
  }
  EXPECT_EQ(static_cast<int>(seen.size()), kNb201Size);
}

TEST(Nb201Notation, PreindexFollowsGenAllOrder) {
  // pre-index = (a01*25 + a02*5 + a12)*125 + a03*25 + a13*5 + a23 (§3.1)
  const Nb201Arch a = parse_nb201(kExample);
  const int expected = (3 * 25 + 3 * 5 + 4) * 125 + 1 * 25 + 3 * 5 + 1;
  EXPECT_EQ(nb201_preindex(a), expected);
  EXPECT_EQ(to_string(nb201_from_preindex(0)), "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
  EXPECT_EQ(to_string(nb201_from_preindex(1)), "|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|");
  EXPECT_EQ(to_string(nb201_from_preindex(125)), "|none~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2|");
  EXPECT_EQ(to_string(nb201_from_preindex(kNb201Size - 1)),
            "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|");
  EXPECT_THROW(nb201_from_preindex(-1), Error);
  EXPECT_THROW(nb201_from_preindex(kNb201Size), Error);
}

TEST(Nb201Notation, ConvEdgesCountsBothConvOps) {
  EXPECT_EQ(nb201_conv_edges(nb201_from_preindex(0)), 0);
  EXPECT_EQ(nb201_conv_edges(parse_nb201(
                "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|")),
            6);
  int total = 0;
  for (int p = 0; p < kNb201Size; ++p) total += nb201_conv_edges(nb201_from_preindex(p));
  EXPECT_EQ(total, kNb201Size * 6 * 2 / 5);  // each edge is a conv for 2 of the 5 ops
}

// Expects BadInput whose message contains every fragment.
void expect_rejected(const std::string& s, std::initializer_list<const char*> fragments) {
  try {
    parse_nb201(s);
    ADD_FAILURE() << "accepted: '" << s << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << s;
    const std::string msg = e.what();
    EXPECT_NE(msg.find("nb201 arch"), std::string::npos) << msg;
    for (const char* f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "missing '" << f << "' in: " << msg;
  }
}

TEST(Nb201Notation, RejectsMalformedStringsNamingTheToken) {
  const std::string ok = kExample;
  // unknown op
  expect_rejected("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_5x5~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
                  {"token 4 'nor_conv_5x5~1'", "is not an op~input", "unknown op 'nor_conv_5x5'", "avg_pool_3x3"});
  // wrong input index
  expect_rejected("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~2|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
                  {"token 4 'avg_pool_3x3~2'", "input '2' should be 1", "edge 1->2"});
  expect_rejected("|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
                  {"token 1 'nor_conv_3x3~1'", "should be 0"});
  // no '~'
  expect_rejected("|nor_conv_3x3|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
                  {"token 1 'nor_conv_3x3'", "is not an op~input"});
  // missing '+'
  expect_rejected("|nor_conv_3x3~0|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
                  {"token 2 'nor_conv_3x3~0'", "should be '+'"});
  // empty
  expect_rejected("", {"empty"});
  // extra node
  expect_rejected(ok + "+|none~0|none~1|none~2|none~3|", {"token 9 '+'", "extra"});
  // trailing garbage
  expect_rejected(ok + "xyz", {"token 9 'xyz'", "extra"});
  expect_rejected(ok.substr(0, ok.size() - 1), {"must end with '|'"});
  // too short
  expect_rejected("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|",
                  {"ends after token 7", "token 8", "edge 2->3"});
  expect_rejected("|", {"ends after token 0"});
  // whitespace, leading garbage, empty token
  expect_rejected(" " + ok, {"whitespace", "char 1"});
  expect_rejected(ok.substr(0, 20) + " " + ok.substr(20), {"whitespace", "char 21"});
  expect_rejected("x" + ok, {"must start with '|'"});
  expect_rejected("||+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
                  {"token 1 ''", "is not an op~input"});
  // two tildes, case matters
  expect_rejected("|none~0~0|+|none~0|none~1|+|none~0|none~1|none~2|", {"token 1 'none~0~0'"});
  expect_rejected("|None~0|+|none~0|none~1|+|none~0|none~1|none~2|", {"token 1 'None~0'", "unknown op 'None'"});
}

TEST(Nb201Notation, LongGarbageIsCutInTheMessage) {
  const std::string garbage(5000, 'q');
  try {
    parse_nb201(garbage);
    ADD_FAILURE() << "accepted garbage";
  } catch (const Error& e) {
    EXPECT_LT(std::string(e.what()).size(), 600u) << e.what();
  }
}

}  // namespace
}  // namespace naswot::cells

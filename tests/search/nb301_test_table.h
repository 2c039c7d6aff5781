// A small DARTS genotype table in the layout of ../shared/data/nb301_darts/naslib_zc_nb301_subset.csv
// (naslib_idx, normal, reduce, val_accuracy, proxies): its first six genotypes, with made-up
// accuracies and proxy values chosen so that tests can tell the columns apart (row 4's `synflow`
// is empty, as one row of the real file is). Used by the table, eval, mutation and CLI tests.
#pragma once
#include <array>
#include <cstdio>
#include <string>

namespace naswot::test {

struct Nb301TestRow {
  const char* normal;
  const char* reduce;
  double val_accuracy;
  double nwot;
  const char* synflow;  // text, "" for an empty field
};

inline constexpr std::array<Nb301TestRow, 6> kNb301TestRows = {{
    {"max_pool_3x3~0,dil_conv_3x3~1,avg_pool_3x3~1,avg_pool_3x3~0,sep_conv_3x3~1,sep_conv_3x3~0,sep_conv_3x3~1,"
     "skip_connect~3",
     "max_pool_3x3~1,skip_connect~0,sep_conv_3x3~1,sep_conv_3x3~0,max_pool_3x3~3,avg_pool_3x3~0,max_pool_3x3~2,"
     "dil_conv_5x5~3",
     93.25, 448.5, "52.5"},
    {"dil_conv_3x3~0,max_pool_3x3~1,avg_pool_3x3~2,skip_connect~0,skip_connect~3,sep_conv_3x3~0,max_pool_3x3~1,"
     "dil_conv_3x3~3",
     "avg_pool_3x3~1,skip_connect~0,dil_conv_3x3~0,max_pool_3x3~1,dil_conv_5x5~0,skip_connect~2,dil_conv_5x5~4,"
     "max_pool_3x3~0",
     92.75, 443.0, "36.25"},
    {"dil_conv_5x5~1,sep_conv_3x3~0,avg_pool_3x3~1,skip_connect~0,dil_conv_3x3~3,dil_conv_3x3~1,sep_conv_3x3~0,"
     "avg_pool_3x3~2",
     "dil_conv_3x3~1,dil_conv_5x5~0,max_pool_3x3~1,skip_connect~0,sep_conv_3x3~1,dil_conv_3x3~0,dil_conv_3x3~3,"
     "avg_pool_3x3~0",
     93.5, 450.5, "60"},
    {"skip_connect~0,sep_conv_5x5~1,dil_conv_3x3~0,dil_conv_5x5~1,skip_connect~0,max_pool_3x3~3,max_pool_3x3~2,"
     "skip_connect~0",
     "max_pool_3x3~0,sep_conv_5x5~1,max_pool_3x3~1,dil_conv_5x5~0,max_pool_3x3~2,sep_conv_3x3~1,dil_conv_5x5~1,"
     "dil_conv_3x3~3",
     93.0, 445.0, ""},
    {"max_pool_3x3~0,skip_connect~1,sep_conv_5x5~0,sep_conv_3x3~2,max_pool_3x3~1,skip_connect~3,avg_pool_3x3~3,"
     "max_pool_3x3~4",
     "max_pool_3x3~0,dil_conv_3x3~1,sep_conv_5x5~0,skip_connect~2,dil_conv_3x3~1,skip_connect~3,max_pool_3x3~1,"
     "sep_conv_5x5~0",
     92.5, 444.5, "40"},
    {"max_pool_3x3~1,sep_conv_3x3~0,avg_pool_3x3~1,dil_conv_3x3~2,sep_conv_3x3~2,sep_conv_3x3~1,sep_conv_5x5~2,"
     "sep_conv_5x5~1",
     "sep_conv_5x5~0,max_pool_3x3~1,avg_pool_3x3~2,avg_pool_3x3~0,dil_conv_3x3~0,skip_connect~1,sep_conv_5x5~3,"
     "sep_conv_3x3~4",
     94.0, 455.0, "70.5"},
}};

inline const char* const kNb301TestHeader = "naslib_idx,normal,reduce,val_accuracy,nwot,synflow\n";

// Row r of the table as a CSV line (naslib_idx = 100 + r, cells quoted as in the real file).
inline std::string nb301_test_line(size_t r) {
  const Nb301TestRow& row = kNb301TestRows[r];
  char numbers[64];
  std::snprintf(numbers, sizeof numbers, "%g,%g,", row.val_accuracy, row.nwot);
  return std::to_string(100 + r) + ",\"" + row.normal + "\",\"" + row.reduce + "\"," + numbers + row.synflow + "\n";
}

// The header and every row.
inline std::string nb301_test_csv() {
  std::string text = kNb301TestHeader;
  for (size_t r = 0; r < kNb301TestRows.size(); ++r) text += nb301_test_line(r);
  return text;
}

// "normal;reduce": the compact notation of row r in one string.
inline std::string nb301_test_compact(size_t r) {
  return std::string(kNb301TestRows[r].normal) + ";" + kNb301TestRows[r].reduce;
}

}  // namespace naswot::test

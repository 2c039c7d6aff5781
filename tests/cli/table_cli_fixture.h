// The fixture of the CLI tests over one accuracy table (nb301_cli_test.cpp, nds_cli_test.cpp): the
// table file is written once per suite into its own directory (Source::kStem, Source::kName,
// Source::text()), and parsed once for the expectations.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_util.h"
#include "search/bench_table.h"

namespace naswot::cli {

template <typename Source>
class TableCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir() = make_suite_dir(Source::kStem);
    file() = (dir() / Source::kName).string();
    std::ofstream(file()) << Source::text();
  }
  static void TearDownTestSuite() { remove_dir(dir()); }
  static std::string path(const std::string& name) { return (dir() / name).string(); }
  static const search::BenchTable& table() {
    static const search::BenchTable t = search::load_bench_table(file());
    return t;
  }
  // An arch record of a search's JSON line: the row at its index, with that row's arch, a `key`
  // field and no `absent` one (the caller checks the value).
  static const search::BenchRow& expect_row(const nlohmann::json& arch, const char* key, const char* absent) {
    const search::BenchRow& row = table().by_index(arch.at("index").get<int64_t>());
    EXPECT_EQ(arch.at("arch"), row.arch);
    EXPECT_TRUE(arch.contains(key)) << arch.dump();
    EXPECT_FALSE(arch.contains(absent)) << arch.dump();
    return row;
  }
  static std::filesystem::path& dir() {
    static std::filesystem::path d;
    return d;
  }
  static std::string& file() {
    static std::string f;
    return f;
  }
};

}  // namespace naswot::cli

// The darts spaces behind search::Space (search/darts_space.h), as the search and sweep drivers
// use them: indices over a genotype list file, from_string finding an entry's index, the network
// size (entry, then options, then default), the aux note, worst_case at least as large as every
// entry, and errors that name the file and line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cells/darts.h"
#include "runtime/error.h"
#include "runtime/plan.h"
#include "search/darts_space.h"
#include "search/space.h"

namespace naswot::search {
namespace {

namespace fs = std::filesystem;

const char* const kA = "sep_conv_3x3~0,dil_conv_3x3~1;skip_connect~0,max_pool_3x3~1";
const char* const kB = "conv_1x1~1,none~0;avg_pool_3x3~0,sep_conv_5x5~1";

std::string write_list(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / (name + "_" + std::to_string(getpid()));
  std::ofstream(p) << text;
  return p.string();
}

int64_t units(const rt::Graph& g, int size) { return rt::Plan(g, {2, size, size, 3}).n_units(rt::Counting::Reference); }

TEST(DartsSpace, GenotypeListGivesIndices) {
  const std::string file = write_list(
      "darts_space_list", std::string("# two genotypes\n") + kA + "\n\n" + kB + " width=6 depth=2 aux=true\n");
  SpaceOptions o(16);
  o.width = 4;
  o.depth = 3;
  o.source = file;
  const auto space = make_space("darts", o);
  EXPECT_EQ(space->name(), "darts");
  ASSERT_EQ(space->size(), 2);
  const ArchEntry a = space->from_index(0);
  const ArchEntry b = space->from_index(1);
  EXPECT_EQ(a.index, 0);
  EXPECT_EQ(a.arch, cells::to_string(cells::parse_darts_arch(kA)));
  EXPECT_EQ(b.arch.substr(b.arch.size() - 25), " width=6 depth=2 aux=true");
  EXPECT_EQ(space->from_string(kA).index, 0);  // any notation of an entry finds its index
  EXPECT_EQ(space->from_string(cells::to_string(cells::parse_darts_arch(kB))).index, -1);  // size differs
  EXPECT_TRUE(space->note(a).empty());
  EXPECT_NE(space->note(b).find("without the auxiliary head"), std::string::npos);
  EXPECT_THROW(space->from_index(2), Error);

  // Sizes: entry a takes the options (C=4, 3 cells), entry b its own (C=6, 2 cells); 16x16 input.
  cells::DartsConfig ca;
  ca.width = 4;
  ca.depth = 3;
  ca.input_size = 16;
  cells::DartsConfig cb = ca;
  cb.width = 6;
  cb.depth = 2;
  EXPECT_EQ(units(space->build(a), 16), units(cells::build_darts(cells::parse_darts_arch(kA).genotype, ca), 16));
  EXPECT_EQ(units(space->build(b), 16), units(cells::build_darts(cells::parse_darts_arch(kB).genotype, cb), 16));
  const rt::Plan worst(space->worst_case(), {2, 16, 16, 3});
  EXPECT_GE(worst.arena_floats(), rt::Plan(space->build(a), {2, 16, 16, 3}).arena_floats());
  EXPECT_GE(worst.arena_floats(), rt::Plan(space->build(b), {2, 16, 16, 3}).arena_floats());

  // Without a source: strings only; darts_in builds NetworkImageNet.
  const auto bare = make_space("darts_in", SpaceOptions(32));
  EXPECT_EQ(bare->size(), 0);
  EXPECT_EQ(bare->from_string(kA).index, -1);
  bool imagenet_stem = false;
  for (const rt::Op& op : bare->build(bare->from_string(kA)).ops) imagenet_stem |= op.name == "stem1.1";
  EXPECT_TRUE(imagenet_stem);
  fs::remove(file);
}

// The synthetic batch follows the network when --image-size is absent: the ImageNet networks are
// scored at 224 (the reference's imagenette2 batches), everything else at 32.
TEST(DartsSpace, DefaultImageSizeFollowsTheNetwork) {
  EXPECT_EQ(default_image_size("darts_in", ""), 224);
  EXPECT_EQ(default_image_size("nds", "/data/nds/DARTS_in.json"), 224);
  EXPECT_EQ(default_image_size("nds", "/data/nds_in/DARTS.json"), 32) << "the file name decides, not the folder";
  EXPECT_EQ(default_image_size("darts", ""), 32);
  EXPECT_EQ(default_image_size("nb201", ""), 32);
  EXPECT_TRUE(darts_space_is_imagenet("darts_in", ""));
  EXPECT_FALSE(darts_space_is_imagenet("darts", "x_in.json"));
}

TEST(DartsSpace, BadSourcesNameFileAndLine) {
  const std::string file =
      write_list("darts_space_bad", std::string(kA) + "\n# ok\nsep_conv_3x3~0,bogus~1;skip_connect~0,skip_connect~1\n");
  SpaceOptions o;
  o.source = file;
  try {
    make_space("darts", o);
    ADD_FAILURE() << "expected BadInput";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find(file + ":3: compact genotype"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unknown op 'bogus'"), std::string::npos) << e.what();
  }
  fs::remove(file);
  EXPECT_THROW(make_space("nds", SpaceOptions()), Error);
  SpaceOptions negative;
  negative.width = -1;
  EXPECT_THROW(make_space("darts", negative), Error);
  EXPECT_THROW(make_space("darts_xx", SpaceOptions()), Error);
}

}  // namespace
}  // namespace naswot::search

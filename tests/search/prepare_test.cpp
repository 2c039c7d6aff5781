// search::prepare_networks (several threads) gives what the sequential loop gives, in order, with
// the shared cache's tensor objects; a bad architecture anywhere in the group gives the first bad
// one's BadInput, not a crash; rt::ParamInitCache hands every thread the same object per tensor.
#include <gtest/gtest.h>

#include <thread>

#include "cells/nb201.h"
#include "runtime/params.h"
#include "search/prepare.h"
#include "search/space.h"
#include "test_util.h"

namespace naswot::test {
namespace {

std::vector<search::ArchEntry> sample(const search::Space& space, int count) {
  std::vector<search::ArchEntry> out;
  for (int i = 0; i < count; ++i) out.push_back(space.from_index((i * 7919 + 13) % cells::kNb201Size));
  return out;
}

TEST(PrepareNetworks, ThreadsGiveTheSequentialResultInOrder) {
  const auto space = search::make_space("nb201", {16});
  const std::vector<search::ArchEntry> archs = sample(*space, 40);
  rt::ParamInitCache shared(3);
  auto from_cache = [&](const rt::Graph& g) { return shared.params_for(g); };
  const search::PreparedGroup one = search::prepare_networks(*space, archs, from_cache, 1);
  for (int threads : {2, 4, 0}) {
    SCOPED_TRACE(testing::Message() << threads << " threads");
    rt::ParamInitCache fresh(3);  // drawn concurrently from scratch: the same values
    const search::PreparedGroup many =
        search::prepare_networks(*space, archs, [&](const rt::Graph& g) { return fresh.params_for(g); }, threads);
    const search::PreparedGroup again = search::prepare_networks(*space, archs, from_cache, threads);
    ASSERT_EQ(many.graphs.size(), archs.size());
    for (size_t i = 0; i < archs.size(); ++i) {
      const rt::Graph& a = one.graphs[i];
      const rt::Graph& b = many.graphs[i];
      ASSERT_EQ(a.ops.size(), b.ops.size()) << "architecture " << i;
      for (size_t o = 0; o < a.ops.size(); ++o) ASSERT_EQ(a.ops[o].name, b.ops[o].name) << "architecture " << i;
      ASSERT_EQ(one.params[i].size(), many.params[i].size());
      for (const auto& [name, tensor] : one.params[i].all()) {
        const rt::ParamTensor* other = many.params[i].find(name);
        ASSERT_NE(other, nullptr) << name;
        EXPECT_EQ(other->shape, tensor->shape) << name;
        EXPECT_TRUE(all_equal(other->data.data(), tensor->data.data(), tensor->data.size())) << name;
        // From the same cache: the very same tensor object (what stacking keys on).
        EXPECT_EQ(again.params[i].find(name), tensor.get()) << name;
      }
    }
    EXPECT_EQ(fresh.cached_tensors(), shared.cached_tensors());
  }
}

TEST(PrepareNetworks, FirstBadArchitectureIsReportedNotACrash) {
  const auto space = search::make_space("nb201", {16});
  std::vector<search::ArchEntry> archs = sample(*space, 24);
  archs[17].arch = "|nor_conv_3x3~0|+|bogus~0|";
  archs[5].arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|";  // the first bad one: too few nodes
  rt::ParamInitCache cache(1);
  for (int threads : {1, 4}) {
    SCOPED_TRACE(testing::Message() << threads << " threads");
    try {
      search::prepare_networks(*space, archs, [&](const rt::Graph& g) { return cache.params_for(g); }, threads);
      ADD_FAILURE() << "bad architectures were accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput);
      const std::string what = e.what();
      EXPECT_EQ(what.find("bogus"), std::string::npos) << "reported the later bad architecture: " << what;
    }
  }
}

TEST(ParamInitCache, ThreadsShareOneTensorPerNameAndShape) {
  const rt::Graph g = cells::build_nb201(cells::nb201_from_preindex(4242), {});
  rt::ParamInitCache cache(9);
  std::vector<rt::Params> got(6);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < got.size(); ++t) pool.emplace_back([&, t] { got[t] = cache.params_for(g); });
  for (std::thread& t : pool) t.join();
  EXPECT_EQ(cache.cached_tensors(), got[0].size());
  for (const auto& [name, tensor] : got[0].all())
    for (size_t t = 1; t < got.size(); ++t) EXPECT_EQ(got[t].find(name), tensor.get()) << name << ", thread " << t;
}

}  // namespace
}  // namespace naswot::test

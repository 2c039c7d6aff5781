// Test-only generator of small random rt::Graphs that use every op kind: convs (1x1/3x3, stride
// 1/2, groups, dilation, bias), BatchNorm, hooked and plain ReLUs (several on one tensor, so the
// plan's ReLU aliasing and tap merging are exercised), n-ary adds (add(x, x) too), avg/max
// pools, strided zeros, concats, explicit taps with arbitrary anchors, and dead branches (inputs
// are drawn from every tensor made so far, so many never reach the logits). Always valid for the
// input size it was made for; the graph ends in lastact-style hooked ReLU, global pool, linear.
#pragma once
#include <cstdint>

#include "runtime/graph.h"

namespace naswot::test {

struct RandomGraphOptions {
  int image_size = 8;  // square input, >= 4
  int steps = 12;      // random ops before the head
};

rt::Graph random_graph(uint32_t seed, const RandomGraphOptions& options = {});

}  // namespace naswot::test

// An image batch as the backends consume it: NHWC float32, already normalised.
#pragma once
#include <string>
#include <vector>

#include "runtime/plan.h"

namespace naswot::rt {

struct Batch {
  Shape4 shape;             // n x h x w x c
  std::vector<float> data;  // NHWC
  std::string source;       // for messages: "synthetic(seed=1)", "cifar10:/path", ...
};

}  // namespace naswot::rt

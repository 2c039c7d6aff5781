// Random small graphs for the runtime tests (contract in random_graph.h).
#include "tests/runtime/random_graph.h"

#include <random>
#include <string>
#include <vector>

namespace naswot::test {

namespace {

struct Hw {
  int h = 0, w = 0;
};

class Generator {
 public:
  Generator(uint32_t seed, const RandomGraphOptions& o) : m_rng(seed), m_options(o) {}

  rt::Graph make() {
    const rt::TensorId x = m_b.input();
    note(x, {m_options.image_size, m_options.image_size});
    conv(x);  // a stem, so most tensors have a few channels
    for (int s = 0; s < m_options.steps; ++s) step();
    const rt::TensorId last = m_made.back();
    const rt::TensorId r = m_b.hooked_relu(last, "head.relu", false);
    const rt::TensorId g = m_b.global_avgpool(r, "head.pool");
    return m_b.finish(m_b.linear(g, "head.linear", uniform(1, 3), coin()));
  }

 private:
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(m_rng); }
  bool coin() { return uniform(0, 1) == 1; }
  std::string name() { return "op" + std::to_string(m_counter++); }
  void note(rt::TensorId t, Hw hw) {
    if (m_hw.size() <= static_cast<size_t>(t)) m_hw.resize(static_cast<size_t>(t) + 1);
    m_hw[static_cast<size_t>(t)] = hw;
    m_made.push_back(t);
  }
  Hw hw(rt::TensorId t) const { return m_hw[static_cast<size_t>(t)]; }
  // Mostly the newest tensor (a chain), sometimes any earlier one (branches, dead ends).
  rt::TensorId pick() {
    if (uniform(0, 9) < 6) return m_made.back();
    return m_made[static_cast<size_t>(uniform(0, static_cast<int>(m_made.size()) - 1))];
  }
  std::vector<rt::TensorId> like(rt::TensorId x, bool same_channels) const {
    std::vector<rt::TensorId> out;
    for (rt::TensorId t : m_made)
      if (hw(t).h == hw(x).h && hw(t).w == hw(x).w && (!same_channels || m_b.channels(t) == m_b.channels(x)))
        out.push_back(t);
    return out;
  }

  void conv(rt::TensorId x) {
    rt::ConvAttr a;
    const int cin = m_b.channels(x);
    const Hw in = hw(x);
    a.kernel_h = a.kernel_w = coin() ? 3 : 1;
    a.stride_h = a.stride_w = (in.h >= 4 && uniform(0, 3) == 0) ? 2 : 1;
    a.pad_h = a.pad_w = a.kernel_h / 2;
    if (a.kernel_h == 3 && a.stride_h == 1 && uniform(0, 4) == 0) a.dilation_h = a.dilation_w = a.pad_h = a.pad_w = 2;
    a.out_channels = uniform(2, 8);
    if (cin % 2 == 0 && uniform(0, 3) == 0) {
      a.groups = 2;
      a.out_channels += a.out_channels % 2;
    }
    a.bias = coin();
    const rt::TensorId y = m_b.conv(x, name(), a);
    const auto out = [&](int s) { return (s + 2 * a.pad_h - a.dilation_h * (a.kernel_h - 1) - 1) / a.stride_h + 1; };
    note(y, {out(in.h), out(in.w)});
  }

  void pool(rt::TensorId x, bool max) {
    rt::PoolAttr p;
    const Hw in = hw(x);
    if (in.h >= 2 && coin()) {
      p.kernel = 2, p.stride = 2, p.pad = 0;
    } else {
      p.kernel = 3, p.stride = 1, p.pad = 1;
    }
    p.count_include_pad = coin();
    const rt::TensorId y = max ? m_b.maxpool(x, name(), p) : m_b.avgpool(x, name(), p);
    note(y, {(in.h + 2 * p.pad - p.kernel) / p.stride + 1, (in.w + 2 * p.pad - p.kernel) / p.stride + 1});
  }

  void step() {
    const rt::TensorId x = pick();
    const Hw in = hw(x);
    switch (uniform(0, 10)) {
      case 0:
        conv(x);
        return;
      case 1:
        note(m_b.batchnorm(x, name()), in);
        return;
      case 2:
        note(m_b.hooked_relu(x, name(), coin()), in);
        return;
      case 3:
        note(m_b.relu(x, name()), in);
        return;
      case 4: {
        const std::vector<rt::TensorId> c = like(x, true);
        std::vector<rt::TensorId> xs = {x};
        for (int k = uniform(1, 2); k > 0; --k)
          xs.push_back(c[static_cast<size_t>(uniform(0, static_cast<int>(c.size()) - 1))]);
        note(m_b.add(xs, name()), in);
        return;
      }
      case 5:
        pool(x, false);
        return;
      case 6:
        pool(x, true);
        return;
      case 7: {
        const int s = in.h >= 2 && coin() ? 2 : 1;
        note(m_b.zero(x, name(), s), {(in.h + s - 1) / s, (in.w + s - 1) / s});
        return;
      }
      case 8: {
        const std::vector<rt::TensorId> c = like(x, false);
        const rt::TensorId other = c[static_cast<size_t>(uniform(0, static_cast<int>(c.size()) - 1))];
        if (m_b.channels(x) + m_b.channels(other) > 16) return conv(x);
        note(m_b.concat({x, other}, name()), in);
        return;
      }
      case 9:
        note(m_b.shift(x, name()), in);
        return;
      default: {
        // An explicit tap with an arbitrary anchor: counts iff the anchor reaches the logits.
        const rt::TensorId anchor = m_made[static_cast<size_t>(uniform(0, static_cast<int>(m_made.size()) - 1))];
        m_b.tap(x, anchor, name(), uniform(1, 2), uniform(0, 1));
        return;
      }
    }
  }

  std::mt19937 m_rng;
  RandomGraphOptions m_options;
  rt::GraphBuilder m_b{3};
  std::vector<Hw> m_hw;
  std::vector<rt::TensorId> m_made;
  int m_counter = 0;
};

}  // namespace

rt::Graph random_graph(uint32_t seed, const RandomGraphOptions& options) { return Generator(seed, options).make(); }

}  // namespace naswot::test

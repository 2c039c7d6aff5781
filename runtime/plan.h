// runtime::Plan: everything about one architecture that does not depend on weights or data.
// Built once per (graph, input shape): shape inference, removal of ops whose output does not
// reach the logits (the reference's backward-visited rule; a Tap counts iff its anchor reaches the logits),
// merging of taps that read the same tensor, buffer liveness and offsets into one arena.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/graph.h"

namespace naswot::rt {

enum class Counting : uint8_t {
  Reference,  // as the original code: ReLUConvBN inputs count twice (wrapper + inner ReLU)
  Unit,       // every ReLU once
};
const char* to_string(Counting c);
Counting parse_counting(const std::string& s);  // "reference" | "unit"; BadInput otherwise

struct Shape4 {
  int n = 0, h = 0, w = 0, c = 0;
  int64_t numel() const { return static_cast<int64_t>(n) * h * w * c; }
  int64_t per_image() const { return static_cast<int64_t>(h) * w * c; }
  bool operator==(const Shape4&) const = default;
};

struct PlannedTensor {
  Shape4 shape;
  size_t offset = 0;  // in floats from the arena start; aligned to kArenaAlignFloats
  bool live = false;
};

struct PlannedTap {
  TensorId tensor = kNoTensor;
  int64_t units = 0;           // per image (H*W*C of the tensor)
  int weight_reference = 0;    // summed over the live taps on this tensor
  int weight_unit = 0;
  int weight(Counting c) const { return c == Counting::Reference ? weight_reference : weight_unit; }
};

inline constexpr size_t kArenaAlignFloats = 64;  // 256 bytes

class Plan {
 public:
  Plan(const Graph& graph, Shape4 input_shape);

  const Graph& graph() const { return *m_graph; }
  const std::vector<int>& order() const { return m_order; }  // live op indices, execution order
  const PlannedTensor& tensor(TensorId t) const { return m_tensors.at(static_cast<size_t>(t)); }
  const std::vector<PlannedTap>& taps() const { return m_taps; }
  // Index into taps() of the merged tap that op `op_index` (a live Tap) contributes to; -1 else.
  int tap_slot(int op_index) const { return m_tap_slot.at(static_cast<size_t>(op_index)); }
  size_t arena_floats() const { return m_arena_floats; }
  // The tensor that holds t's values: t itself, or the first of several equal ReLU outputs on one
  // input, whose duplicates the plan does not execute (their ops are absent from order()).
  TensorId canonical(TensorId t) const { return m_canon.at(static_cast<size_t>(t)); }
  int batch() const { return m_input.n; }
  Shape4 input_shape() const { return m_input; }
  // Code length per image (N_A): sum over live taps of units x weight.
  int64_t n_units(Counting c) const;
  // The largest per-image unit count of any tap (sizes the packed-code scratch).
  int64_t max_tap_units() const;

 private:
  const Graph* m_graph;
  Shape4 m_input;
  std::vector<int> m_order;
  std::vector<PlannedTensor> m_tensors;
  std::vector<PlannedTap> m_taps;
  std::vector<int> m_tap_slot;
  std::vector<TensorId> m_canon;
  size_t m_arena_floats = 0;
};

}  // namespace naswot::rt

// Segment kernels, reference versions (see segments.h): loops over the per-tensor CPU kernels,
// which check each segment's pointers and parallelize inside the segment.
#include "kernels/cpu/segments.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/batchnorm.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/popcount_k.h"
#include "kernels/cpu/signpack.h"
#include "runtime/error.h"

namespace naswot::cpu {
namespace {

// True when there is work; throws on a negative count or a missing table.
bool check_table(const char* who, const void* table, int segments) {
  NASWOT_EXPECT(segments >= 0, BadInput, who << ": segments expected >= 0, got " << segments);
  if (segments == 0) return false;
  NASWOT_EXPECT(table != nullptr, BadInput, who << ": table expected non-null for " << segments << " segments");
  return true;
}

}  // namespace

void gather_segments(const float* const* src, int segments, int64_t seg_floats, bool relu, float* dst) {
  NASWOT_EXPECT(seg_floats >= 0, BadInput, "gather_segments: seg_floats expected >= 0, got " << seg_floats);
  if (!check_table("gather_segments", src, segments) || seg_floats == 0) return;
  NASWOT_EXPECT(dst != nullptr, BadInput, "gather_segments: dst expected non-null");
  for (int s = 0; s < segments; ++s) {
    NASWOT_EXPECT(src[s] != nullptr, BadInput, "gather_segments: segment " << s << " has no source");
    float* out = dst + static_cast<int64_t>(s) * seg_floats;
    if (relu)
      cpu::relu(src[s], seg_floats, out);
    else
      std::copy(src[s], src[s] + seg_floats, out);
  }
}

void batchnorm_stats_segments(const StatsSegment* table, int segments, int64_t rows, int channels) {
  if (!check_table("batchnorm_stats_segments", table, segments)) return;
  for (int s = 0; s < segments; ++s) {
    const StatsSegment& seg = table[s];
    batchnorm_stats(seg.x, rows, channels, seg.mean, seg.var);
    if (seg.invstd != nullptr) batchnorm_invstd(seg.var, channels, seg.eps, seg.invstd);
  }
}

void bn_add_pack_segments(const NodeSegment* table, int segments, bool sum_from_zero, int n, int64_t units,
                          int channels) {
  if (!check_table("bn_add_pack_segments", table, segments)) return;
  for (int s = 0; s < segments; ++s) {
    const NodeSegment& seg = table[s];
    NASWOT_EXPECT(seg.num_terms >= 1 && seg.num_terms <= kMaxBnAddTerms, BadInput,
                  "bn_add_pack_segments: segment " << s << ": num_terms expected 1.." << kMaxBnAddTerms << ", got "
                                                   << seg.num_terms);
    NASWOT_EXPECT(seg.num_copies >= 0 && seg.num_copies <= kMaxNodeCopies, BadInput,
                  "bn_add_pack_segments: segment " << s << ": num_copies expected 0.." << kMaxNodeCopies << ", got "
                                                   << seg.num_copies);
    const size_t count = static_cast<size_t>(n) * static_cast<size_t>(units);
    std::vector<float> scratch;
    float* y = seg.y;
    if (y == nullptr) {
      scratch.resize(count);
      y = scratch.data();
    }
    bn_add_pack(seg.terms, seg.num_terms, sum_from_zero, n, units, channels, y, nullptr, seg.bits);
    for (int i = 0; i < seg.num_copies; ++i) {
      NASWOT_EXPECT(seg.copies[i] != nullptr, BadInput, "bn_add_pack_segments: segment " << s << ": copy " << i << " is null");
      if ((seg.copy_relu >> i) & 1u)
        cpu::relu(y, static_cast<int64_t>(count), seg.copies[i]);
      else
        std::copy(y, y + count, seg.copies[i]);
    }
  }
}

void popcount_k_segments(const PopcountSegment* table, int segments, int n, int64_t words, int64_t units) {
  if (!check_table("popcount_k_segments", table, segments)) return;
  for (int s = 0; s < segments; ++s)
    popcount_k_accumulate(table[s].bits, n, words, units, table[s].weight, table[s].k);
}

void sign_pack_segments(const SignPackSegment* table, int segments, int n, int64_t units) {
  if (!check_table("sign_pack_segments", table, segments)) return;
  for (int s = 0; s < segments; ++s) sign_pack(table[s].x, n, units, table[s].bits);
}

}  // namespace naswot::cpu

// The backend interface: execute a Plan on the bound batch with given parameters and return the
// exact integer kernel matrix K (K_ij = sum over taps of weight x (units - Hamming distance)).
// Two implementations: cpu (runtime/cpu_backend.*, the oracle) and cuda (runtime/cuda/*).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/cpu/logdet.h"
#include "runtime/batch.h"
#include "runtime/error.h"
#include "runtime/params.h"
#include "runtime/plan.h"

namespace naswot::rt {

// Row-major n x n, exact integers.
struct KMatrix {
  int n = 0;
  std::vector<int64_t> values;
  void reset(int size) {
    n = size;
    values.assign(static_cast<size_t>(size) * static_cast<size_t>(size), 0);
  }
  int64_t at(int i, int j) const { return values[static_cast<size_t>(i) * static_cast<size_t>(n) + static_cast<size_t>(j)]; }
};

// (Inline like Backend's defaults: backend libraries use them without naswot_runtime.)
// Convolution arithmetic. Fp32: FP32 FMA (the CPU's class of results). Tf32: tensor cores on inputs
// rounded to TF32 (10-bit mantissa; scores move). Tf32x3 ("3xtf32"): tensor cores on operands split
// in a TF32 high and low part, three products per multiply-add (the low x low term dropped):
// errors of fp32's order at tensor-core speed; fp32 FMA kernels compete too where faster.
enum class ConvPrecision : uint8_t { Fp32, Tf32, Tf32x3 };
inline const char* to_string(ConvPrecision precision) {
  return precision == ConvPrecision::Tf32 ? "tf32" : precision == ConvPrecision::Tf32x3 ? "3xtf32" : "fp32";
}
inline ConvPrecision parse_conv_precision(const std::string& s) {  // fp32 | tf32 | 3xtf32
  if (s == "fp32") return ConvPrecision::Fp32;
  if (s == "tf32") return ConvPrecision::Tf32;
  if (s == "3xtf32") return ConvPrecision::Tf32x3;
  throw_error(ErrorKind::BadInput, "--precision '" + s + "': expected fp32, tf32 or 3xtf32");
}

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Bind the image batch used by every following compute_k (uploaded once).
  virtual void set_batch(const Batch& batch) = 0;
  // Size workspaces for this plan and every smaller one (the worst case of a space), so that later
  // architectures allocate nothing.
  virtual void reserve(const Plan& plan) = 0;
  virtual void compute_k(const Plan& plan, const Params& params, Counting counting, KMatrix& k) = 0;
  // Number of times a workspace grew (tests assert it stays flat after reserve()).
  virtual int64_t workspace_growths() const = 0;
  // log|det K| for many architectures on the bound batch, in input order (K matrices too when
  // `ks` is given). The default computes them one after another with compute_k and LAPACK; the
  // CUDA backend keeps several in flight and factorises the K matrices in one batched call.
  // (Inline: every backend library links it without depending on naswot_runtime.)
  virtual std::vector<cpu::LogDet> score_many(const std::vector<const Plan*>& plans,
                                              const std::vector<const Params*>& params, Counting counting,
                                              std::vector<KMatrix>* ks = nullptr) {
    std::vector<cpu::LogDet> out;
    out.reserve(plans.size());
    if (ks) ks->resize(plans.size());
    KMatrix local;
    for (size_t i = 0; i < plans.size() && i < params.size(); ++i) {
      KMatrix& k = ks ? (*ks)[i] : local;
      compute_k(*plans[i], *params[i], counting, k);
      out.push_back(cpu::logabsdet(k.values.data(), k.n));
    }
    return out;
  }
  // Convolution arithmetic for the following computations. Fp32 (default) everywhere; Tf32 is an
  // opt-in of the CUDA backend (tensor cores, reduced precision, scores move); other backends
  // throw Unsupported for it.
  virtual void set_conv_precision(ConvPrecision precision) {
    NASWOT_EXPECT(precision == ConvPrecision::Fp32, Unsupported,
                  "the " << name() << " backend computes convolutions in fp32 only; --precision "
                         << to_string(precision) << " needs --backend cuda");
  }
  // Stacked execution of score_many (CUDA: runtime/cuda/stack_plan.h): groups of `group`
  // architectures as one stream of launches, `workers` groups in flight; 0 = off. Other backends
  // accept 0 only.
  virtual void set_stacking(int group, int workers) {
    (void)workers;
    NASWOT_EXPECT(group == 0, Unsupported,
                  "the " << name() << " backend has no stacked execution; --stack needs --backend cuda");
  }
  // Per-op-kind wall time, accumulated while profiling is on (`naswot score --profile`).
  // Backends without a profiler return an empty report.
  virtual void set_profiling(bool on) { (void)on; }
  virtual std::string profile_report() const { return {}; }
};

enum class BackendKind : uint8_t { Cpu, Cuda, Auto };
BackendKind parse_backend_kind(const std::string& s);  // cpu | cuda | auto
// cuda: throws Unsupported with a clear message when this build has no CUDA or no device is
// visible; auto: cuda when available, else cpu. device_hint >= 0 selects CUDA device
// (device_hint mod the number of visible devices), e.g. a node-local MPI rank; -1 keeps the
// current device. The CPU backend ignores it.
std::unique_ptr<Backend> make_backend(BackendKind kind, int device_hint = -1);
bool cuda_available(std::string* why_not = nullptr);

}  // namespace naswot::rt

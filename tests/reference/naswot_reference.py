"""The NASWOT reference protocol (reference-semantics.md §1) in PyTorch, for cross-checks and the
CPU benchmark.

Per network: train mode; register a forward hook (counting) and a *legacy* backward hook (sets
module.visited_backwards) on every selected module; forward the batch with requires_grad, backward
ones from the logits; forward a clone of the batch again, and only then add, for each visited
module, the codes c = (input > 0) of its input: K += c c^T + (1-c)(1-c)^T (float64).
score = numpy.linalg.slogdet(K)[1]; N_A = K[0, 0].

Counting modes (module selectors):
* "reference": 'ReLU' in str(type(m)) -- also matches the ReLUConvBN wrapper, so conv-edge inputs
  count twice, exactly as the original code;
* "unit": isinstance(m, nn.ReLU) -- each ReLU input once.
One protocol run serves several modes: hooks go on the union of the selected modules (the backward
hook only sets a flag, so an extra hooked module changes nothing numerically) and each forward
hook adds to the K of every mode that selects its module.

Why the legacy register_backward_hook: full backward hooks wrap outputs in a custom autograd
Function that breaks the in-place ReLU of lastact (pytorch #61519); the legacy hook is attached to
the output's grad_fn and fires whenever that node runs, which is the reference's "reaches the
logits" rule. Differences from the original: exceptions are not swallowed (a failure must show),
and there is no GPU.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

COUNTINGS = ("reference", "unit")
# Counts per hooked call are at most the unit count of one tensor; below 2**24 float32 sums of
# 0/1 products are exact, so the float32 matmul (as the original does on the GPU) is exact.
FLOAT32_EXACT_LIMIT = 1 << 24


def code_gram_literal(x: torch.Tensor) -> np.ndarray:
    """c c^T + (1-c)(1-c)^T with c = (x > 0), x of shape (B, units): the original's formula."""
    c = (x > 0).double().cpu().numpy()
    return c @ c.T + (1.0 - c) @ (1.0 - c).T


def code_gram(x: torch.Tensor) -> np.ndarray:
    """Same value as code_gram_literal, computed fast: with s = +1 where x > 0 else -1,
    s s^T = agreements - disagreements, so K = (s s^T + units) / 2. The product runs as a 1x1
    convolution (oneDNN) because this Debian torch's generic-BLAS matmul is ~5x slower and would
    dominate the reference's run time (and flatter the benchmark ratio). Every partial sum is an
    integer of magnitude <= units < 2**24, so float32 is exact whatever the summation order."""
    batch, units = x.shape
    assert units < FLOAT32_EXACT_LIMIT
    s = torch.where(x > 0, 1.0, -1.0)
    if s.is_cuda:  # cuBLAS GEMM (bench/gpu_reference.py): +-1 inputs are exact even in TF32
        g = s @ s.t()
    else:
        g = torch.nn.functional.conv2d(s.reshape(batch, units, 1, 1), s.reshape(batch, units, 1, 1))
    k = (g.reshape(batch, batch).double().cpu().numpy() + units) * 0.5
    # Guard against an inexact product path (an FFT/Winograd algorithm, say): K is integral.
    assert np.array_equal(k, np.round(k)), "code Gram matrix is not integral"
    return k


def selects(counting: str, module: nn.Module) -> bool:
    if counting == "reference":
        return "ReLU" in str(type(module))
    if counting == "unit":
        return isinstance(module, nn.ReLU)
    raise ValueError(f"counting {counting!r}: expected one of {COUNTINGS}")


class KernelResult:
    """K (float64 B x B), its score, and a census of hooked calls for one counting mode."""

    def __init__(self, batch: int):
        self.K = np.zeros((batch, batch), dtype=np.float64)
        self.hooked_modules = 0   # modules selected by the rule
        self.counted_calls = 0    # hook calls that added to K (second forward, visited only)

    @property
    def n_units(self) -> int:
        return int(self.K[0, 0])

    @property
    def score(self) -> float:
        return float(np.linalg.slogdet(self.K)[1])


def naswot_kernels(net: nn.Module, x: torch.Tensor, countings=COUNTINGS) -> dict[str, KernelResult]:
    """Run the reference protocol once on `net` with batch `x` (NCHW float32)."""
    batch = x.shape[0]
    results = {c: KernelResult(batch) for c in countings}
    handles = []
    unvisited = []

    def forward_hook(module, inp, out):
        if not getattr(module, "visited_backwards", False):
            return  # first forward: the reference's hook raises AttributeError here and skips
        k = code_gram(inp[0].detach().reshape(batch, -1))
        for c in module._naswot_modes:
            results[c].K += k
            results[c].counted_calls += 1

    def backward_hook(module, grad_in, grad_out):
        module.visited_backwards = True

    with warnings.catch_warnings():
        # torch >= 1.8 warns that legacy backward hooks are deprecated; they are what the
        # reference used (torch 1.6) and what keeps the in-place lastact ReLU working.
        warnings.simplefilter("ignore")
        for m in net.modules():
            modes = [c for c in countings if selects(c, m)]
            if not modes:
                continue
            m._naswot_modes = modes
            m.visited_backwards = False
            for c in modes:
                results[c].hooked_modules += 1
            handles.append(m.register_forward_hook(forward_hook))
            handles.append(m.register_backward_hook(backward_hook))
        try:
            net.train()
            x2 = x.clone()
            x1 = x.clone().requires_grad_(True)
            net.zero_grad()
            y, _ = net(x1)
            y.backward(torch.ones_like(y))
            net(x2)
        finally:
            for h in handles:
                h.remove()
    for m in net.modules():
        if hasattr(m, "_naswot_modes"):
            if not m.visited_backwards:
                unvisited.append(type(m).__name__)
            del m._naswot_modes
            del m.visited_backwards
    for r in results.values():
        r.unvisited = unvisited
    return results


def reference_scores(net: nn.Module, x: torch.Tensor, countings=COUNTINGS) -> dict[str, tuple[float, int]]:
    """{counting: (score, n_units)} for one network and batch."""
    return {c: (r.score, r.n_units) for c, r in naswot_kernels(net, x, countings).items()}


def self_check() -> None:
    """Asserts the protocol's invariants on small inputs (run by crosscheck.py first)."""
    # Self-check on the worked example of §3.7 (c = 3): 99 hooked modules, N_A = 937,984.
    from tiny_network import TinyNetwork, expected_n_units
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    torch.manual_seed(0)
    net = TinyNetwork(arch)
    res = naswot_kernels(net, torch.randn(8, 3, 32, 32))
    for c, r in res.items():
        print(f"{c}: hooked {r.hooked_modules}, counted {r.counted_calls}, N_A {r.n_units} "
              f"(closed form {expected_n_units(arch, 32, c)}), score {r.score:.6f}, unvisited {r.unvisited}")
    assert res["reference"].hooked_modules == 99 and res["reference"].n_units == 937_984
    assert res["unit"].n_units == expected_n_units(arch, 32, "unit")
    # The fast Gram path equals the literal formula, including exact zeros (code 0).
    probe = torch.randn(16, 3001)
    probe[:, :500] = 0.0
    assert np.array_equal(code_gram(probe), code_gram_literal(probe))
    # Reachability (§1.3): a ReLU whose output never reaches the logits is not visited, so not
    # counted; one behind a x*0 (the 'none' op) is.
    class Branches(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused, self.zeroed = nn.ReLU(), nn.ReLU(), nn.ReLU()
            self.head = nn.Linear(12, 1)

        def forward(self, x):
            self.unused(x)
            y = self.used(x) + self.zeroed(x).mul(0.0)
            return self.head(y), y

    res = naswot_kernels(Branches(), torch.randn(4, 12), ("unit",))["unit"]
    assert res.counted_calls == 2 and res.unvisited == ["ReLU"] and res.n_units == 24, res.__dict__


if __name__ == "__main__":
    self_check()
    print("self-check passed")

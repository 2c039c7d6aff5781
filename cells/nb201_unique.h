// Isomorphism classes of NAS-Bench-201 cells, so that a sweep can score one representative per
// class (`naswot sweep --unique`). Two equivalences, named because they differ:
//
// Nb201Equivalence::Benchmark (the default, 6,466 classes): the NAS-Bench-201 benchmark's own
// "unique with zero-consideration" cell string, the count its paper and every NB201 table quote.
// Node 0 is `x`; node j is the sorted '+'-join of one term per incoming edge: `none`, or any edge
// whose source string is exactly the zero marker, gives the zero marker; `skip_connect` gives the
// source string itself; a conv/pool gives `(source)op`. The zero marker stays a term, so "a" and
// "a + 0" differ, a node is zero only when its string is one zero marker (only node 1 can be), and
// a skip of a sum is not merged into the enclosing sum.
//
// Nb201Equivalence::Function (4,930 classes): cells that compute the same function of the cell
// input once the op semantics are taken into account:
//  * node 0 is the single term `x`;
//  * a `none` edge contributes nothing, and so does any op applied to a node that is zero (a node
//    whose incoming edges all contribute nothing): conv (ReLU, conv without bias, train-mode BN
//    with beta 0) and avg-pool map 0 to 0. Everything that only feeds the output through `none`
//    edges therefore disappears;
//  * `skip_connect` is the identity: it contributes the terms of its source node themselves (the
//    sum is flattened, so (a + b) + c and a + (b + c) agree);
//  * conv/pool edges contribute one term `op(<canonical form of the source>)`;
//  * the sum at each node is commutative: terms are sorted. Multiplicities are kept (x + x is
//    not x), and two op terms are never merged: different edges hold different weights.
// A zero cell prints as "0"; 341 architectures are in the zero class. From the benchmark form,
// treating zero terms this way gives 5,390 classes and also flattening skip-of-sum gives 4,930
// (tests/cells/nb201_unique_test.cpp).
//
// Note for sweeps: members of a class compute the same function (Function) or share the
// benchmark's string (Benchmark), yet their NASWOT scores are not identical: each edge position
// draws its own weights, and in reference counting the ReLU taps of convs on dead-end or zero
// paths still add code units to K. The representative's score stands for the class.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cells/nb201.h"

namespace naswot::cells {

enum class Nb201Equivalence : uint8_t { Benchmark, Function };
const char* to_string(Nb201Equivalence equivalence);                // "benchmark" | "function"
Nb201Equivalence parse_nb201_equivalence(const std::string& name);  // BadInput otherwise

inline constexpr int kNb201BenchmarkClasses = 6466;
inline constexpr int kNb201FunctionClasses = 4930;

std::string nb201_canonical(const Nb201Arch& arch, Nb201Equivalence equivalence);

struct Nb201Classes {
  std::vector<int32_t> class_of;              // NB-201 API index -> class id
  std::vector<std::vector<int32_t>> members;  // class id -> API indices, ascending
  // Classes are numbered in the order of their representative, the smallest API index of the
  // class (members[c][0]); class ids thus follow the index order of the space.
};

// All classes of the 15,625 architectures under `equivalence`, computed once (thread-safe).
const Nb201Classes& nb201_unique_classes(Nb201Equivalence equivalence);

}  // namespace naswot::cells

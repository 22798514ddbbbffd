#include "iclab/nn/chunk_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <stdexcept>

// No contraction of a * b + c into a fused multiply-add anywhere below: AVX-512F has FMA instructions
// (and so do other architectures' baselines), and a fused product is rounded once instead of twice, which
// would make the copies differ. The baseline and AVX2 copies have no FMA to contract into.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ICLAB_KERNELS_X86 1
#else
#define ICLAB_KERNELS_X86 0
#endif

namespace iclab::nn::kernels {

namespace baseline {
#define ICLAB_KERNEL_LANES 4
#define ICLAB_KERNEL_REGISTERS 16
#include "iclab/nn/chunk_kernels.inc"
#undef ICLAB_KERNEL_REGISTERS
#undef ICLAB_KERNEL_LANES
}  // namespace baseline

#if ICLAB_KERNELS_X86
#pragma GCC push_options
#pragma GCC target("avx2")
namespace avx2 {
#define ICLAB_KERNEL_LANES 8
#define ICLAB_KERNEL_REGISTERS 16
#include "iclab/nn/chunk_kernels.inc"
#undef ICLAB_KERNEL_REGISTERS
#undef ICLAB_KERNEL_LANES
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f")
namespace avx512 {
#define ICLAB_KERNEL_LANES 16
#define ICLAB_KERNEL_REGISTERS 32
#include "iclab/nn/chunk_kernels.inc"
#undef ICLAB_KERNEL_REGISTERS
#undef ICLAB_KERNEL_LANES
}  // namespace avx512
#pragma GCC pop_options
#endif

bool available(Isa isa) {
  switch (isa) {
    case Isa::baseline:
      return true;
#if ICLAB_KERNELS_X86
    case Isa::avx2:
      return __builtin_cpu_supports("avx2");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f");
#endif
    default:
      return false;
  }
}

Isa fastest_isa() {
  if (available(Isa::avx512)) return Isa::avx512;
  if (available(Isa::avx2)) return Isa::avx2;
  return Isa::baseline;
}

// Calls the kernel of the chosen set (one that this processor runs).
#if ICLAB_KERNELS_X86
#define ICLAB_DISPATCH(isa, call)                                                                     \
  do {                                                                                                \
    if (!available(isa)) throw std::invalid_argument("chunk kernels: instruction set not available"); \
    if ((isa) == Isa::avx512) return avx512::call;                                                    \
    if ((isa) == Isa::avx2) return avx2::call;                                                        \
    return baseline::call;                                                                            \
  } while (false)
#else
#define ICLAB_DISPATCH(isa, call)                                                                     \
  do {                                                                                                \
    if (!available(isa)) throw std::invalid_argument("chunk kernels: instruction set not available"); \
    return baseline::call;                                                                            \
  } while (false)
#endif

std::vector<std::vector<long>> chunks_of_members(const Chunks& layout, long members) {
  std::vector<std::vector<long>> out(static_cast<std::size_t>(members));
  for (long c = 0; c < layout.chunks; ++c) out[static_cast<std::size_t>(layout.owner[c])].push_back(c);
  return out;
}

void dense_forward(const Chunks& layout, const float* x, long in, const float* weight, const float* bias, long out,
                   float* y, long begin, long end, Isa isa) {
  ICLAB_DISPATCH(isa, dense_forward(layout, x, in, weight, bias, out, y, begin, end));
}

void dense_backward_input(const Chunks& layout, const float* g, const float* weight, long in, long out, float* dx,
                          long begin, long end, Isa isa) {
  ICLAB_DISPATCH(isa, dense_backward_input(layout, g, weight, in, out, dx, begin, end));
}

void dense_backward_parameters(const std::vector<std::vector<long>>& member_chunks, const Chunks& layout,
                               const float* x, long in, const float* g, long out, float* dweight, float* dbias,
                               long begin, long end, Isa isa) {
  ICLAB_DISPATCH(isa, dense_backward_parameters(member_chunks, layout, x, in, g, out, dweight, dbias, begin, end));
}

void layer_norm_forward(const Chunks& layout, const float* x, long width, const float* weight, const float* bias,
                        double epsilon, float* y, float* xhat, float* rstd, long begin, long end, Isa isa) {
  ICLAB_DISPATCH(isa, layer_norm_forward(layout, x, width, weight, bias, epsilon, y, xhat, rstd, begin, end));
}

void layer_norm_backward_input(const Chunks& layout, const float* g, const float* xhat, const float* rstd, long width,
                               const float* weight, float* dx, long begin, long end, Isa isa) {
  ICLAB_DISPATCH(isa, layer_norm_backward_input(layout, g, xhat, rstd, width, weight, dx, begin, end));
}

void layer_norm_backward_parameters(const std::vector<std::vector<long>>& member_chunks, const Chunks& layout,
                                    const float* g, const float* xhat, long width, float* dweight, float* dbias,
                                    long begin, long end, Isa isa) {
  ICLAB_DISPATCH(isa,
                 layer_norm_backward_parameters(member_chunks, layout, g, xhat, width, dweight, dbias, begin, end));
}

void attention_forward(const Attention& shape, const float* q, const float* k, const float* v, float* out,
                       float* probabilities, long begin, long end, Isa isa) {
  ICLAB_DISPATCH(isa, attention_forward(shape, q, k, v, out, probabilities, begin, end));
}

void attention_backward(const Attention& shape, const float* q, const float* k, const float* v,
                        const float* probabilities, const float* dout, float* dq, float* dk, float* dv, long begin,
                        long end, Isa isa) {
  ICLAB_DISPATCH(isa, attention_backward(shape, q, k, v, probabilities, dout, dq, dk, dv, begin, end));
}

void softmax_exp(float* x, long n, Isa isa) { ICLAB_DISPATCH(isa, softmax_exp(x, n)); }

#undef ICLAB_DISPATCH

}  // namespace iclab::nn::kernels

// The CPU arithmetic of an ensemble's forward and backward pass (internal to iclab_nn, torch-free): dense
// layers, LayerNorms and attention over contexts in chunks, each chunk owned by one member.
//
// Why hand-written loops: at d = 10-20 a chunk's products are (16 (l+1)) x h by h x h and an attention
// is (l+1) x h by h x (l+1); torch's CPU bmm makes tensor views and one BLAS call per matrix, and a
// chain of elementwise torch ops passes over the activations a dozen times. Here each kernel is one pass,
// and every value is computed by one thread in a fixed order that depends only on its own chunk (or
// context): the forward kernels and the input gradients run over [begin, end) of chunks or contexts,
// which a caller may split among threads freely; the parameter gradients run over [begin, end) of
// members, each member's chunks summed in chunk order (a per-chunk partial, then added). So a member's
// bits depend neither on its companions nor on the thread count.
//
// Layout: row-major float arrays. x (chunks, rows, in); a member-stacked weight (members, out, in), bias
// and LayerNorm parameters (members, width); owner[c] = member of chunk c.
//
// Instruction sets: the kernels are compiled once per set (chunk_kernels.inc), with vectors of 4 (SSE2,
// the x86-64 baseline), 8 (AVX2) or 16 floats (AVX-512F). Only the number of independent outputs per
// instruction and the zero padding differ: each value is the same sum in the same order, and no
// multiply-add is fused, so every set gives the same bits (tests/test_ensemble.cpp checks it on the sets
// the processor has). Every kernel takes the set last; the default is the widest this processor runs.
#pragma once

#include <cstdint>
#include <vector>

namespace iclab::nn::kernels {

enum class Isa { baseline, avx2, avx512 };
// Whether this processor (and build) runs the kernels of `isa`; the baseline always.
bool available(Isa isa);
// The widest available set.
Isa fastest_isa();

// Padding: a member's last chunk may end in padding contexts, which take no part in the loss. With `valid`
// (contexts of each chunk that are real, the first ones) the kernels skip them: their outputs and input
// gradients are 0 and the parameter gradients sum the real rows only. A real row's numbers are the same
// either way (every kernel is row- or context-local; the padding's gradients are +-0 and never reach it),
// and a member's padding is a function of its own batch size.
struct Chunks {
  const std::int64_t* owner = nullptr;
  long chunks = 0;
  long rows = 0;                        // rows of one chunk (contexts x rows per context)
  const std::int64_t* valid = nullptr;  // real contexts per chunk, or null: all real
  long contexts = 1;                    // contexts per chunk (with valid)
};

// The chunks of each member, in order (members x their chunk indices).
std::vector<std::vector<long>> chunks_of_members(const Chunks& layout, long members);

// y[c] = x[c] W[owner]^T (+ b[owner]) for c in [begin, end).
void dense_forward(const Chunks& layout, const float* x, long in, const float* weight, const float* bias, long out,
                   float* y, long begin, long end, Isa isa = fastest_isa());
// dx[c] = g[c] W[owner] for c in [begin, end).
void dense_backward_input(const Chunks& layout, const float* g, const float* weight, long in, long out, float* dx,
                          long begin, long end, Isa isa = fastest_isa());
// For members in [begin, end): dW[m] = sum over its chunks of g[c]^T x[c], db[m] = the column sums of g
// (dbias may be null). Entries of members with no chunk are set to 0.
void dense_backward_parameters(const std::vector<std::vector<long>>& member_chunks, const Chunks& layout,
                               const float* x, long in, const float* g, long out, float* dweight, float* dbias,
                               long begin, long end, Isa isa = fastest_isa());

// LayerNorm over the last axis (width) with each member's scale and shift: y = xhat w + b, xhat = (x - mean)
// / sqrt(var + epsilon). Writes xhat and 1/sqrt(var + epsilon) per row for the backward.
void layer_norm_forward(const Chunks& layout, const float* x, long width, const float* weight, const float* bias,
                        double epsilon, float* y, float* xhat, float* rstd, long begin, long end,
                        Isa isa = fastest_isa());
void layer_norm_backward_input(const Chunks& layout, const float* g, const float* xhat, const float* rstd, long width,
                               const float* weight, float* dx, long begin, long end, Isa isa = fastest_isa());
// For members in [begin, end): dw[m] = sum of g xhat, db[m] = sum of g over its chunks' rows.
void layer_norm_backward_parameters(const std::vector<std::vector<long>>& member_chunks, const Chunks& layout,
                                    const float* g, const float* xhat, long width, float* dweight, float* dbias,
                                    long begin, long end, Isa isa = fastest_isa());

// Attention of one context: q (queries x h), k and v (tokens x h); scores s = scale q k^T.
// softmax: causal softmax of the scores (queries == tokens: query i sees keys j <= i; queries == 1: the
// query is the last token and sees every key); otherwise the scores themselves (linear attention, no
// mask). out = P v. probabilities (queries x tokens) keeps P (the scores for linear attention).
struct Attention {
  long queries = 0, tokens = 0, h = 0;
  float scale = 1.0f;
  bool softmax = true;
  const std::int64_t* valid = nullptr;  // as Chunks: real contexts per chunk of `contexts`, or null: all real
  long contexts = 1;
};
void attention_forward(const Attention& shape, const float* q, const float* k, const float* v, float* out,
                       float* probabilities, long begin, long end, Isa isa = fastest_isa());
// Gradients of contexts [begin, end) given dout (queries x h each); overwrites dq, dk, dv.
void attention_backward(const Attention& shape, const float* q, const float* k, const float* v,
                        const float* probabilities, const float* dout, float* dq, float* dk, float* dv, long begin,
                        long end, Isa isa = fastest_isa());

// x[i] = e^x[i] as the softmax of attention_forward computes it (bits pinned across instruction sets, within
// a few ulp of e^x; 0 below -87): for tests.
void softmax_exp(float* x, long n, Isa isa = fastest_isa());

}  // namespace iclab::nn::kernels

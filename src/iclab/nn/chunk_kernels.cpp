#include "iclab/nn/chunk_kernels.hpp"

#include <algorithm>
#include <cmath>

namespace iclab::nn::kernels {
namespace {

// y[0..n) += a x[0..n): the innermost loop of the small kernels; its lanes are independent elements, so
// vectorising it never reorders a sum.
inline void axpy(long n, float a, const float* __restrict x, float* __restrict y) {
  for (long i = 0; i < n; ++i) y[i] += a * x[i];
}

// Four floats (an SSE register); a row of width n is stored as vectors(n) of them, zero-padded.
using Lanes = float __attribute__((vector_size(16)));
constexpr long kLanes = 4;
constexpr long kGroup = 6;  // vectors of accumulators held in registers
long vectors(long n) { return (n + kLanes - 1) / kLanes; }

// y[0..n) = the first n lanes of v (n <= NV kLanes): whole vectors by fixed-size copies, which the
// compiler turns into single stores (a loop over n it would turn into a call of memcpy).
template <int NV>
inline void store(const Lanes (&v)[NV], long n, float* y) {
  long j = 0;
  for (int i = 0; i < NV && j + kLanes <= n; ++i, j += kLanes) __builtin_memcpy(y + j, &v[i], sizeof(Lanes));
  const float* rest = reinterpret_cast<const float*>(v) + j;
  for (long t = 0; t < kLanes - 1; ++t)
    if (j + t < n) y[j + t] = rest[t];
}

// Y (rows x n) = A B for the columns of one group of NV vectors: A(r, k) = a[r a_row + k a_col], B a padded
// (depth x stride vectors) matrix whose group starts at b. Each Y entry is sum_k A(r, k) B(k, j), in k order.
// RB rows at a time, so that each loaded vector of B serves RB rows and RB NV independent sums hide the
// latency of an addition (the order of each sum is the same whatever RB).
template <int NV, int RB>
void product_rows(long r, long depth, const float* a, long a_row, long a_col, const Lanes* b, long stride, long n,
                  float* y, long y_row) {
  Lanes acc[RB][NV] = {};
  for (long k = 0; k < depth; ++k) {
    const Lanes* bk = b + k * stride;
    for (int i = 0; i < RB; ++i) {
      const float s = a[(r + i) * a_row + k * a_col];
      for (int v = 0; v < NV; ++v) acc[i][v] += s * bk[v];
    }
  }
  for (int i = 0; i < RB; ++i) store(acc[i], n, y + (r + i) * y_row);
}

template <int NV>
void product_group(long rows, long depth, const float* a, long a_row, long a_col, const Lanes* b, long stride, long n,
                   float* y, long y_row) {
  constexpr int kBlock = NV <= 3 ? 4 : (NV == 4 ? 3 : 2);  // RB NV accumulators fit in 16 registers
  long r = 0;
  for (; r + kBlock <= rows; r += kBlock) product_rows<NV, kBlock>(r, depth, a, a_row, a_col, b, stride, n, y, y_row);
  for (; r < rows; ++r) product_rows<NV, 1>(r, depth, a, a_row, a_col, b, stride, n, y, y_row);
}

// Y (rows x n) = A B, B padded to `stride` = vectors(n) vectors per row.
void product(long rows, long depth, const float* a, long a_row, long a_col, const Lanes* b, long n, float* y,
             long y_row) {
  const long stride = vectors(n);
  for (long g = 0; g < stride; g += kGroup) {
    const long width = std::min(n - g * kLanes, kGroup * kLanes);
    switch (std::min(kGroup, stride - g)) {
      case 1:
        product_group<1>(rows, depth, a, a_row, a_col, b + g, stride, width, y + g * kLanes, y_row);
        break;
      case 2:
        product_group<2>(rows, depth, a, a_row, a_col, b + g, stride, width, y + g * kLanes, y_row);
        break;
      case 3:
        product_group<3>(rows, depth, a, a_row, a_col, b + g, stride, width, y + g * kLanes, y_row);
        break;
      case 4:
        product_group<4>(rows, depth, a, a_row, a_col, b + g, stride, width, y + g * kLanes, y_row);
        break;
      case 5:
        product_group<5>(rows, depth, a, a_row, a_col, b + g, stride, width, y + g * kLanes, y_row);
        break;
      default:
        product_group<6>(rows, depth, a, a_row, a_col, b + g, stride, width, y + g * kLanes, y_row);
        break;
    }
  }
}

// The padded copy of a (rows x n) matrix whose entry (i, j) is m[i m_row + j m_col].
void pad(long rows, long n, const float* m, long m_row, long m_col, std::vector<Lanes>& out) {
  const long stride = vectors(n);
  out.resize(static_cast<std::size_t>(rows * stride));
  for (long i = 0; i < rows; ++i) {
    Lanes* row = out.data() + i * stride;
    for (long v = 0; v < stride; ++v) {
      Lanes lanes{};
      for (long t = 0; t < kLanes; ++t)
        if (v * kLanes + t < n) lanes[t] = m[i * m_row + (v * kLanes + t) * m_col];
      row[v] = lanes;
    }
  }
}

}  // namespace

std::vector<std::vector<long>> chunks_of_members(const Chunks& layout, long members) {
  std::vector<std::vector<long>> out(static_cast<std::size_t>(members));
  for (long c = 0; c < layout.chunks; ++c) out[static_cast<std::size_t>(layout.owner[c])].push_back(c);
  return out;
}

void dense_forward(const Chunks& layout, const float* x, long in, const float* weight, const float* bias, long out,
                   float* y, long begin, long end) {
  std::vector<Lanes> transposed;  // W^T (in x out), padded
  long member = -1;
  for (long c = begin; c < end; ++c) {
    const long m = layout.owner[c];
    if (m != member) pad(in, out, weight + m * out * in, 1, in, transposed);
    member = m;
    const long first = c * layout.rows;
    product(layout.rows, in, x + first * in, in, 1, transposed.data(), out, y + first * out, out);
    if (bias != nullptr)
      for (long r = first; r < first + layout.rows; ++r) axpy(out, 1.0f, bias + m * out, y + r * out);
  }
}

void dense_backward_input(const Chunks& layout, const float* g, const float* weight, long in, long out, float* dx,
                          long begin, long end) {
  std::vector<Lanes> padded;  // W (out x in), padded
  long member = -1;
  for (long c = begin; c < end; ++c) {
    const long m = layout.owner[c];
    if (m != member) pad(out, in, weight + m * out * in, in, 1, padded);
    member = m;
    const long first = c * layout.rows;
    product(layout.rows, out, g + first * out, out, 1, padded.data(), in, dx + first * in, in);
  }
}

void dense_backward_parameters(const std::vector<std::vector<long>>& member_chunks, long rows, const float* x, long in,
                               const float* g, long out, float* dweight, float* dbias, long begin, long end) {
  std::vector<Lanes> padded;  // the chunk's x (rows x in), padded
  std::vector<float> partial(static_cast<std::size_t>(out * in)), partial_bias(static_cast<std::size_t>(out));
  for (long m = begin; m < end; ++m) {
    float* dw = dweight + m * out * in;
    std::fill_n(dw, out * in, 0.0f);
    if (dbias != nullptr) std::fill_n(dbias + m * out, out, 0.0f);
    for (long c : member_chunks[static_cast<std::size_t>(m)]) {
      const long first = c * rows;
      // The chunk's g^T x (out x in): row o is sum_r g[r, o] x[r, :], in row order.
      pad(rows, in, x + first * in, in, 1, padded);
      product(out, rows, g + first * out, 1, out, padded.data(), in, partial.data(), in);
      axpy(out * in, 1.0f, partial.data(), dw);
      if (dbias == nullptr) continue;
      std::fill(partial_bias.begin(), partial_bias.end(), 0.0f);
      for (long r = first; r < first + rows; ++r) axpy(out, 1.0f, g + r * out, partial_bias.data());
      axpy(out, 1.0f, partial_bias.data(), dbias + m * out);
    }
  }
}

void layer_norm_forward(const Chunks& layout, const float* x, long width, const float* weight, const float* bias,
                        double epsilon, float* y, float* xhat, float* rstd, long begin, long end) {
  const double n = static_cast<double>(width);
  for (long c = begin; c < end; ++c) {
    const float* w = weight + layout.owner[c] * width;
    const float* b = bias + layout.owner[c] * width;
    for (long r = c * layout.rows; r < (c + 1) * layout.rows; ++r) {
      const float* xr = x + r * width;
      double mean = 0.0;
      for (long j = 0; j < width; ++j) mean += xr[j];
      mean /= n;
      double variance = 0.0;
      for (long j = 0; j < width; ++j) variance += (xr[j] - mean) * (xr[j] - mean);
      const double inverse = 1.0 / std::sqrt(variance / n + epsilon);
      rstd[r] = static_cast<float>(inverse);
      float* hr = xhat + r * width;
      float* yr = y + r * width;
      for (long j = 0; j < width; ++j) {
        hr[j] = static_cast<float>((xr[j] - mean) * inverse);
        yr[j] = hr[j] * w[j] + b[j];
      }
    }
  }
}

void layer_norm_backward_input(const Chunks& layout, const float* g, const float* xhat, const float* rstd, long width,
                               const float* weight, float* dx, long begin, long end) {
  const double n = static_cast<double>(width);
  for (long c = begin; c < end; ++c) {
    const float* w = weight + layout.owner[c] * width;
    for (long r = c * layout.rows; r < (c + 1) * layout.rows; ++r) {
      const float* gr = g + r * width;
      const float* hr = xhat + r * width;
      double mean_g = 0.0, mean_gh = 0.0;
      for (long j = 0; j < width; ++j) {
        const double gw = static_cast<double>(gr[j]) * w[j];
        mean_g += gw;
        mean_gh += gw * hr[j];
      }
      mean_g /= n;
      mean_gh /= n;
      float* dxr = dx + r * width;
      for (long j = 0; j < width; ++j)
        dxr[j] = static_cast<float>(rstd[r] * (static_cast<double>(gr[j]) * w[j] - mean_g - hr[j] * mean_gh));
    }
  }
}

void layer_norm_backward_parameters(const std::vector<std::vector<long>>& member_chunks, long rows, const float* g,
                                    const float* xhat, long width, float* dweight, float* dbias, long begin, long end) {
  std::vector<float> partial_w(static_cast<std::size_t>(width)), partial_b(static_cast<std::size_t>(width));
  for (long m = begin; m < end; ++m) {
    float* dw = dweight + m * width;
    float* db = dbias + m * width;
    std::fill_n(dw, width, 0.0f);
    std::fill_n(db, width, 0.0f);
    for (long c : member_chunks[static_cast<std::size_t>(m)]) {
      std::fill(partial_w.begin(), partial_w.end(), 0.0f);
      std::fill(partial_b.begin(), partial_b.end(), 0.0f);
      for (long r = c * rows; r < (c + 1) * rows; ++r) {
        const float* gr = g + r * width;
        const float* hr = xhat + r * width;
        for (long j = 0; j < width; ++j) partial_w[static_cast<std::size_t>(j)] += gr[j] * hr[j];
        axpy(width, 1.0f, gr, partial_b.data());
      }
      axpy(width, 1.0f, partial_w.data(), dw);
      axpy(width, 1.0f, partial_b.data(), db);
    }
  }
}

namespace {

// The last key query row i sees, and the token it stands for.
inline long last_key(const Attention& a, long i) {
  if (!a.softmax) return a.tokens - 1;  // linear attention: every pair
  return a.queries == a.tokens ? i : a.tokens - 1;
}

}  // namespace

void attention_forward(const Attention& a, const float* q, const float* k, const float* v, float* out,
                       float* probabilities, long begin, long end) {
  const long h = a.h, queries = a.queries, tokens = a.tokens;
  std::vector<Lanes> keys, values;  // k^T (h x tokens) and v (tokens x h), padded
  for (long n = begin; n < end; ++n) {
    pad(h, tokens, k + n * tokens * h, 1, h, keys);
    pad(tokens, h, v + n * tokens * h, h, 1, values);
    float* p = probabilities + n * queries * tokens;
    product(queries, h, q + n * queries * h, h, 1, keys.data(), tokens, p, tokens);
    for (long i = 0; i < queries; ++i) {
      float* row = p + i * tokens;
      const long last = last_key(a, i);
      for (long j = 0; j <= last; ++j) row[j] *= a.scale;
      std::fill(row + last + 1, row + tokens, 0.0f);
      if (!a.softmax) continue;
      const float most = *std::max_element(row, row + last + 1);
      float sum = 0.0f;
      for (long j = 0; j <= last; ++j) {
        row[j] = std::exp(row[j] - most);
        sum += row[j];
      }
      for (long j = 0; j <= last; ++j) row[j] /= sum;
    }
    // out = P v; a masked key's P is 0, which adds exactly 0.
    product(queries, tokens, p, tokens, 1, values.data(), h, out + n * queries * h, h);
  }
}

void attention_backward(const Attention& a, const float* q, const float* k, const float* v, const float* probabilities,
                        const float* dout, float* dq, float* dk, float* dv, long begin, long end) {
  const long h = a.h, queries = a.queries, tokens = a.tokens;
  std::vector<Lanes> values_t, keys, query_rows, grads;  // v^T, k, q and dout, padded
  std::vector<float> ds(static_cast<std::size_t>(queries * tokens));
  for (long n = begin; n < end; ++n) {
    const float* qn = q + n * queries * h;
    const float* gn = dout + n * queries * h;
    const float* p = probabilities + n * queries * tokens;
    pad(h, tokens, v + n * tokens * h, 1, h, values_t);
    pad(tokens, h, k + n * tokens * h, h, 1, keys);
    pad(queries, h, qn, h, 1, query_rows);
    pad(queries, h, gn, h, 1, grads);
    // dP = dout v^T; dv = P^T dout.
    product(queries, h, gn, h, 1, values_t.data(), tokens, ds.data(), tokens);
    product(tokens, queries, p, 1, tokens, grads.data(), h, dv + n * tokens * h, h);
    for (long i = 0; i < queries; ++i) {
      float* row = ds.data() + i * tokens;
      const float* pi = p + i * tokens;
      const long last = last_key(a, i);
      std::fill(row + last + 1, row + tokens, 0.0f);
      if (a.softmax) {  // through the softmax: ds_j = P_j (dP_j - sum_l P_l dP_l)
        float weighted = 0.0f;
        for (long j = 0; j <= last; ++j) weighted += pi[j] * row[j];
        for (long j = 0; j <= last; ++j) row[j] = pi[j] * (row[j] - weighted);
      }
      for (long j = 0; j <= last; ++j) row[j] *= a.scale;
    }
    // dq = dS k; dk = dS^T q.
    product(queries, tokens, ds.data(), tokens, 1, keys.data(), h, dq + n * queries * h, h);
    product(tokens, queries, ds.data(), 1, tokens, query_rows.data(), h, dk + n * tokens * h, h);
  }
}

}  // namespace iclab::nn::kernels

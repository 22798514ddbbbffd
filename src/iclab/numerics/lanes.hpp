// Arithmetic written once for a double and for a pack of four doubles evaluated in lockstep (SIMD lanes),
// so that a formula has one source and gives the same bits either way: every operation is the same IEEE
// operation lane by lane (+ - * / and sqrt are correctly rounded; no reassociation, and the translation
// units that use this header are compiled without FMA contraction, src/CMakeLists.txt). Branches become
// selects; `pick` evaluates only the chosen side for a double, both sides for a pack.
//
// The pack is four doubles in GCC's vector extension (also Clang's): two SSE2 registers on baseline x86-64,
// so two independent chains of divisions and square roots fill the pipeline. Not libstdc++'s
// std::experimental::simd: its four-lane fixed_size type keeps masks as bitsets, and the conversions at
// every select made the lockstep Newton solve slower than the scalar one (0.7x, measured); its native
// type has two lanes on baseline x86-64 (1.3x).
#pragma once

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace iclab::lanes {

inline constexpr int kPackWidth = 4;

// Two halves of two lanes each: GCC's 16-byte vectors, one SSE2 (or NEON) register each. (A 32-byte
// vector type on baseline x86-64 was lowered through the stack, with store-forwarding stalls.)
using Half = double __attribute__((vector_size(16)));
using HalfBits = long long __attribute__((vector_size(16)));

// A mask: all bits set in a true lane (what the vector comparisons produce).
struct PackMask {
  HalfBits low, high;
  explicit PackMask(bool value = false) : low(HalfBits{} + (value ? -1LL : 0LL)), high(low) {}
  PackMask(HalfBits l, HalfBits h) : low(l), high(h) {}
  bool operator[](int i) const { return (i < 2 ? low[i] : high[i - 2]) != 0; }
};

struct Pack {
  Half low, high;
  Pack() : low(Half{}), high(Half{}) {}
  Pack(double value) : low(Half{} + value), high(low) {}  // NOLINT: a double broadcasts, as it mixes with a pack
  Pack(Half l, Half h) : low(l), high(h) {}
  template <class Generator>
  requires std::is_invocable_r_v<double, Generator, int>
  explicit Pack(Generator lane_value)
      : low(Half{lane_value(0), lane_value(1)}), high(Half{lane_value(2), lane_value(3)}) {}
  double operator[](int i) const { return i < 2 ? low[i] : high[i - 2]; }
  void set(int i, double value) {
    if (i < 2) {
      low[i] = value;
    } else {
      high[i - 2] = value;
    }
  }
};

inline Pack operator+(const Pack& a, const Pack& b) { return {a.low + b.low, a.high + b.high}; }
inline Pack operator-(const Pack& a, const Pack& b) { return {a.low - b.low, a.high - b.high}; }
inline Pack operator*(const Pack& a, const Pack& b) { return {a.low * b.low, a.high * b.high}; }
inline Pack operator/(const Pack& a, const Pack& b) { return {a.low / b.low, a.high / b.high}; }
inline PackMask operator<(const Pack& a, const Pack& b) { return {a.low < b.low, a.high < b.high}; }
inline PackMask operator<=(const Pack& a, const Pack& b) { return {a.low <= b.low, a.high <= b.high}; }
inline PackMask operator>(const Pack& a, const Pack& b) { return {a.low > b.low, a.high > b.high}; }
inline PackMask operator>=(const Pack& a, const Pack& b) { return {a.low >= b.low, a.high >= b.high}; }
inline PackMask operator==(const Pack& a, const Pack& b) { return {a.low == b.low, a.high == b.high}; }
inline PackMask operator&&(const PackMask& a, const PackMask& b) { return {a.low & b.low, a.high & b.high}; }
inline PackMask operator||(const PackMask& a, const PackMask& b) { return {a.low | b.low, a.high | b.high}; }
inline PackMask operator!(const PackMask& a) { return {~a.low, ~a.high}; }

// --- the operations, for a double ----------------------------------------------------------------------
inline double select(bool m, double a, double b) { return m ? a : b; }
inline bool any(bool m) { return m; }
inline bool all(bool m) { return m; }
inline double lane(double x, int) { return x; }
inline void set_lane(double& x, int, double value) { x = value; }
using std::fabs;
using std::sqrt;

// --- and for a pack ----------------------------------------------------------------------------------------
inline Pack select(const PackMask& m, const Pack& a, const Pack& b) {
  return {m.low ? a.low : b.low, m.high ? a.high : b.high};
}
inline bool any(const PackMask& m) {
  const HalfBits either = m.low | m.high;
  return (either[0] | either[1]) != 0;
}
inline bool all(const PackMask& m) {
  const HalfBits both = m.low & m.high;
  return (both[0] & both[1]) != 0;
}
inline double lane(const Pack& x, int i) { return x[i]; }
inline void set_lane(Pack& x, int i, double value) { x.set(i, value); }
inline Pack fabs(const Pack& x) {
  const HalfBits magnitude = HalfBits{} + std::numeric_limits<long long>::max();  // all bits but the sign
  HalfBits low, high;
  std::memcpy(&low, &x.low, sizeof low);
  std::memcpy(&high, &x.high, sizeof high);
  low &= magnitude;
  high &= magnitude;
  Pack r;
  std::memcpy(&r.low, &low, sizeof low);
  std::memcpy(&r.high, &high, sizeof high);
  return r;
}
inline Half sqrt(const Half& x) {
#if defined(__SSE2__)
  return _mm_sqrt_pd(x);
#else
  return Half{std::sqrt(x[0]), std::sqrt(x[1])};
#endif
}
inline Pack sqrt(const Pack& x) { return {sqrt(x.low), sqrt(x.high)}; }

template <class V>
inline constexpr int width = std::is_same_v<V, Pack> ? kPackWidth : 1;

template <class V>
using MaskOf = std::conditional_t<std::is_same_v<V, Pack>, PackMask, bool>;

// The value of `then()` where m holds, else of `otherwise()`: one of them for a double, and for a pack
// whose lanes agree; both for a pack whose lanes differ (the unused lanes may hold inf or NaN, which the
// select discards).
template <class M, class Then, class Otherwise>
auto pick(const M& m, Then then, Otherwise otherwise) {
  if constexpr (std::is_same_v<M, bool>) {
    return m ? then() : otherwise();
  } else {
    if (all(m)) return then();
    if (!any(m)) return otherwise();
    return select(m, then(), otherwise());
  }
}

// std::max and std::min lane by lane, with their exact semantics: max(a, b) = a < b ? b : a and
// min(a, b) = b < a ? b : a (so a NaN in the second argument is passed over as std's are).
template <class V>
V max(const V& a, const V& b) {
  return select(a < b, b, a);
}
template <class V>
V min(const V& a, const V& b) {
  return select(b < a, b, a);
}

}  // namespace iclab::lanes

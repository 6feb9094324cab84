#include "datasets/elastic.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

// The loops below are written so the compiler vectorises them; on x86-64 each hot function is
// also compiled for AVX2 and AVX-512 and picked at load time (same results: integer arithmetic).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define RFX_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define RFX_MULTIVERSION
#endif

namespace rfx::data::detail {
namespace {

inline uint32_t Hash32(uint32_t lo, uint32_t hi, uint32_t i) {
  uint32_t x = i * 0x9E3779B1u + lo;
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x ^= hi;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  x *= 0x27D4EB2Fu;
  x ^= x >> 15;
  return x;
}

// Noise for both axes at once: the low 16 bits of word i go to x, the high 16 to y.
RFX_MULTIVERSION void Noise(uint32_t lo, uint32_t hi, int count, int32_t* __restrict nx,
                            int32_t* __restrict ny) {
  for (int i = 0; i < count; ++i) {
    const uint32_t w = Hash32(lo, hi, static_cast<uint32_t>(i));
    nx[i] = static_cast<int32_t>((w & 0xFFFFu) * 2u) - 65535;
    ny[i] = static_cast<int32_t>((w >> 16) * 2u) - 65535;
  }
}

inline int Reflect101(int i, int n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * n - 2 - i;
  return i;
}

// Vertical running sum of k rows (reflect-101) of `in` into `out`, both n×n.
RFX_MULTIVERSION void BlurColumns(const int32_t* __restrict in, int32_t* __restrict out, int n,
                                  int k) {
  const int h = k / 2;
  int32_t* first = out;
  for (int c = 0; c < n; ++c) first[c] = 0;
  for (int t = -h; t <= h; ++t) {
    const int32_t* src = in + static_cast<size_t>(Reflect101(t, n)) * n;
    for (int c = 0; c < n; ++c) first[c] += src[c];
  }
  for (int r = 1; r < n; ++r) {
    const int32_t* prev = out + static_cast<size_t>(r - 1) * n;
    const int32_t* add = in + static_cast<size_t>(Reflect101(r + h, n)) * n;
    const int32_t* sub = in + static_cast<size_t>(Reflect101(r - 1 - h, n)) * n;
    int32_t* dst = out + static_cast<size_t>(r) * n;
    for (int c = 0; c < n; ++c) dst[c] = prev[c] + add[c] - sub[c];
  }
}

// Horizontal k-tap sum (reflect-101) of every row of `in` into `out`; returns max |out|.
// `pad` holds n + k - 1 values.
RFX_MULTIVERSION int32_t BlurRowsMaxAbs(const int32_t* __restrict in, int32_t* __restrict out,
                                        int n, int k, int32_t* __restrict pad) {
  const int h = k / 2;
  int32_t best = 0;
  for (int r = 0; r < n; ++r) {
    const int32_t* src = in + static_cast<size_t>(r) * n;
    int32_t* dst = out + static_cast<size_t>(r) * n;
    for (int t = 0; t < h; ++t) {
      pad[t] = src[Reflect101(t - h, n)];
      pad[n + h + t] = src[Reflect101(n + t, n)];
    }
    for (int c = 0; c < n; ++c) pad[h + c] = src[c];
    if (k == 5) {  // the default, unrolled
      for (int c = 0; c < n; ++c)
        dst[c] = pad[c] + pad[c + 1] + pad[c + 2] + pad[c + 3] + pad[c + 4];
    } else {
      for (int c = 0; c < n; ++c) dst[c] = pad[c];
      for (int t = 1; t < k; ++t) {
        for (int c = 0; c < n; ++c) dst[c] += pad[c + t];
      }
    }
    int32_t m = 0;
    for (int c = 0; c < n; ++c) {
      const int32_t v = dst[c] < 0 ? -dst[c] : dst[c];
      m = v > m ? v : m;
    }
    best = std::max(best, m);
  }
  return best;
}

// Per-thread scratch for the unblurred noise.
struct Scratch {
  std::vector<int32_t> nx, ny, tmp, pad;
};

}  // namespace

uint32_t HashWord(uint64_t key, uint32_t i) {
  return Hash32(static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32), i);
}

void MakeRawField(uint64_t key, int n, int kernel, RawField* field) {
  static thread_local Scratch s;
  const size_t cells = static_cast<size_t>(n) * n;
  s.nx.resize(cells);
  s.ny.resize(cells);
  s.tmp.resize(cells);
  s.pad.resize(static_cast<size_t>(n + kernel));
  field->n = n;
  field->x.resize(cells);
  field->y.resize(cells);
  Noise(static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32), static_cast<int>(cells),
        s.nx.data(), s.ny.data());
  BlurColumns(s.nx.data(), s.tmp.data(), n, kernel);
  field->max_abs_x =
      std::max<int32_t>(1, BlurRowsMaxAbs(s.tmp.data(), field->x.data(), n, kernel, s.pad.data()));
  BlurColumns(s.ny.data(), s.tmp.data(), n, kernel);
  field->max_abs_y =
      std::max<int32_t>(1, BlurRowsMaxAbs(s.tmp.data(), field->y.data(), n, kernel, s.pad.data()));
}

Displacement MakeDisplacement(uint64_t key, int n, int kernel, double amplitude) {
  RawField raw;
  MakeRawField(key, n, kernel, &raw);
  Displacement d;
  d.n = n;
  d.dx.resize(raw.x.size());
  d.dy.resize(raw.y.size());
  const float sx = static_cast<float>(amplitude / raw.max_abs_x);
  const float sy = static_cast<float>(amplitude / raw.max_abs_y);
  for (size_t i = 0; i < raw.x.size(); ++i) {
    d.dx[i] = static_cast<float>(raw.x[i]) * sx;
    d.dy[i] = static_cast<float>(raw.y[i]) * sy;
  }
  return d;
}

void AddCubicSamples(const PaddedImage& src, double ox, double oy, const RawField* field, int gx,
                     int gy, float scale_x, float scale_y, const Box& box, float* out, int out_w) {
  const float* base = src.data.data() + static_cast<size_t>(src.pad) * src.stride + src.pad;
  const int stride = src.stride;
  // Source positions are kept within [-pad + 1, w + pad - 3] so all 16 taps are in the buffer.
  const float lo_x = -src.pad + 1.0f, hi_x = src.w + src.pad - 3.0f;
  const float lo_y = -src.pad + 1.0f, hi_y = src.h + src.pad - 3.0f;
  for (int y = box.y0; y < box.y1; ++y) {
    const int32_t* fxr =
        field ? field->x.data() + static_cast<size_t>(y + gy) * field->n + gx : nullptr;
    const int32_t* fyr =
        field ? field->y.data() + static_cast<size_t>(y + gy) * field->n + gx : nullptr;
    float* dst = out + static_cast<size_t>(y) * out_w;
    const float py = static_cast<float>(y + oy);
    for (int x = box.x0; x < box.x1; ++x) {
      float sx = static_cast<float>(x + ox), sy = py;
      if (field) {
        sx += static_cast<float>(fxr[x]) * scale_x;
        sy += static_cast<float>(fyr[x]) * scale_y;
      }
      sx = std::min(std::max(sx, lo_x), hi_x);
      sy = std::min(std::max(sy, lo_y), hi_y);
      const float fx = std::floor(sx), fy = std::floor(sy);
      const int ix = static_cast<int>(fx), iy = static_cast<int>(fy);
      float wx[4], wy[4];
      CubicWeights(sx - fx, wx);
      CubicWeights(sy - fy, wy);
      const float* p = base + static_cast<ptrdiff_t>(iy - 1) * stride + (ix - 1);
      float acc = 0.0f;
      for (int j = 0; j < 4; ++j, p += stride) {
        acc += wy[j] * (wx[0] * p[0] + wx[1] * p[1] + wx[2] * p[2] + wx[3] * p[3]);
      }
      dst[x] += acc;
    }
  }
}

void ClampBox(const Box& box, float* out, int out_w) {
  for (int y = box.y0; y < box.y1; ++y) {
    float* dst = out + static_cast<size_t>(y) * out_w;
    for (int x = box.x0; x < box.x1; ++x) dst[x] = std::min(std::max(dst[x], 0.0f), 1.0f);
  }
}

}  // namespace rfx::data::detail

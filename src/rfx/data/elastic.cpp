#include "rfx/data/elastic.h"

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

// A counter-based generator: MurmurHash3's 32-bit finaliser over a keyed Weyl sequence, with the
// key's high half mixed in between the rounds (two multiplies per word; vectorises).
inline uint32_t Hash32(uint32_t lo, uint32_t hi, uint32_t i) {
  uint32_t x = i * 0x9E3779B1u + lo;
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= (x >> 13) ^ hi;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  return x;
}

inline int Reflect101(int i, int n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * n - 2 - i;
  return i;
}

// Noise row `r` of both axes from words r*W .. r*W + W - 1 (W = ceil(n/2)) taken as a stream of
// bytes (memory order): bytes [0, n) are x's cells, [n, 2n) y's. Each byte is reduced to `bits`
// bits u and mapped to the odd value 2u - (2^bits - 1). `words` is scratch for W words.
RFX_MULTIVERSION void NoiseRow(uint32_t lo, uint32_t hi, int r, int n, int bits,
                               uint32_t* __restrict words, int16_t* __restrict nx,
                               int16_t* __restrict ny) {
  const int count = (n + 1) / 2;
  const uint32_t base = static_cast<uint32_t>(r) * static_cast<uint32_t>(count);
  for (int c = 0; c < count; ++c) words[c] = Hash32(lo, hi, base + static_cast<uint32_t>(c));
  const uint8_t* __restrict bytes = reinterpret_cast<const uint8_t*>(words);
  const int drop = 8 - bits;
  const int offset = (1 << bits) - 1;
  if (drop == 0) {  // 8 bits (kernels up to 11): a plain widening
    for (int i = 0; i < n; ++i) nx[i] = static_cast<int16_t>(2 * bytes[i] - 255);
    for (int i = 0; i < n; ++i) ny[i] = static_cast<int16_t>(2 * bytes[n + i] - 255);
    return;
  }
  for (int i = 0; i < n; ++i) nx[i] = static_cast<int16_t>(2 * (bytes[i] >> drop) - offset);
  for (int i = 0; i < n; ++i) ny[i] = static_cast<int16_t>(2 * (bytes[n + i] >> drop) - offset);
}

// dst = prev + add - sub over a row (the vertical running sum; exact modulo 2^16 and the final
// sums fit, so wrap-around of intermediate values is harmless).
RFX_MULTIVERSION void SlideRow(int16_t* __restrict dst, const int16_t* __restrict prev,
                               const int16_t* __restrict add, const int16_t* __restrict sub,
                               int n) {
  for (int c = 0; c < n; ++c) {
    dst[c] = static_cast<int16_t>(static_cast<uint16_t>(prev[c]) + static_cast<uint16_t>(add[c]) -
                                  static_cast<uint16_t>(sub[c]));
  }
}

RFX_MULTIVERSION void AddRow(int16_t* __restrict v, const int16_t* __restrict add, int n) {
  for (int c = 0; c < n; ++c) {
    v[c] = static_cast<int16_t>(static_cast<uint16_t>(v[c]) + static_cast<uint16_t>(add[c]));
  }
}

// out[i] = v[i - h] + ... + v[i + h] for i in [h, total - h): one pass over the whole padded
// field (rows carry h reflected values on each side, so each row's own values come out right;
// the pads get junk and are cleared by the caller).
RFX_MULTIVERSION void HorizontalSum(const int16_t* __restrict v, int16_t* __restrict out, int total,
                                    int k) {
  const int h = k / 2;
  if (k == 5) {  // the default, unrolled
    for (int i = 2; i < total - 2; ++i) {
      out[i] = static_cast<int16_t>(v[i - 2] + v[i - 1] + v[i] + v[i + 1] + v[i + 2]);
    }
    return;
  }
  for (int i = h; i < total - h; ++i) {
    int sum = 0;
    for (int t = -h; t <= h; ++t) sum += v[i + t];
    out[i] = static_cast<int16_t>(sum);
  }
}

RFX_MULTIVERSION int32_t MaxAbs(const int16_t* __restrict v, int total) {
  int16_t hi = 0, lo = 0;
  for (int i = 0; i < total; ++i) {
    hi = v[i] > hi ? v[i] : hi;
    lo = v[i] < lo ? v[i] : lo;
  }
  return std::max<int32_t>(hi, -static_cast<int32_t>(lo));
}

// Per-thread scratch: the noise of both axes and their vertical sums.
struct Scratch {
  std::vector<int16_t> nx, ny, vx, vy;
  std::vector<uint32_t> words;
};

}  // namespace

uint32_t HashWord(uint64_t key, uint32_t i) {
  return Hash32(static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32), i);
}

int NoiseMax(int kernel) {
  int bits = 8;
  while (bits > 1 && ((1 << bits) - 1) * kernel * kernel > 32767) --bits;
  return (1 << bits) - 1;
}

void MakeRawField(uint64_t key, int n, int kernel, RawField* field) {
  static thread_local Scratch s;
  const int h = kernel / 2, stride = n + 2 * h;
  const size_t cells = static_cast<size_t>(n) * n, padded = static_cast<size_t>(n) * stride;
  int bits = 0;
  while ((1 << bits) - 1 < NoiseMax(kernel)) ++bits;
  s.nx.resize(cells);
  s.ny.resize(cells);
  s.words.resize(static_cast<size_t>(n + 1) / 2);
  s.vx.resize(padded);
  s.vy.resize(padded);
  field->n = n;
  field->stride = stride;
  field->offset = h;
  field->x.resize(padded);
  field->y.resize(padded);
  const uint32_t lo = static_cast<uint32_t>(key), hi = static_cast<uint32_t>(key >> 32);
  auto noise = [n](std::vector<int16_t>& a, int r) {
    return a.data() + static_cast<size_t>(r) * n;
  };
  auto sums = [stride, h](std::vector<int16_t>& a, int r) {
    return a.data() + static_cast<size_t>(r) * stride + h;
  };
  // Noise rows are made just before they are first needed (hot in cache when summed).
  int made = 0;
  auto make_until = [&](int r) {
    for (; made <= std::min(r, n - 1); ++made) {
      NoiseRow(lo, hi, made, n, bits, s.words.data(), noise(s.nx, made), noise(s.ny, made));
    }
  };
  // Vertical running sums (reflect-101), each row then padded with h reflected values per side.
  make_until(h);
  for (auto* v : {&s.vx, &s.vy}) std::fill(sums(*v, 0), sums(*v, 0) + n, int16_t{0});
  for (int t = -h; t <= h; ++t) {
    AddRow(sums(s.vx, 0), noise(s.nx, Reflect101(t, n)), n);
    AddRow(sums(s.vy, 0), noise(s.ny, Reflect101(t, n)), n);
  }
  for (int r = 0; r < n; ++r) {
    if (r > 0) {
      make_until(r + h + 2);  // ahead: rows just stored would stall the loads below
      const int add = Reflect101(r + h, n), sub = Reflect101(r - 1 - h, n);
      SlideRow(sums(s.vx, r), sums(s.vx, r - 1), noise(s.nx, add), noise(s.nx, sub), n);
      SlideRow(sums(s.vy, r), sums(s.vy, r - 1), noise(s.ny, add), noise(s.ny, sub), n);
    }
  }
  // Pads (after the loop: reading back values just stored by vector stores would stall).
  for (auto* v : {&s.vx, &s.vy}) {
    for (int r = 0; r < n; ++r) {
      int16_t* row = sums(*v, r);
      for (int j = 1; j <= h; ++j) row[-j] = row[j], row[n - 1 + j] = row[n - 1 - j];
    }
  }
  // Horizontal sums over the whole padded field, pads cleared, then the extremes.
  const int total = static_cast<int>(padded);
  HorizontalSum(s.vx.data(), field->x.data(), total, kernel);
  HorizontalSum(s.vy.data(), field->y.data(), total, kernel);
  for (auto* f : {&field->x, &field->y}) {
    for (int r = 0; r < n; ++r) {
      int16_t* row = f->data() + static_cast<size_t>(r) * stride;
      for (int j = 0; j < h; ++j) row[j] = 0, row[h + n + j] = 0;
    }
  }
  field->max_abs_x = std::max<int32_t>(1, MaxAbs(field->x.data(), total));
  field->max_abs_y = std::max<int32_t>(1, MaxAbs(field->y.data(), total));
}

Displacement MakeDisplacement(uint64_t key, int n, int kernel, double amplitude) {
  RawField raw;
  MakeRawField(key, n, kernel, &raw);
  Displacement d;
  d.n = n;
  d.dx.resize(static_cast<size_t>(n) * n);
  d.dy.resize(static_cast<size_t>(n) * n);
  const float sx = static_cast<float>(amplitude / raw.max_abs_x);
  const float sy = static_cast<float>(amplitude / raw.max_abs_y);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) {
      d.dx[static_cast<size_t>(r) * n + c] = static_cast<float>(raw.X(r, c)) * sx;
      d.dy[static_cast<size_t>(r) * n + c] = static_cast<float>(raw.Y(r, c)) * sy;
    }
  }
  return d;
}

RFX_MULTIVERSION void AddCubicSamples(const PaddedImage& src, double ox, double oy,
                                      const RawField* field, int gx, int gy, float scale_x,
                                      float scale_y, const Box& box, float* out, int out_w) {
  const float* base = src.data.data() + static_cast<size_t>(src.pad) * src.stride + src.pad;
  const int stride = src.stride;
  // Source positions are kept within [-pad + 1, w + pad - 3] so all 16 taps are in the buffer.
  const float lo_x = -src.pad + 1.0f, hi_x = src.w + src.pad - 3.0f;
  const float lo_y = -src.pad + 1.0f, hi_y = src.h + src.pad - 3.0f;
  // floor(v) as int for v > -kBias, without a libm call.
  constexpr float kBias = 4096.0f;
  constexpr int kMaxRun = 64;
  float sx[kMaxRun], sy[kMaxRun], wx[4][kMaxRun], wy[4][kMaxRun];
  int idx[kMaxRun];
  for (int y = box.y0; y < box.y1; ++y) {
    const int16_t* fxr =
        field ? &field->x[static_cast<size_t>(y + gy) * field->stride + field->offset + gx]
              : nullptr;
    const int16_t* fyr =
        field ? &field->y[static_cast<size_t>(y + gy) * field->stride + field->offset + gx]
              : nullptr;
    float* dst = out + static_cast<size_t>(y) * out_w;
    const float py = static_cast<float>(y + oy), fox = static_cast<float>(ox);
    for (int x0 = box.x0; x0 < box.x1; x0 += kMaxRun) {
      const int len = std::min(kMaxRun, box.x1 - x0);
      // Positions, integer parts and weights for the run (vectorisable).
      for (int i = 0; i < len; ++i) {
        const int x = x0 + i;
        float px = static_cast<float>(x) + fox, qy = py;
        if (field) {
          px += static_cast<float>(fxr[x]) * scale_x;
          qy += static_cast<float>(fyr[x]) * scale_y;
        }
        px = std::min(std::max(px, lo_x), hi_x);
        qy = std::min(std::max(qy, lo_y), hi_y);
        const int ix = static_cast<int>(px + kBias) - static_cast<int>(kBias);
        const int iy = static_cast<int>(qy + kBias) - static_cast<int>(kBias);
        sx[i] = px - static_cast<float>(ix);
        sy[i] = qy - static_cast<float>(iy);
        idx[i] = (iy - 1) * stride + (ix - 1);
      }
      for (int i = 0; i < len; ++i) {
        constexpr float A = -0.75f;
        const float t = sx[i], t1 = t + 1.0f, u = 1.0f - t;
        wx[0][i] = ((A * t1 - 5.0f * A) * t1 + 8.0f * A) * t1 - 4.0f * A;
        wx[1][i] = ((A + 2.0f) * t - (A + 3.0f)) * t * t + 1.0f;
        wx[2][i] = ((A + 2.0f) * u - (A + 3.0f)) * u * u + 1.0f;
        wx[3][i] = 1.0f - wx[0][i] - wx[1][i] - wx[2][i];
        const float v = sy[i], v1 = v + 1.0f, w = 1.0f - v;
        wy[0][i] = ((A * v1 - 5.0f * A) * v1 + 8.0f * A) * v1 - 4.0f * A;
        wy[1][i] = ((A + 2.0f) * v - (A + 3.0f)) * v * v + 1.0f;
        wy[2][i] = ((A + 2.0f) * w - (A + 3.0f)) * w * w + 1.0f;
        wy[3][i] = 1.0f - wy[0][i] - wy[1][i] - wy[2][i];
      }
      // The 16 taps (gathers).
      for (int i = 0; i < len; ++i) {
        const float* p = base + idx[i];
        float acc = 0.0f;
        for (int j = 0; j < 4; ++j) {
          const float* q = p + j * stride;
          acc += wy[j][i] * (wx[0][i] * q[0] + wx[1][i] * q[1] + wx[2][i] * q[2] + wx[3][i] * q[3]);
        }
        dst[x0 + i] += acc;
      }
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

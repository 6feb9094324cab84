// Initialisation schemes (docs/design.md#initialisations), applied to a built net, seeded: the same
// (net, options, seed) gives the same weights on every run and device (values are drawn on the CPU
// from a private generator, then copied into the parameters; the global torch RNG is not touched).
#pragma once
#include <ATen/ATen.h>
#include <c10/core/ScalarType.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/nn/net.h"

namespace rfx::nn {

// init.scheme: the schemes, described at InitNet below.
enum class InitScheme { kXavier, kConstant, kShifted, kDecomposed, kCircular, kCircular2 };

inline constexpr std::array<InitScheme, 6> kInitSchemes = {
    InitScheme::kXavier,     InitScheme::kConstant, InitScheme::kShifted,
    InitScheme::kDecomposed, InitScheme::kCircular, InitScheme::kCircular2};

// "xavier", "constant", "shifted", "decomposed", "circular", "circular2".
const char* InitSchemeText(InitScheme scheme);
// The scheme named `text`; a ConfigError for init.scheme naming what is allowed otherwise.
InitScheme ParseInitScheme(const std::string& text);

// `init.*` keys.
struct InitOptions {
  InitScheme scheme = InitScheme::kXavier;  // init.scheme (InitSchemeText)
  double value = 0.01;                      // init.value: every conv weight under `constant`
  // decomposed: uniform noise of ±this added to each layer's 3×3 kernel (the study: 0.001).
  double decomposed_noise = 0.0;  // init.decomposed_noise
  // decomposed: every kernel times this (the study: 0.9, so the composite is 0.9^N·box).
  double decomposed_scale = 1.0;  // init.decomposed_scale

  void validate() const;
  static InitOptions FromConfig(const Config& config);
};

// Applies `options.scheme` to `net` (an Fcn, FcnResNet50 or LayersNet), seeded by `seed`.
// FcnResNet50 and LayersNet take xavier and constant only (on every conv and transposed conv),
// the other schemes are a ConfigError naming init.scheme.
//
// Every scheme: biases 0; BatchNorm γ = 1, β = 0, running mean 0, running var 1; input-skip
// 1×1 convs 0.9/n_in (their paper value), except where said otherwise below.
//  xavier     conv weights xavier-uniform: U(±sqrt(6/(fan_in + fan_out))), fans = channels·k².
//  constant   every conv weight = value; biases 0; skip weights 0. With a non-negative
//             activation (relu) and a non-negative input nothing is clipped: the net is linear.
//  shifted    fcn only. weights N(0,1)·sqrt(6/(in·k + out·k)) (fans over one kernel row);
//             every row but the top one (rows 2 … k) scaled by 0.01, so each layer mostly pulls
//             from the row above.
//  decomposed fcn only, kernel 3. Layer p (0-based) of N gets, for every (out, in) channel
//             pair, DecomposedKernel(k, N) / n_in with k = DecomposedOrder(N)[p] (n_in = the
//             layer's input channels). With equal input channels each layer then applies
//             exactly its kernel, so the composite of the N layers (no activation:
//             FcnImpl::forward_linear) is the all-ones (2N+1)² box: bounded. Skip weights 0.
//             The N kernels are docs/design.md#initialisations' (k = 1 … N); their order along the
//             depth is interleaved (1, N, 2, N−1, …) because in plain order (1, 2, …, N) the
//             partial products grow like 16^N: float32 is off by 1% at N = 7 and float64 by 1e-7 at
//             N = 10. Interleaved, float64 holds 1e-11 at N = 10 and float32 breaks near N = 12.
//             With decomposed_noise a > 0, each layer's kernel first gets U(±a) noise (one 3×3
//             draw per layer, shared by its channel pairs); every kernel is then multiplied by
//             decomposed_scale: ((K + noise) / n_in)·scale, the study's recipe at a = 0.001,
//             scale = 0.9 (its layer order differs: sorted by |−2cos kφ|, interleaved; the
//             product is the same in exact arithmetic). Defaults 0 and 1: the exact box.
//  circular   fcn only (the study's circular_init). xavier, then, with rays =
//             CircularRaySteps(N): for channel c (ray c mod 16), layer k < N−1 has the tap
//             (K/2 + dy, K/2 + dx) of its kernel [c, c] ([c, 0] for the first layer) set to 0.2,
//             (dx, dy) = rays[c mod 16][k]; the last layer (2 outputs) has its centre taps
//             [o, c] set to 1 for every output o and input c, and no ray tap. Skip weights 0
//             (the study zeroes them; with 0.9/n_in skips and the taps added, rfx's first
//             version, dot trainings started at loss 0.66 instead of xavier's 0.001 and ended
//             at a constant output, accuracy 0.51). Meant for the dot variant, whose dot can
//             be in any direction.
//  circular2  fcn only (the study's "circular init version 2"). Every layer but the last:
//             0.6·xavier; then, for channel c, a second xavier draw's kernel [c, min(c, n_in−1)]
//             is copied into that kernel shifted by one tap along (dx, dy) = rays[c mod 16][k]
//             (tap (y, x) → (y + dy, x + dx); what is shifted out is dropped, the row/column
//             left behind keeps 0.6·xavier; copied, not added, as the study's code does). The
//             last layer plain xavier. Biases 0, skip weights 0.
void InitNet(Net& net, const InitOptions& options, uint64_t seed);

// The decomposed scheme's 3×3 kernel of layer k (1 … n) of n layers, computed in double and
// returned in `dtype`: the outer product of [1, −2cos kφ, 1] with itself, φ = 2π/(2n+1).
at::Tensor DecomposedKernel(int k, int n, c10::ScalarType dtype = at::kDouble);
// The factor k (1 … n) used by layer p = 0 … n−1 under the decomposed scheme: 1, n, 2, n−1, …
std::vector<int> DecomposedOrder(int n);

// The 16 rays of the circular scheme, ray i at angle 2πi/16 (x right, y down), each rasterised
// (DDA along the major axis) into `steps` unit steps (dx, dy) ∈ {−1,0,1}²; the steps of ray i sum
// to CircularRayEnd(i, steps).
struct Step {
  int dx = 0, dy = 0;
};
std::array<std::vector<Step>, 16> CircularRaySteps(int steps);
// End point of ray i after `steps` steps: the point at Chebyshev radius `steps` in the ray's
// direction, rounded (half away from zero).
Step CircularRayEnd(int ray, int steps);

}  // namespace rfx::nn

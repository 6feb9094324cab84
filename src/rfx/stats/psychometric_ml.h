// Internals of FitPsychometric (psychometric.h): the likelihood of pooled trials and its joint
// maximisation. Not an API; only psychometric.cpp includes this.
#pragma once
#include <array>
#include <utility>
#include <vector>

#include "rfx/stats/psychometric.h"

namespace rfx::stats::detail {

constexpr double kMinSlope = 0.25;  // px
enum { kD = 0, kU = 1, kL = 2 };    // parameter order of Deriv: d50, u = log s, λ

// The trials of one depth at one distance.
struct Cell {
  double d = 0;
  int n = 0, k = 0;  // trainings, learned
};

// The trials of one depth, pooled per distance (ascending).
struct Depth {
  double depth = 0, dmin = 0, dmax = 0;
  double lo = 0, hi = 0;  // finite d50 is searched in [lo, hi]
  std::vector<Cell> cells;
  std::vector<double> candidates;  // starts of the global d50 search
  int n = 0, k = 0;
};

// Log-likelihood and derivatives of one depth in (d50, u, λ).
struct Deriv {
  double l = 0;
  double g[3] = {0, 0, 0};   // score
  double h[3][3] = {};       // information (see DepthEval)
  double di[3] = {0, 0, 0};  // ∂h[kD][kD]/∂(d50, u, λ), for the Cox–Reid adjustment
  double od[3] = {0, 0, 0};  // observed −∂²ℓ/∂d50∂(d50, u, λ): how the inner d50 moves
};

// ℓ of one depth at (d50, s, λ); d50 may be ±∞. Adds the derivatives into `out` when given.
// Defined in psychometric.cpp, next to LogLikelihood.
double DepthEval(const Depth& dep, double d50, double s, double lam, Deriv* out);

// Score and information of a small maximisation; `full` keeps the depth's Deriv when it has one.
struct State {
  double g[3] = {0, 0, 0};
  double H[3][3] = {};
  Deriv full;
};

// The joint maximum-likelihood problem. Global parameters G (at most 2): u = log s with a shared
// slope, and λ when lapse_max > 0. Local parameters of depth j: d50 (and u_j with per-depth
// slopes), maximised per depth given G.
class JointFit {
 public:
  JointFit(std::vector<Depth> depths, const PsychometricOptions& options);

  // Maximises the whole (adjusted) likelihood from G and the local state; leaves the state,
  // the per-depth scores and the informations at the returned G.
  double Fit(double* G);
  // Σ_j max ℓ_j (+ adjustment) at G; `cold`: a global search per depth. With g and H: the
  // envelope score and the Schur-complemented information over the free local parameters.
  double Outer(const double* G, double* g, double (*H)[3], bool cold);
  // Profile-likelihood interval of depth j's d50 at the fit Ĝ (state as left by Fit).
  std::pair<double, double> Interval(size_t j, const double* Ghat, double chi2);

  double Slope(size_t j, const double* G) const;
  double Lapse(const double* G) const { return lapse_ ? G[il_] : 0.0; }
  const std::vector<Depth>& depths() const { return dep_; }
  std::vector<double>& d50() { return d50_; }
  std::vector<double>& u() { return u_; }
  int iu() const { return iu_; }  // index of u in G (-1: per-depth slopes)
  int il() const { return il_; }  // index of λ in G (-1: no lapse)
  bool shared() const { return shared_; }
  bool has_lapse() const { return lapse_; }
  double range() const { return range_; }

 private:
  double Inner(size_t j, const double* G, bool cold);
  double Profile(size_t j, double t, const double* Ghat, double* G, double& uj);

  std::vector<Depth> dep_;
  bool shared_, lapse_;
  double range_ = 2, ulo_ = 0, uhi_ = 0;  // range of all distances; bounds of u
  int nglobal_ = 0, iu_ = -1, il_ = -1;
  double glo_[3] = {}, ghi_[3] = {}, gstep_[3] = {1, 1, 1};  // bounds and step caps of G
  std::vector<double> d50_, u_;                              // local state
  State st_;                                                 // of the last Inner
  std::vector<std::array<double, 2>> gj_;                    // per-depth score in G
  std::vector<std::array<std::array<double, 2>, 2>> hj_;     // per-depth information in G
  double gsum_[3] = {}, hsum_[2][2] = {};                    // their sums at the fit
};

}  // namespace rfx::stats::detail

// Probes without training (docs/design.md#forward-pass-estimate, #effective-rf-by-gradient): the
// forward-pass impulse estimate of the field radius, scanned over depths in one incremental pass
// (forward.h), and the gradient effective RF of Luo et al. (2016) of a fresh or trained net
// (gradient.h), with where they read (placement.h), their heatmaps (heatmap_png.h) and the
// benchmark (bench.h): this header brings them all.
#pragma once
#include "rfx/probe/bench.h"
#include "rfx/probe/erf_measures.h"
#include "rfx/probe/forward.h"
#include "rfx/probe/gradient.h"
#include "rfx/probe/heatmap_png.h"
#include "rfx/probe/metrics.h"
#include "rfx/probe/placement.h"

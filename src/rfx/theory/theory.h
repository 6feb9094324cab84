// Analytic receptive fields (docs/design.md#analytic-receptive-fields): the layer graph (graph.h),
// its per-layer, per-axis table (analysis.h), the named nets (nets.h), the layer list
// (layers.h) and the `rfx theory` outputs (formats.h): this header brings them all. Pure
// arithmetic: no torch here.
#pragma once
#include "rfx/theory/analysis.h"
#include "rfx/theory/formats.h"
#include "rfx/theory/graph.h"
#include "rfx/theory/layers.h"
#include "rfx/theory/nets.h"

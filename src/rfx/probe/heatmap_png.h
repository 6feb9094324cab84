// A map as a PNG heatmap (OpenCV).
#pragma once
#include <string>

#include "rfx/probe/metrics.h"

namespace rfx::probe {

// PNG heatmap of a map (normalised to its max, OpenCV's inferno colour map, nearest-neighbour
// enlarged so the short side is at least 256 px).
void WriteHeatmapPng(const Map& map, const std::string& path);

}  // namespace rfx::probe

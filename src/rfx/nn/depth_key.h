// The config key of the fcn's depth, in one place: the nets read it, the probes set it per
// depth, and a sweep chains its threshold searches and fits the field curve along the axis of
// this key. Header-only, so that the sweep and theory name it without linking the nets.
#pragma once

namespace rfx::nn {

inline constexpr char kDepthKey[] = "net.depth";

}  // namespace rfx::nn

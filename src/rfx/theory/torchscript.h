// The layer graph of a TorchScript model (`rfx theory --model FILE.pt`): the module's forward
// graph, inlined, walked node by node. Convolutions (incl. transposed and dilated), pools
// (incl. ceil mode), adaptive pools, interpolation, residual adds and channel concats become
// graph nodes; element-wise ops that don't move a field (activations, batch norm, dropout,
// scalar arithmetic, shape plumbing) are passed through; flatten / view / reshape / linear /
// matmul / means over H, W make the field "sees everything". Any other op that touches the
// field is a UsageError naming the op and the node (module path, value, source line): never a
// silent wrong number. Kept free of torch headers so the CLI includes it cheaply.
#pragma once
#include <cstdint>
#include <string>

#include "rfx/theory/theory.h"

namespace rfx::theory {

// Loads `path` on the CPU (torch.jit.trace or torch.jit.script output) and builds its graph.
// `input` is the input size (H×W); shape-dependent ops (interpolate to a constant size, adaptive
// pools) are resolved at that size. Layer names are module paths ("layer3.1.conv2", a
// parameter-free op inside a block as "layer1.0.add"), else the op and an index.
// A missing or unreadable file: UsageError naming --model.
Graph FromTorchScript(const std::string& path, Axes input);

}  // namespace rfx::theory

// `rfx theory`: its options, the output formats of an analysed table, and the command itself.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rfx/config/config.h"
#include "rfx/theory/analysis.h"
#include "rfx/theory/nets.h"

namespace rfx::theory {

// `rfx theory --format`: the output's form, its text in one place.
enum class TheoryFormat { kTable, kJson, kDot };
const char* TheoryFormatText(TheoryFormat format);
// The format named `text`; UsageError naming --format and what is allowed otherwise.
TheoryFormat ParseTheoryFormat(const std::string& text);

// `rfx theory` options.
struct TheoryOptions {
  std::optional<NamedNet> net;  // --net; unset = from the config (theory.layers if non-empty,
                                // else net.arch)
  std::string model;            // --model: a TorchScript file (exclusive with net and a config)
  Axes input = 0;               // --input: N (N×N) or H×W, each side >= 1
  TheoryFormat format = TheoryFormat::kTable;  // --format table | json | dot
  bool resolution_range = false;  // --resolution-range: also the usable square input sides
  void validate() const;          // throws UsageError naming the flag and what is allowed
};

// Output formats. `range` (may be null) adds the resolution range.
std::string FormatTable(const Table& table, const ResolutionRange* range = nullptr);
// {net, input, rf, stride, output, border, warnings, layers[{name, op, params, inputs, n, r,
// r_min, j, start, unproductive, sees_everything, note}]} (+ resolution_range {min, max}).
// Per-axis values are one number when both axes agree, [h, w] when not.
nlohmann::json ToJson(const Table& table, const ResolutionRange* range = nullptr);
std::string FormatDot(const Table& table, const ResolutionRange* range = nullptr);

// Builds the net, analyses it, formats it.
std::string RunTheory(const TheoryOptions& options, const Config& config);

}  // namespace rfx::theory

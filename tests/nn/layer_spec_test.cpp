#include "rfx/nn/layer_spec.h"

#include <gtest/gtest.h>

#include <string>

namespace rfx::nn {
namespace {

std::vector<LayerSpec> Parse(const std::string& yaml, const std::string& key = "net.layers") {
  return ParseLayerList(YAML::Load(yaml), key);
}

// The ConfigError of parsing `yaml`: its key and text.
std::string ErrorOf(const std::string& yaml, const std::string& key = "net.layers") {
  try {
    Parse(yaml, key);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), key);
    return e.what();
  }
  return "(no error)";
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(LayerSpecTest, EveryKindAndItsDefaults) {
  const auto specs = Parse(
      "[{conv: {out: 8, k: 3, p: same}}, relu, {activation: gelu}, batchnorm, {batchnorm: {}},"
      " {maxpool: {k: 2}}, {pool: {k: 3, s: 2, p: 1, ceil: true}}, {avgpool: {k: [2, 4]}},"
      " {conv_transpose: {out: 4, k: 4, s: 2, p: 1, output_padding: [0, 1]}},"
      " {adaptive_avgpool: {size: [3, 5]}}, {upsample: {to: input, mode: bilinear}},"
      " {upsample: {factor: 4}}, {residual: [{conv: {out: 8, k: 1}}]},"
      " {concat: {body: [tanh], shortcut: [identity], name: skip0}}]");
  ASSERT_EQ(specs.size(), 14u);
  EXPECT_EQ(specs[0].kind, LayerKind::kConv);
  EXPECT_EQ(specs[0].name, "conv1");
  EXPECT_EQ(specs[0].path, "net.layers[0]");
  EXPECT_EQ(specs[0].out, 8);
  EXPECT_EQ(specs[0].k, HW(3));
  EXPECT_EQ(specs[0].s, HW(1));
  EXPECT_EQ(specs[0].p, HW(1));  // same: d(k−1)/2
  EXPECT_EQ(specs[0].d, HW(1));
  EXPECT_EQ(specs[0].groups, 1);
  EXPECT_TRUE(specs[0].bias);
  EXPECT_EQ(specs[1].kind, LayerKind::kActivation);
  EXPECT_EQ(specs[1].activation, Activation::kRelu);
  EXPECT_EQ(specs[1].name, "relu2");
  EXPECT_EQ(specs[2].activation, Activation::kGelu);
  EXPECT_EQ(specs[3].kind, LayerKind::kBatchNorm);
  EXPECT_EQ(specs[4].kind, LayerKind::kBatchNorm);
  EXPECT_EQ(specs[5].kind, LayerKind::kMaxPool);
  EXPECT_EQ(specs[5].s, HW(2));  // a pool's stride defaults to its kernel
  EXPECT_FALSE(specs[5].ceil);
  EXPECT_EQ(specs[6].kind, LayerKind::kMaxPool);
  EXPECT_EQ(specs[6].name, "pool7");
  EXPECT_TRUE(specs[6].ceil);
  EXPECT_EQ(specs[7].kind, LayerKind::kAvgPool);
  EXPECT_EQ(specs[7].k, HW(2, 4));
  EXPECT_EQ(specs[7].s, HW(2, 4));
  EXPECT_EQ(specs[8].kind, LayerKind::kConvTranspose);
  EXPECT_EQ(specs[8].output_padding, HW(0, 1));
  EXPECT_EQ(specs[9].size, HW(3, 5));
  EXPECT_TRUE(specs[10].to_input);
  EXPECT_EQ(specs[10].mode, UpsampleMode::kBilinear);
  EXPECT_DOUBLE_EQ(specs[11].factor, 4);
  EXPECT_EQ(specs[11].mode, UpsampleMode::kNearest);
  EXPECT_EQ(specs[12].kind, LayerKind::kResidual);
  ASSERT_EQ(specs[12].body.size(), 1u);
  EXPECT_TRUE(specs[12].shortcut.empty());
  EXPECT_EQ(specs[12].body[0].name, "conv14");  // numbered in order, nested items included
  EXPECT_EQ(specs[12].body[0].path, "net.layers[12].residual[0]");
  EXPECT_EQ(specs[13].kind, LayerKind::kConcat);
  EXPECT_EQ(specs[13].name, "skip0");
  EXPECT_EQ(specs[13].shortcut[0].activation, Activation::kIdentity);
  EXPECT_EQ(specs[13].shortcut[0].path, "net.layers[13].concat.shortcut[0]");
  EXPECT_EQ(CountConvs(specs), 3);  // conv1, conv_transpose9, conv14
  // The text of every kind is its key in the list.
  for (const auto& s : specs) {
    if (s.kind != LayerKind::kActivation && s.kind != LayerKind::kMaxPool && s.name != "skip0") {
      EXPECT_EQ(s.name.rfind(LayerKindText(s.kind), 0), 0u) << s.name;
    }
  }
}

TEST(LayerSpecTest, SamePaddingIsPerAxisAndHonoursDilation) {
  const auto specs = Parse("[{conv: {k: [3, 5], d: [2, 1], p: same}}, {conv: {k: 1, p: same}}]");
  EXPECT_EQ(specs[0].p, HW(2, 2));  // d(k−1)/2: 2·2/2, 1·4/2
  EXPECT_EQ(specs[1].p, HW(0));
}

TEST(LayerSpecTest, ErrorsNameThePathTheValueAndWhatIsAllowed) {
  std::string e = ErrorOf("[{conv: {k: 3}}, {convv: {k: 3}}]", "theory.layers");
  EXPECT_TRUE(Has(e, "theory.layers[1]: unknown layer 'convv'")) << e;
  EXPECT_TRUE(Has(e, "conv_transpose")) << e;
  EXPECT_TRUE(Has(e, "maxpool")) << e;

  e = ErrorOf("[{residual: {body: [{conv: {k: 3, s: x}}]}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].residual.body[0].conv.s: value 'x' is not an integer")) << e;

  e = ErrorOf("[{conv: {k: 3, s: 2, p: same}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].conv.p: 'same' needs stride 1 (s is 2)")) << e;

  e = ErrorOf("[{conv: {k: [3, 4], p: same}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].conv.p: 'same' needs an odd effective kernel")) << e;
  EXPECT_TRUE(Has(e, "[3, 4]")) << e;

  e = ErrorOf("[relu, {conv: {k: 0}}]");
  EXPECT_TRUE(Has(e, "net.layers[1].conv.k: value 0 is out of range; allowed: 1..4096")) << e;

  e = ErrorOf("[{conv: {k: [3, 3, 3]}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].conv.k: value [3, 3, 3] is not an integer or [h, w]")) << e;

  e = ErrorOf("[{conv: {s: 2}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].conv.k: required")) << e;

  e = ErrorOf("[{conv: {k: 3, ceil: true}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].conv: unknown field 'ceil'; allowed: name, out, k")) << e;

  e = ErrorOf("[{maxpool: {k: 2, p: 2}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].maxpool.p: value 2 is too large; allowed: at most k/2 = 1"))
      << e;

  e = ErrorOf("[{upsample: {factor: 2, to: input}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].upsample: give factor or to, not both")) << e;
  e = ErrorOf("[{upsample: {to: output}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].upsample.to: value 'output' is not allowed; allowed: input"))
      << e;
  e = ErrorOf("[{upsample: {mode: bicubic}}]");
  EXPECT_TRUE(Has(e, "allowed: nearest, bilinear")) << e;
  e = ErrorOf("[{upsample: {factor: 0}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].upsample.factor: value '0' is out of range")) << e;

  e = ErrorOf("[{activation: swish}]");
  EXPECT_TRUE(Has(e,
                  "net.layers[0].activation: value 'swish' is not allowed; allowed: relu, "
                  "gelu, elu, selu, tanh, identity"))
      << e;
  e = ErrorOf("[{relu: {}}]");
  EXPECT_TRUE(Has(e, "net.layers[0]: 'relu' takes no fields")) << e;
  e = ErrorOf("[maxpool]");
  EXPECT_TRUE(Has(e, "net.layers[0]: 'maxpool' needs fields")) << e;
  e = ErrorOf("[{[conv]: {k: 3}}]");
  EXPECT_TRUE(Has(e, "net.layers[0]: expected a one-key mapping")) << e;
  e = ErrorOf("[{conv: {k: 3, [s]: 1}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].conv: unknown field '[s]'")) << e;
  e = ErrorOf("[{conv: {k: 3}, maxpool: {k: 2}}]");
  EXPECT_TRUE(Has(e, "net.layers[0]: expected a one-key mapping")) << e;

  e = ErrorOf("[{conv_transpose: {k: 2, s: 2, output_padding: 2}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].conv_transpose.output_padding: value 2 is too large")) << e;

  e = ErrorOf("[{residual: {shortcut: [relu]}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].residual: needs body")) << e;
  e = ErrorOf("[{concat: 3}]");
  EXPECT_TRUE(Has(e,
                  "net.layers[0].concat: expected a mapping of fields {body, shortcut} or a "
                  "list of items"))
      << e;

  e = ErrorOf("[{conv: {k: 1, name: a}}, {residual: [{conv: {k: 1, name: a}}]}]");
  EXPECT_TRUE(Has(e, "net.layers[1].residual[0]: the name 'a' is already used by net.layers[0]"))
      << e;
  e = ErrorOf("[{conv: {k: 1, name: a.b}}]");
  EXPECT_TRUE(Has(e, "net.layers[0].conv.name: value 'a.b' is not a name")) << e;

  e = ErrorOf("{conv: {k: 3}}");
  EXPECT_TRUE(Has(e, "net.layers: expected a list of items")) << e;
}

TEST(LayerSpecTest, AbsentOrNullListIsEmpty) {
  EXPECT_TRUE(ParseLayerList(YAML::Node(), "net.layers").empty());
  EXPECT_TRUE(Parse("[]").empty());
}

}  // namespace
}  // namespace rfx::nn

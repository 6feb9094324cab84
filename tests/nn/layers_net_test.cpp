#include "rfx/nn/layers_net.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rfx/nn/init.h"
#include "rfx/util/files.h"
#include "seeded_test.h"
#include "test_util.h"

namespace rfx::nn {
namespace {

class LayersNetTest : public test::SeededTest {
 protected:
  void SetUp() override {
    test::SeededTest::SetUp();
    at::set_num_threads(1);
  }
};

NetOptions Layers(const std::string& yaml, int check_size = 32) {
  NetOptions o;
  o.arch = NetArch::kLayers;
  o.layers = ParseLayerList(YAML::Load(yaml), "net.layers");
  o.check_size = check_size;
  return o;
}

// The fcn with net.skip none as a layer list: depth convs with 'same' padding, an activation
// after every one but the last.
std::string FcnList(int depth, int width, int kernel, const std::string& act = "relu") {
  std::string s = "[";
  for (int i = 0; i < depth; ++i) {
    s += "{conv: {";
    if (i + 1 < depth) s += "out: " + std::to_string(width) + ", ";
    s += "k: " + std::to_string(kernel) + ", p: same}}";
    if (i + 1 < depth) s += ", " + act + ", ";
  }
  return s + "]";
}

void CopyParameters(const torch::nn::Module& from, torch::nn::Module& to) {
  const auto a = from.parameters();
  auto b = to.parameters();
  ASSERT_EQ(a.size(), b.size());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].sizes(), b[i].sizes()) << i;
    b[i].copy_(a[i]);
  }
}

std::string ConfigErrorOf(const NetOptions& o, std::string* key = nullptr) {
  try {
    BuildNet(o);
  } catch (const ConfigError& e) {
    if (key) *key = e.key();
    return e.what();
  }
  return "(no error)";
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(LayersNetTest, TheFcnAsALayerListGivesTheFcnsOutputsExactly) {
  for (int kernel : {3, 5}) {
    for (Activation act : {Activation::kRelu, Activation::kGelu}) {
      NetOptions f;
      f.depth = 5;
      f.width = 8;
      f.kernel = kernel;
      f.skip = SkipKind::kNone;
      f.activation = act;
      NetPtr fcn = BuildNet(f);
      InitNet(*fcn, InitOptions(), 7);
      NetPtr layers = BuildNet(Layers(FcnList(5, 8, kernel, ActivationText(act))));
      EXPECT_EQ(CountParameters(*layers), CountParameters(*fcn));
      CopyParameters(*fcn, *layers);
      const at::Tensor x = torch::rand({2, 1, 24, 20});
      const at::Tensor a = fcn->forward(x), b = layers->forward(x);
      EXPECT_EQ(b.sizes(), (std::vector<int64_t>{2, 2, 24, 20}));
      EXPECT_TRUE(torch::equal(a, b)) << "kernel " << kernel << " " << ActivationText(act);
    }
  }
}

TEST_F(LayersNetTest, ASmallUNetComputesWhatItsListSays) {
  // conv, maxpool, conv, upsample, concat (skip first), conv.
  NetPtr net =
      BuildNet(Layers("[{conv: {out: 8, k: 3, p: same}}, relu,"
                      " {concat: [{maxpool: {k: 2}}, {conv: {out: 8, k: 3, p: same}}, relu,"
                      "           {upsample: {factor: 2}}]},"
                      " {conv: {k: 3, p: same}}]"));
  // 1→8 3×3 (80), 8→8 3×3 (584), 16→2 3×3 (290).
  EXPECT_EQ(CountParameters(*net), 80 + 584 + 290);
  EXPECT_EQ(CountParameters(*net),
            EstimateLayers(net->options().layers, 32, 32).parameters);  // the estimate's count
  InitNet(*net, InitOptions(), 3);
  std::map<std::string, at::Tensor> p;
  for (const auto& kv : net->named_parameters()) p[kv.key()] = kv.value();
  ASSERT_TRUE(p.count("layers.conv1.weight"));
  ASSERT_TRUE(p.count("layers.concat3.body.conv5.weight"));
  ASSERT_TRUE(p.count("layers.conv8.weight"));
  const at::Tensor x = torch::rand({2, 1, 16, 24});
  const at::Tensor h =
      at::relu(at::conv2d(x, p["layers.conv1.weight"], p["layers.conv1.bias"], 1, 1));
  at::Tensor b = at::max_pool2d(h, {2, 2}, {2, 2});
  b = at::relu(at::conv2d(b, p["layers.concat3.body.conv5.weight"],
                          p["layers.concat3.body.conv5.bias"], 1, 1));
  b = torch::nn::functional::interpolate(
      b, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{16, 24}));
  const at::Tensor want =
      at::conv2d(at::cat({h, b}, 1), p["layers.conv8.weight"], p["layers.conv8.bias"], 1, 1);
  const at::Tensor got = net->forward(x);
  EXPECT_EQ(got.sizes(), (std::vector<int64_t>{2, 2, 16, 24}));
  EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6));
  // 33 px: the pooled branch comes back as 32 px; a clear error, not torch's.
  try {
    net->forward(torch::rand({1, 1, 33, 33}));
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(Has(e.what(),
                    "net.layers[2] (concat3): the body gives [1, 8, 32, 32] but the "
                    "shortcut [1, 8, 33, 33]"))
        << e.what();
  }
}

TEST_F(LayersNetTest, PerAxisKernelsRun) {
  NetPtr net = BuildNet(
      Layers("[{conv: {out: 4, k: [3, 5], p: same}}, relu, {conv: {k: [5, 1], p: [2, 0]}}]"));
  std::map<std::string, at::Tensor> p;
  for (const auto& kv : net->named_parameters()) p[kv.key()] = kv.value();
  EXPECT_EQ(p["layers.conv1.weight"].sizes(), (std::vector<int64_t>{4, 1, 3, 5}));
  EXPECT_EQ(p["layers.conv3.weight"].sizes(), (std::vector<int64_t>{2, 4, 5, 1}));
  const at::Tensor x = torch::rand({2, 1, 24, 20});
  const at::Tensor want = at::conv2d(
      at::relu(at::conv2d(x, p["layers.conv1.weight"], p["layers.conv1.bias"], 1, {1, 2})),
      p["layers.conv3.weight"], p["layers.conv3.bias"], 1, {2, 0});
  EXPECT_TRUE(torch::equal(net->forward(x), want));
}

TEST_F(LayersNetTest, TransposedConvsAdaptivePoolsAndResiduals) {
  // 32 → (k3 s2 p1) 16 → transposed (16−1)·2 − 2 + 3 + 1 = 32, out defaults to 2.
  NetPtr a =
      BuildNet(Layers("[{conv: {out: 4, k: 3, s: 2, p: 1}}, batchnorm, elu,"
                      " {conv_transpose: {k: 4, s: 2, p: 1}}]"));
  EXPECT_EQ(a->forward(torch::rand({2, 1, 32, 32})).sizes(), (std::vector<int64_t>{2, 2, 32, 32}));
  // A residual whose body is a global context map brought back to the input's size.
  NetPtr b =
      BuildNet(Layers("[{conv: {out: 2, k: 3, p: same}},"
                      " {residual: {body: [{adaptive_avgpool: {size: [2, 3]}},"
                      "                    {upsample: {to: input, mode: bilinear}}],"
                      "             shortcut: [identity]}}]"));
  b->eval();
  const at::Tensor x = torch::rand({1, 1, 20, 30});
  const at::Tensor y = b->forward(x);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 2, 20, 30}));
  std::map<std::string, at::Tensor> p;
  for (const auto& kv : b->named_parameters()) p[kv.key()] = kv.value();
  const at::Tensor h = at::conv2d(x, p["layers.conv1.weight"], p["layers.conv1.bias"], 1, 1);
  const at::Tensor g = torch::nn::functional::interpolate(
      at::adaptive_avg_pool2d(h, {2, 3}), torch::nn::functional::InterpolateFuncOptions()
                                              .size(std::vector<int64_t>{20, 30})
                                              .mode(torch::kBilinear)
                                              .align_corners(false));
  EXPECT_TRUE(torch::equal(y, g + h));
}

TEST_F(LayersNetTest, ShapeAndChannelErrorsNameTheList) {
  std::string key;
  std::string e = ConfigErrorOf(Layers("[{conv: {out: 3, k: 3, p: same}}]"), &key);
  EXPECT_EQ(key, "net.layers");
  EXPECT_TRUE(Has(e,
                  "net.layers returns [1, 3, 32, 32] for a [1, 1, 32, 32] input; the е/ё "
                  "task needs [1, 2, 32, 32]"))
      << e;
  e = ConfigErrorOf(Layers("[{conv: {k: 3, s: 2, p: 1}}]", 16));
  EXPECT_TRUE(Has(e, "returns [1, 2, 8, 8] for a [1, 1, 16, 16] input")) << e;
  e = ConfigErrorOf(Layers("[{conv: {k: 40}}]"));
  EXPECT_TRUE(Has(e, "net.layers': fails on a [1, 1, 32, 32] input")) << e;
  e = ConfigErrorOf(Layers("[{residual: [{conv: {out: 4, k: 3, p: same}}]}, {conv: {k: 1}}]"));
  EXPECT_TRUE(Has(e, "net.layers[0].residual: the body gives 4 channels, the shortcut 1")) << e;
  e = ConfigErrorOf(Layers("[{conv: {k: 3, p: same}}, {conv: {k: 3, p: same}}]"));
  EXPECT_TRUE(Has(e, "net.layers[0].conv.out: required")) << e;
  e = ConfigErrorOf(Layers("[{conv: {out: 4, k: 3, p: same, groups: 2}}, {conv: {k: 1}}]"));
  EXPECT_TRUE(Has(e, "net.layers[0].conv.groups: 2 does not divide the input channels (1)")) << e;
  e = ConfigErrorOf(Layers("[]"), &key);
  EXPECT_EQ(key, "net.layers");
  EXPECT_TRUE(Has(e, "net.arch layers needs a list of items")) << e;
}

TEST_F(LayersNetTest, FromConfigChecksAtTheImageSizeAndNamesTheOrigin) {
  const NetOptions o = NetOptions::FromConfig(
      Config::Load("", {"net.arch=layers", "dataset.image_size=24",
                        "net.layers=[{conv: {out: 4, k: 3, p: same}}, tanh, {conv: {k: 1}}]"}));
  EXPECT_EQ(o.check_size, 24);
  ASSERT_EQ(o.layers.size(), 3u);
  EXPECT_EQ(o.layers[1].activation, Activation::kTanh);
  try {
    NetOptions::FromConfig(Config::Load("", {"net.arch=layers"}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "net.layers");
  }
  try {
    NetOptions::FromConfig(Config::Load("", {"net.arch=layers", "net.layers=[{conv: {k: x}}]"}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "net.layers");
    EXPECT_EQ(e.where(), "--set");
    EXPECT_TRUE(Has(e.what(), "net.layers[0].conv.k: value 'x' is not an integer")) << e.what();
  }
  // Build-time errors carry the list's origin too.
  try {
    BuildNet(NetOptions::FromConfig(
        Config::Load("", {"net.arch=layers", "net.layers=[{conv: {out: 3, k: 3, p: same}}]"})));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "net.layers");
    EXPECT_EQ(e.where(), "--set");
    EXPECT_TRUE(Has(e.what(), "returns [1, 3, 128, 128] for a [1, 1, 128, 128] input"))
        << e.what();  // dataset.image_size
  }
  // Other archs ignore the list.
  EXPECT_NO_THROW(NetOptions::FromConfig(Config::Load("", {"net.layers=[{bad: 1}]"})));
}

TEST_F(LayersNetTest, InitTakesXavierAndConstantOnly) {
  NetOptions o =
      Layers("[{conv: {out: 4, k: 3, p: same}}, batchnorm, relu, {conv_transpose: {k: 3, p: 1}}]");
  NetPtr a = BuildNet(o), b = BuildNet(o);
  InitNet(*a, InitOptions(), 5);
  InitNet(*b, InitOptions(), 5);
  for (size_t i = 0; i < a->parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(a->parameters()[i], b->parameters()[i])) << i;
  }
  InitOptions c;
  c.scheme = InitScheme::kConstant;
  c.value = 0.25;
  InitNet(*a, c, 5);
  for (const auto& kv : a->named_parameters()) {
    const std::string& n = kv.key();
    const at::Tensor& v = kv.value();
    if (n == "layers.conv1.weight" || n == "layers.conv_transpose4.weight") {
      EXPECT_TRUE(torch::equal(v, torch::full_like(v, 0.25))) << n;
    } else if (n == "layers.batchnorm2.weight") {
      EXPECT_TRUE(torch::equal(v, torch::ones_like(v))) << n;
    } else {
      EXPECT_TRUE(torch::equal(v, torch::zeros_like(v))) << n;  // biases, BN β
    }
  }
  InitOptions shifted;
  shifted.scheme = InitScheme::kShifted;
  try {
    InitNet(*a, shifted, 5);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "init.scheme");
    EXPECT_TRUE(Has(e.what(), "'shifted' needs net.arch fcn; layers allows: xavier, constant"))
        << e.what();
  }
}

TEST_F(LayersNetTest, SavesAndLoads) {
  const NetOptions o = Layers(
      "[{conv: {out: 4, k: 3, p: same}}, batchnorm, relu,"
      " {residual: {body: [{conv: {out: 4, k: 3, p: same}}],"
      "             shortcut: [{conv: {out: 4, k: 1, bias: false}}]}},"
      " {conv: {k: 1}}]");
  NetPtr a = BuildNet(o), b = BuildNet(o);
  InitNet(*a, InitOptions(), 1);
  InitNet(*b, InitOptions(), 2);
  test::TempDir dir;
  SaveNet(*a, dir / "model.pt");
  LoadNet(*b, dir / "model.pt");
  a->eval();
  b->eval();
  const at::Tensor x = torch::rand({1, 1, 12, 12});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  // Another list does not load it.
  NetPtr c = BuildNet(Layers("[{conv: {out: 4, k: 3, p: same}}, {conv: {k: 1}}]"));
  EXPECT_THROW(LoadNet(*c, dir / "model.pt"), std::runtime_error);
}

TEST_F(LayersNetTest, TheMemoryFootprintWalk) {
  // 8×8: input 64; conv 4·64; relu 4·64; pool 4·16; conv 2·16.
  const LayersFootprint f = EstimateLayers(
      ParseLayerList(YAML::Load("[{conv: {out: 4, k: 3, p: same}}, relu, {maxpool: {k: 2}},"
                                " {conv: {k: 1}}]"),
                     "net.layers"),
      8, 8);
  EXPECT_DOUBLE_EQ(f.elements, 64 + 256 + 256 + 64 + 32);
  EXPECT_DOUBLE_EQ(f.largest, 256);
  EXPECT_DOUBLE_EQ(f.parameters, (1 * 4 * 9 + 4) + (4 * 2 + 2));
}

}  // namespace
}  // namespace rfx::nn

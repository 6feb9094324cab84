// `rfx theory --model`: TorchScript models traced from Python (trace_models.py) read back
// into the theory graph: torchvision's classics must give the built-in nets' tables, the small
// models their hand-computed ones, and an op the theory cannot reason about a UsageError.
#include "rfx/theory/torchscript.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "rfx/theory/theory.h"
#include "rfx/util/error.h"
#include "test_util.h"
#include "traced_models.h"

namespace rfx::theory {
namespace {

// The torchvision classics (~15 s to trace, 160 MB) once per process, the small models once
// per machine (traced_models.h).
const test::TracedModels& Classics() {
  return test::Traced("vgg16 alexnet resnet18 resnet50 resnet18_scripted");
}
const test::TracedModels& FcnResNet50() { return test::Traced("fcn_resnet50"); }
const test::TracedModels& Models() {
  return test::TracedCached(
      "convs4 dilated transposed cat unet upsampling upsampling_scripted sized channels "
      "channels_last scripted roll");
}

Table FromModel(const std::string& name, Axes input) {
  const bool classic = name.rfind("resnet", 0) == 0 || name == "vgg16" || name == "alexnet";
  const auto& models = name == "fcn_resnet50" ? FcnResNet50() : classic ? Classics() : Models();
  return Analyze(FromTorchScript(models / name, input), input, name);
}

// One row's values on both axes: n, r, r_min, j, start.
void ExpectRow(const Row& row, int64_t n, double r, double r_min, double j, double start) {
  SCOPED_TRACE(row.name);
  for (const AxisState* a : {&row.h, &row.w}) {
    EXPECT_EQ(a->n, n);
    EXPECT_DOUBLE_EQ(a->r, r);
    EXPECT_DOUBLE_EQ(a->r_min, r_min);
    EXPECT_DOUBLE_EQ(a->j, j);
    EXPECT_DOUBLE_EQ(a->start, start);
  }
}

TEST(TorchScriptTest, TorchvisionClassicsGiveTheBuiltInTables) {
  RFX_REQUIRE_TRACED(Classics());
  const Config config = Config::Load("");
  const struct {
    const char* name;
    double rf;
    NamedNet built_in;
  } nets[] = {{"vgg16", 212, NamedNet::kVgg16},
              {"alexnet", 195, NamedNet::kAlexNet},
              {"resnet18", 435, NamedNet::kResNet18},
              {"resnet50", 427, NamedNet::kResNet50},
              {"resnet18_scripted", 435, NamedNet::kResNet18}};
  for (const auto& net : nets) {
    SCOPED_TRACE(net.name);
    const Table built = Analyze(BuildNet(net.built_in, config), 224, NamedNetText(net.built_in));
    const Table traced = FromModel(net.name, 224);
    ASSERT_GT(traced.rows.size(), built.rows.size());
    // Row for row up to the last conv stage: the same ops and the same fields.
    for (size_t i = 0; i < built.rows.size(); ++i) {
      SCOPED_TRACE(traced.rows[i].name + " vs " + built.rows[i].name);
      EXPECT_EQ(traced.rows[i].op, built.rows[i].op);
      EXPECT_EQ(traced.rows[i].inputs, built.rows[i].inputs);
      EXPECT_TRUE(traced.rows[i].h == built.rows[i].h);
      EXPECT_TRUE(traced.rows[i].w == built.rows[i].w);
      EXPECT_FALSE(traced.rows[i].sees_everything);
    }
    EXPECT_DOUBLE_EQ(traced.rows[built.rows.size() - 1].h.r, net.rf);
    // The classifier (pooling to 1x1 or flatten, then linear layers) sees everything.
    for (size_t i = built.rows.size(); i < traced.rows.size(); ++i) {
      const Row& row = traced.rows[i];
      if (row.op == Op::kAdaptiveAvgPool) continue;  // vgg16 7x7 -> 7x7, alexnet 6x6 -> 6x6
      EXPECT_TRUE(row.sees_everything) << row.name;
      EXPECT_EQ(row.op, Op::kGlobal) << row.name;
    }
    EXPECT_TRUE(traced.rows.back().sees_everything);
    EXPECT_DOUBLE_EQ(traced.rf(), 224);
    EXPECT_TRUE(traced.warnings.empty());
    if (net.built_in != NamedNet::kResNet18) continue;  // traced and scripted
    // Layer names are the module paths (a parameter-free op in a block: block path + op).
    std::vector<std::string> names;
    for (const Row& r : traced.rows) names.push_back(r.name);
    for (const char* want : {"conv1", "maxpool", "layer1.0.conv1", "layer1.0.add", "layer3.1.conv2",
                             "layer4.0.downsample.0", "avgpool", "fc"}) {
      EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
    }
  }
}

TEST(TorchScriptTest, FcnResNet50IsTheBuiltInNet) {
  RFX_REQUIRE_TRACED(FcnResNet50());
  // Dilated layer3/4, the FCN head, bilinear upsampling to the input's size (traced as sizes
  // of the input), a dict output: the whole table equals the built-in net's, at any input.
  for (const Axes input : {Axes(224), Axes(160, 200)}) {
    const Table built = Analyze(BuildNet(NamedNet::kFcnResNet50, Config::Load("")), input, "built");
    const Table traced = FromModel("fcn_resnet50", input);
    ASSERT_EQ(traced.rows.size(), built.rows.size());
    for (size_t i = 0; i < built.rows.size(); ++i) {
      SCOPED_TRACE(traced.rows[i].name + " vs " + built.rows[i].name);
      EXPECT_EQ(traced.rows[i].op, built.rows[i].op);
      EXPECT_TRUE(traced.rows[i].h == built.rows[i].h);
      EXPECT_TRUE(traced.rows[i].w == built.rows[i].w);
    }
    EXPECT_EQ(traced.rows.back().w.n, input.w);
  }
}

TEST(TorchScriptTest, StackOfConvs) {
  RFX_REQUIRE_TRACED(Models());
  // 4 × (3×3, padding 1): r = 1 + 2i, size and centres unchanged.
  const Table t = FromModel("convs4", 32);
  ASSERT_EQ(t.rows.size(), 5u);
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(t.rows[i].name, "convs." + std::to_string(i - 1));
    ExpectRow(t.rows[i], 32, 1 + 2 * i, 1 + 2 * i, 1, 0.5);
  }
  // A non-square input: per-axis sizes, the same fields.
  const Table wide = Analyze(FromTorchScript(Models() / "convs4", Axes(16, 24)), Axes(16, 24));
  EXPECT_EQ(wide.rows.back().h.n, 16);
  EXPECT_EQ(wide.rows.back().w.n, 24);
  EXPECT_DOUBLE_EQ(wide.rows.back().w.r, 9);
}

TEST(TorchScriptTest, DilatedConvMovesTheStart) {
  RFX_REQUIRE_TRACED(Models());
  const Table t = FromModel("dilated", 32);
  ASSERT_EQ(t.rows.size(), 3u);
  // k3 d2 p1: span 4, n = 32 + 2 − 4 = 30, r = 5, start = 0.5 + (4/2 − 1) = 1.5.
  ExpectRow(t.rows[1], 30, 5, 5, 1, 1.5);
  // k3 s2 p0: n = (30 − 3)/2 + 1 = 14, r = 5 + 2, j = 2, start = 1.5 + 1.
  ExpectRow(t.rows[2], 14, 7, 7, 2, 2.5);
  EXPECT_EQ(t.rows[1].params, "k3 s1 p1 d2");
}

TEST(TorchScriptTest, TransposedConv) {
  RFX_REQUIRE_TRACED(Models());
  const Table t = FromModel("transposed", 32);
  ASSERT_EQ(t.rows.size(), 3u);
  ExpectRow(t.rows[1], 16, 3, 3, 2, 0.5);  // k3 s2 p1
  // k4 s2 p1: n = 15·2 − 2 + 3 + 1 = 32; each output reads 2 adjacent inputs (taps of one
  // parity), r = 3 + 1·2 = 5; j = 2/2; unit 0 centred at (0 + 1 − 1.5)/2 inputs: 0.5 − 0.5.
  EXPECT_EQ(t.rows[2].op, Op::kConvTranspose);
  ExpectRow(t.rows[2], 32, 5, 5, 1, 0);
}

TEST(TorchScriptTest, CatIsAMergeOnChannels) {
  RFX_REQUIRE_TRACED(Models());
  const Table t = FromModel("cat", 32);
  ASSERT_EQ(t.rows.size(), 5u);
  ExpectRow(t.rows[1], 32, 3, 3, 1, 0.5);
  ExpectRow(t.rows[2], 32, 5, 5, 1, 0.5);
  EXPECT_EQ(t.rows[3].op, Op::kConcat);
  EXPECT_EQ(t.rows[3].inputs, (std::vector<int>{1, 2}));
  ExpectRow(t.rows[3], 32, 5, 3, 1, 0.5);
  ExpectRow(t.rows[4], 32, 5, 3, 1, 0.5);
  EXPECT_TRUE(t.warnings.empty());
}

TEST(TorchScriptTest, ChannelPlumbingKeepsFields) {
  RFX_REQUIRE_TRACED(Models());
  // stem k3 → chunk(2, dim 1) → cat(a, branch(b)) with branch k3 → reshape(n, c, h, w) → [:, :6]
  // → head k1: chunk, reshape to its own H, W and the channel slice pass through.
  const Table t = FromModel("channels", 32);
  ASSERT_EQ(t.rows.size(), 5u);
  ExpectRow(t.rows[1], 32, 3, 3, 1, 0.5);
  ExpectRow(t.rows[2], 32, 5, 5, 1, 0.5);
  EXPECT_EQ(t.rows[3].op, Op::kConcat);
  EXPECT_EQ(t.rows[3].inputs, (std::vector<int>{1, 2}));
  ExpectRow(t.rows[4], 32, 5, 3, 1, 0.5);
  EXPECT_FALSE(t.rows[4].sees_everything);
}

TEST(TorchScriptTest, ChannelsLastBlock) {
  RFX_REQUIRE_TRACED(Models());
  // stem k4 s4 → ConvNeXt block: dw k7 p3, permute to N,H,W,C, LayerNorm, Linear, GELU,
  // Linear (per pixel), permute back, + the stem's output.
  const Table t = FromModel("channels_last", 64);
  ASSERT_EQ(t.rows.size(), 4u);
  ExpectRow(t.rows[1], 16, 4, 4, 4, 2);    // start 0.5 + 1.5
  ExpectRow(t.rows[2], 16, 28, 28, 4, 2);  // r 4 + 6·4
  EXPECT_EQ(t.rows[3].op, Op::kAdd);
  EXPECT_EQ(t.rows[3].inputs, (std::vector<int>{1, 2}));
  ExpectRow(t.rows[3], 16, 28, 4, 4, 2);
}

TEST(TorchScriptTest, UNetUpsamplesToTheSkipsSize) {
  RFX_REQUIRE_TRACED(Models());
  // interpolate(size=e.shape[-2:]) follows the skip's size at any input, here 40×48.
  const Table t = FromModel("unet", Axes(40, 48));
  ASSERT_EQ(t.rows.size(), 7u);
  EXPECT_EQ(t.rows[4].op, Op::kUpsample);
  EXPECT_EQ(t.rows[4].h.n, 40);
  EXPECT_EQ(t.rows[4].w.n, 48);
  // enc r3; pool k2 s2: r4 j2 start 1; mid: r8; upsample ×2 nearest: j1, start 1 − 0.5 = 0.5.
  EXPECT_DOUBLE_EQ(t.rows[3].h.r, 8);
  EXPECT_DOUBLE_EQ(t.rows[4].h.j, 1);
  EXPECT_DOUBLE_EQ(t.rows[4].h.start, 0.5);
  EXPECT_EQ(t.rows[5].op, Op::kConcat);
  EXPECT_DOUBLE_EQ(t.rows[5].h.r, 8);
  EXPECT_DOUBLE_EQ(t.rows[5].h.r_min, 3);
  EXPECT_TRUE(t.warnings.empty());  // the skip and the upsampled path are aligned
}

TEST(TorchScriptTest, InterpolateTracedAndScripted) {
  RFX_REQUIRE_TRACED(Models());
  // Traced, F.interpolate is one upsample op; scripted, it is F.interpolate's code with
  // branches on dim() and a loop building the scale list: both must give the same table.
  for (const char* name : {"upsampling", "upsampling_scripted"}) {
    SCOPED_TRACE(name);
    const Table t = FromModel(name, 32);
    ASSERT_EQ(t.rows.size(), 5u);
    ExpectRow(t.rows[1], 16, 3, 3, 2, 0.5);  // conv k3 s2 p1
    // ×2 bilinear: j 2 → 1, r + j_in (two neighbours), start 0.5 + (0.25 − 0.5)·2.
    EXPECT_EQ(t.rows[2].params, "x2 bilinear");
    ExpectRow(t.rows[2], 32, 5, 5, 1, 0);
    ExpectRow(t.rows[3], 64, 5, 5, 0.5, -0.25);  // ×2 nearest
    // adaptive pool 64 → 4: bins of 16, r + 15·0.5, j 8, start + 7.5·0.5.
    EXPECT_EQ(t.rows[4].op, Op::kAdaptiveAvgPool);
    ExpectRow(t.rows[4], 4, 12.5, 12.5, 8, 3.5);
  }
}

// A constant output size and an adaptive max pool read the size reached so far (SizeAt): the
// table it is read from must outlive the read (AddressSanitizer caught a dangling row).
TEST(TorchScriptTest, ConstantSizeUpsampleAndAdaptiveMaxPool) {
  RFX_REQUIRE_TRACED(Models());
  const Table t = FromModel("sized", 32);
  ASSERT_EQ(t.rows.size(), 4u);
  ExpectRow(t.rows[1], 16, 3, 3, 2, 0.5);  // conv k3 s2 p1
  // 16 → 32 nearest is ×2: j 2 → 1, start 0.5 + (0.25 − 0.5)·2.
  EXPECT_EQ(t.rows[2].params, "x2 nearest");
  ExpectRow(t.rows[2], 32, 3, 3, 1, 0);
  // adaptive max 32 → 4 is a max pool k8 s8: r + 7·1, j 8, start + 3.5·1.
  ExpectRow(t.rows[3], 4, 10, 10, 8, 3.5);
}

TEST(TorchScriptTest, ScriptedModel) {
  RFX_REQUIRE_TRACED(Models());
  // torch.jit.script: conv k3 p1, max pool 2/2, x + conv(x), mean over H, W.
  const Table t = FromModel("scripted", 32);
  ASSERT_EQ(t.rows.size(), 6u);
  EXPECT_EQ(t.rows[1].name, "stem");
  ExpectRow(t.rows[1], 32, 3, 3, 1, 0.5);
  ExpectRow(t.rows[2], 16, 4, 4, 2, 1);
  ExpectRow(t.rows[3], 16, 8, 8, 2, 1);
  EXPECT_EQ(t.rows[4].op, Op::kAdd);
  EXPECT_EQ(t.rows[4].inputs, (std::vector<int>{2, 3}));
  ExpectRow(t.rows[4], 16, 8, 4, 2, 1);
  EXPECT_EQ(t.rows[5].op, Op::kGlobal);
  EXPECT_TRUE(t.rows[5].sees_everything);
}

TEST(TorchScriptTest, UnsupportedOpIsAUsageErrorNamingIt) {
  RFX_REQUIRE_TRACED(Models());
  try {
    FromTorchScript(Models() / "roll", 32);
    FAIL() << "torch.roll was accepted";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--model"), std::string::npos) << what;
    EXPECT_NE(what.find("aten::roll"), std::string::npos) << what;
    EXPECT_NE(what.find("cannot reason"), std::string::npos) << what;
  }
}

TEST(TorchScriptTest, NotATorchScriptFile) {
  test::TempDir dir;
  std::ofstream(dir / "junk.pt") << "not a zip archive";
  try {
    FromTorchScript(dir / "junk.pt", 32);
    FAIL() << "junk was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--model " + dir / "junk.pt"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(FromTorchScript(dir / "missing.pt", 32), UsageError);
}

}  // namespace
}  // namespace rfx::theory

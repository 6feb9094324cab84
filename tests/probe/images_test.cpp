// Real PNG files written with OpenCV: listing, decoding, resizing, cropping, normalising, and the
// gradient probe reading them.
#include "rfx/probe/images.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include "rfx/probe/probe.h"
#include "rfx/util/error.h"
#include "rfx/util/files.h"
#include "seeded_test.h"

namespace rfx::probe {
namespace {

// A 40×60 (rows × cols) grey image: columns 0–19 black, 20–39 white, 40–59 grey 128.
void WriteStripes(const std::string& path) {
  cv::Mat m(40, 60, CV_8UC1, cv::Scalar(0));
  m.colRange(20, 40).setTo(255);
  m.colRange(40, 60).setTo(128);
  ASSERT_TRUE(cv::imwrite(path, m));
}

TEST(ImagesTest, ShorterSideResizedThenCentreCropped) {
  test::TempDir dir;
  WriteStripes(dir / "a.png");
  ImageInputOptions o;
  o.size = 20;
  o.mean = {0.5};
  o.std = {0.25};
  // 40×60 → 20×30 (area averaging of 2×2 blocks: exact), columns 0–9 black, 10–19 white,
  // 20–29 grey; the centred 20×20 crop starts at column 5: 5 black, 10 white, 5 grey columns.
  const at::Tensor t = LoadImage(dir / "a.png", o);
  ASSERT_EQ(t.sizes(), (at::IntArrayRef{1, 20, 20}));
  const double grey = (128.0 / 255 - 0.5) / 0.25;
  for (int y : {0, 10, 19}) {
    for (int x = 0; x < 20; ++x) {
      const double want = x < 5 ? -2.0 : x < 15 ? 2.0 : grey;
      EXPECT_NEAR(t[0][y][x].item<float>(), want, 1e-5) << y << "," << x;
    }
  }
}

TEST(ImagesTest, ColourBecomesGreyOrRgb) {
  test::TempDir dir;
  cv::Mat m(8, 8, CV_8UC3, cv::Scalar(0, 255, 0));  // BGR: pure green
  m.at<cv::Vec3b>(0, 0) = cv::Vec3b(255, 0, 0);     // one blue pixel
  ASSERT_TRUE(cv::imwrite(dir / "c.png", m));
  ImageInputOptions o;
  o.size = 8;
  const at::Tensor g = LoadImage(dir / "c.png", o);
  ASSERT_EQ(g.size(0), 1);
  EXPECT_NEAR(g[0][4][4].item<float>(), 0.587, 2.0 / 255);  // luma of green
  o.channels = 3;
  o.mean = {0.0, 0.5, 0.0};
  const at::Tensor rgb = LoadImage(dir / "c.png", o);
  ASSERT_EQ(rgb.size(0), 3);
  EXPECT_FLOAT_EQ(rgb[1][4][4].item<float>(), 0.5f);  // G 1.0 − mean 0.5
  EXPECT_FLOAT_EQ(rgb[0][4][4].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(rgb[2][0][0].item<float>(), 1.0f);  // the blue pixel in plane 2 (RGB order)
  o.mean = {0.0, 0.5};
  EXPECT_THROW(LoadImage(dir / "c.png", o), UsageError);  // 2 means for 3 channels
}

TEST(ImagesTest, ListingAndErrorsNameInputsAndTheFile) {
  test::TempDir dir;
  EXPECT_THROW(ListImages(dir.path()), UsageError);  // empty
  WriteStripes(dir / "b.PNG");
  WriteStripes(dir / "a.png");
  WriteFileAtomic(dir / "notes.txt", "not an image");
  MakeDirs(dir / "sub.png");  // a directory, not a file
  const std::vector<std::string> files = ListImages(dir.path());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], dir / "a.png");
  EXPECT_EQ(files[1], dir / "b.PNG");
  WriteFileAtomic(dir / "broken.jpg", "this is no jpeg");
  ImageInputOptions o;
  o.size = 8;
  try {
    LoadImage(dir / "broken.jpg", o);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--inputs"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("broken.jpg"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ParseDoubles("0.485, 0.456,0.406", "--mean"),
            (std::vector<double>{0.485, 0.456, 0.406}));
  EXPECT_THROW(ParseDoubles("0.4,x", "--mean"), UsageError);
  EXPECT_THROW(ParseDoubles("", "--std"), UsageError);
}

// Regression: a 60000² PNG failed in OpenCV with a raw assertion, no file name, exit 1. The
// header's size is checked before decoding. The files are real PNG and JPEG files written by
// OpenCV whose header then declares 60000×60000 (a PNG of that size would take 3.6 GB to write).
TEST(ImagesTest, AHugeImageIsRefusedFromItsHeaderNamingTheFile) {
  test::TempDir dir;
  ImageInputOptions o;
  o.size = 8;
  for (const std::string name : {"big.png", "big.jpg"}) {
    WriteStripes(dir / name);
    ASSERT_EQ(LoadImage(dir / name, o).sizes(), (at::IntArrayRef{1, 8, 8})) << name;
    std::string bytes = ReadFile(dir / name);
    size_t at = 0;
    if (name == "big.png") {
      at = bytes.find("IHDR") + 4;  // width, height: 4 bytes each
      for (int i = 0; i < 2; ++i) {
        bytes.replace(at + 4 * i, 4, std::string("\x00\x00\xEA\x60", 4));  // 60000
      }
    } else {
      at = bytes.find("\xFF\xC0") + 5;  // SOF0: length, precision, height, width
      for (int i = 0; i < 2; ++i) bytes.replace(at + 2 * i, 2, std::string("\xEA\x60", 2));
    }
    WriteFileAtomic(dir / name, bytes);
    try {
      LoadImage(dir / name, o);
      ADD_FAILURE() << name << " decoded";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--inputs: '" + dir / name + "' is 60000x60000 pixels"),
                std::string::npos)
          << e.what();
    }
  }
}

class ImageGradientTest : public test::SeededTest {};

TEST_F(ImageGradientTest, GradientProbeReadsEveryImage) {
  test::TempDir dir;
  for (int i = 0; i < 3; ++i) {
    cv::Mat m(30, 24, CV_8UC1);
    cv::randu(m, 0, 256);
    ASSERT_TRUE(cv::imwrite(dir / ("im" + std::to_string(i) + ".png"), m));
  }
  Config config;
  config.ApplySet("train.device=cpu");
  config.ApplySet("train.threads=1");
  config.ApplySet("net.depth=3");
  config.ApplySet("net.width=3");
  config.ApplySet("net.skip=none");
  GradientOptions o;
  o.inputs = dir.path();
  o.size = 16;
  o.batch = 2;
  o.bootstrap = 20;
  const GradientResult r = RunGradient(config, o);
  EXPECT_EQ(r.samples, 3);
  EXPECT_EQ(r.input, "images");
  EXPECT_EQ(r.map.h, 16);
  ASSERT_TRUE(r.ci.has_value());
  EXPECT_EQ(r.ci->units, 3);
  EXPECT_LE(r.area_ratios.back().ratio, 49.0 / 256 + 1e-12);  // depth 3: a 7×7 field
  // A budget of two 16×16 double maps: the 3 samples become blocks of 2 and 1, and the interval
  // comes from resampling those 2 units; the estimate itself does not change.
  o.bootstrap_budget_bytes = 2 * 16 * 16 * 8;
  const GradientResult blocks = RunGradient(config, o);
  ASSERT_TRUE(blocks.ci.has_value());
  EXPECT_EQ(blocks.ci->units, 2);
  EXPECT_EQ(blocks.map.v, r.map.v);
  o.samples = 4;
  EXPECT_THROW(RunGradient(config, o), UsageError);  // more than the 3 images
  o.samples = 0;
  o.input = "noise";
  EXPECT_THROW(RunGradient(config, o), UsageError);  // --inputs with --input
}

}  // namespace
}  // namespace rfx::probe

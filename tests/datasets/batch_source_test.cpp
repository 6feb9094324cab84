// BatchSource: order, determinism across thread counts and batch sizes, bounded prefetch,
// early stop, options.
#include "rfx/data/batch_source.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "rfx/config/config.h"
#include "rfx/util/error.h"

namespace rfx::data {
namespace {

DatasetOptions Small() {
  DatasetOptions o;
  o.image_size = 32;
  o.distance = 10;
  o.seed = 3;
  return o;
}

// The first `count` samples of a source, concatenated.
struct Stream {
  std::vector<float> image, target, label;
};
Stream Collect(const DatasetOptions& d, int threads, int batch, int count, uint64_t stream = 0,
               int prefetch = 3) {
  BatchSourceOptions o;
  o.threads = threads;
  o.batch_size = batch;
  o.prefetch = prefetch;
  o.stream = stream;
  BatchSource src(d, o);
  EXPECT_EQ(src.threads(), threads);
  Stream s;
  uint64_t expected_first = 0;
  while (static_cast<int>(s.label.size()) < count) {
    Batch b = src.Next();
    EXPECT_EQ(b.first_index, expected_first);
    expected_first += batch;
    EXPECT_EQ(b.image.sizes(), (std::vector<int64_t>{batch, 1, 32, 32}));
    EXPECT_EQ(b.target.sizes(), (std::vector<int64_t>{batch, 2, 32, 32}));
    EXPECT_EQ(b.label.sizes(), (std::vector<int64_t>{batch}));
    EXPECT_EQ(b.image.scalar_type(), at::kFloat);
    EXPECT_TRUE(b.image.device().is_cpu());
    s.image.insert(s.image.end(), b.image.data_ptr<float>(),
                   b.image.data_ptr<float>() + b.image.numel());
    s.target.insert(s.target.end(), b.target.data_ptr<float>(),
                    b.target.data_ptr<float>() + b.target.numel());
    s.label.insert(s.label.end(), b.label.data_ptr<float>(),
                   b.label.data_ptr<float>() + b.label.numel());
  }
  const size_t plane = 32 * 32;
  s.image.resize(count * plane);
  s.target.resize(2 * count * plane);
  s.label.resize(count);
  return s;
}

TEST(BatchSourceTest, SameSamplesForAnyThreadCountAndBatchSize) {
  const DatasetOptions d = Small();
  const int count = 36;
  const Stream ref = Collect(d, 1, 4, count);
  // Equal to the generator's samples in order.
  Generator g(d);
  for (int i = 0; i < count; ++i) {
    const Sample s = g.Make(kTrainStream, i);
    ASSERT_EQ(ref.label[i], static_cast<float>(s.label)) << i;
    ASSERT_EQ(std::vector<float>(ref.image.begin() + i * 1024, ref.image.begin() + (i + 1) * 1024),
              std::vector<float>(s.image.data_ptr<float>(), s.image.data_ptr<float>() + 1024))
        << i;
  }
  for (int threads : {1, 2, 4}) {
    for (int batch : {1, 5, 12}) {
      const Stream s = Collect(d, threads, batch, count);
      EXPECT_EQ(s.image, ref.image) << threads << " threads, batch " << batch;
      EXPECT_EQ(s.target, ref.target) << threads << " threads, batch " << batch;
      EXPECT_EQ(s.label, ref.label) << threads << " threads, batch " << batch;
    }
  }
  // Another stream gives other samples.
  EXPECT_NE(Collect(d, 2, 4, count, kEvalStream).image, ref.image);
}

TEST(BatchSourceTest, FirstIndexOffsetsTheStream) {
  const DatasetOptions d = Small();
  BatchSourceOptions o;
  o.threads = 2;
  o.batch_size = 3;
  o.first_index = 6;
  BatchSource src(d, o);
  Batch b = src.Next();
  EXPECT_EQ(b.first_index, 6u);
  const Stream ref = Collect(d, 1, 9, 9);
  EXPECT_EQ(std::vector<float>(b.image.data_ptr<float>(), b.image.data_ptr<float>() + 3 * 1024),
            std::vector<float>(ref.image.begin() + 6 * 1024, ref.image.end()));
}

// Runs `fn` on another thread; false if it has not returned within `seconds` (then the
// thread is left behind: the test has failed anyway).
bool FinishesWithin(std::function<void()> fn, double seconds) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> f = done->get_future();
  std::thread([fn, done] {
    fn();
    done->set_value();
  }).detach();
  return f.wait_for(std::chrono::duration<double>(seconds)) == std::future_status::ready;
}

TEST(BatchSourceTest, StopsCleanlyWhenTheConsumerStopsEarly) {
  const DatasetOptions d = Small();
  for (int threads : {1, 3}) {
    // One batch taken, queue full, producers blocked: the destructor must return.
    EXPECT_TRUE(FinishesWithin(
        [&] {
          BatchSourceOptions o;
          o.threads = threads;
          o.batch_size = 2;
          o.prefetch = 2;
          BatchSource src(d, o);
          src.Next();
          std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the queue fill
        },
        20))
        << threads << " threads";
    // Never consumed at all; Stop() twice then the destructor.
    EXPECT_TRUE(FinishesWithin(
        [&] {
          BatchSourceOptions o;
          o.threads = threads;
          o.prefetch = 1;
          BatchSource src(d, o);
          src.Stop();
          src.Stop();
          EXPECT_THROW(src.Next(), std::logic_error);
        },
        20))
        << threads << " threads";
  }
}

TEST(BatchSourceTest, OptionsValidateAndComeFromConfig) {
  BatchSourceOptions o;
  EXPECT_NO_THROW(o.validate());
  auto key_of = [](const BatchSourceOptions& bad) {
    try {
      bad.validate();
    } catch (const ConfigError& e) {
      return e.key();
    }
    return std::string("none");
  };
  BatchSourceOptions b = o;
  b.batch_size = 0;
  EXPECT_EQ(key_of(b), "train.batch_size");
  b = o, b.threads = -1;
  EXPECT_EQ(key_of(b), "dataset.threads");
  b = o, b.prefetch = 0;
  EXPECT_EQ(key_of(b), "dataset.prefetch");
  EXPECT_THROW(BatchSource(Small(), b), ConfigError);

  const auto c = BatchSourceOptions::FromConfig(Config::Load("", {"dataset.threads=3"}));
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.prefetch, 4);
  try {
    BatchSourceOptions::FromConfig(Config::Load("", {"dataset.prefetch=0"}));
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "dataset.prefetch");
    EXPECT_EQ(e.where(), "--set");
  }
}

}  // namespace
}  // namespace rfx::data

#include "rfx/util/progress.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>

namespace rfx {
namespace {

// Everything a Progress wrote to a (non-terminal) temporary file.
std::string ReadAll(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buf[256];
  while (std::fgets(buf, sizeof buf, f) != nullptr) text += buf;
  return text;
}

// The seconds of the last "ETA …" in `text` ("1m05s" → 65); -1 when there is none.
double LastEtaSeconds(const std::string& text) {
  const std::regex eta("ETA (?:(\\d+)m)?(\\d+)s");
  double last = -1;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), eta); it != std::sregex_iterator();
       ++it) {
    const double minutes = (*it)[1].matched ? std::stod((*it)[1].str()) : 0.0;
    last = 60 * minutes + std::stod((*it)[2].str());
  }
  return last;
}

TEST(ProgressTest, RatesReadInTheLargestUnitAtLeastOne) {
  EXPECT_EQ(Progress::FormatRate(12.5), "12.5/s");
  EXPECT_EQ(Progress::FormatRate(1.0), "1.0/s");
  EXPECT_EQ(Progress::FormatRate(0.0), "0.0/s");
  EXPECT_EQ(Progress::FormatRate(0.5), "30.0/min");
  EXPECT_EQ(Progress::FormatRate(1.0 / 60), "1.0/min");
  EXPECT_EQ(Progress::FormatRate(2.0 / 3600), "2.0/h");  // a sweep's depths: was "0.00/s"
  EXPECT_EQ(Progress::FormatRate(-1.0), "?/s");
}

TEST(ProgressTest, DurationsReadAsHoursMinutesSeconds) {
  EXPECT_EQ(Progress::FormatDuration(12.4), "12s");
  EXPECT_EQ(Progress::FormatDuration(185), "3m05s");
  EXPECT_EQ(Progress::FormatDuration(3720), "1h02m");
  EXPECT_EQ(Progress::FormatDuration(-1), "?");
}

TEST(ProgressTest, WorkDoneBeforeThisRunIsLeftOutOfTheRateAndEta) {
  // A training resumed at step 50 of 100 that then does one step in ~50 ms: 49 steps at ~20/s
  // are ~2.5 s to go. Counting the 50 resumed steps as this run's would say ~1000/s and ETA 0s.
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p("train", 100, f, /*log_interval_s=*/0.0);
    p.AddBaseline(50);
    p.Update(50);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    p.Update(51);
    const std::string text = ReadAll(f);
    EXPECT_NE(text.find("train 51/100"), std::string::npos) << text;
    EXPECT_GE(LastEtaSeconds(text), 1.0) << text;
  }
  std::fclose(f);
}

TEST(ProgressTest, WithoutABaselineEveryUnitCountsInTheRate) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p("sweep", 4, f, 0.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    p.Update(2, "net.depth=10");
    const std::string text = ReadAll(f);
    // 2 units in ≥ 20 ms: ≤ 100/s, so the 2 left take ≥ 0.02 s; the line names the note.
    EXPECT_NE(text.find("sweep 2/4"), std::string::npos) << text;
    EXPECT_NE(text.find("net.depth=10"), std::string::npos) << text;
    EXPECT_GE(LastEtaSeconds(text), 0.0) << text;
    p.Finish("done");
    const std::string final_text = ReadAll(f);
    const std::string last = final_text.substr(final_text.rfind("sweep 2/4"));
    EXPECT_EQ(last.find("ETA"), std::string::npos) << last;  // the final line has no ETA
    EXPECT_NE(last.find("done"), std::string::npos) << last;
  }
  std::fclose(f);
}

}  // namespace
}  // namespace rfx

// The fixture of the forward and gradient probe tests: re-seeded, CPU, two threads.
#pragma once
#include "rfx/config/config.h"
#include "seeded_test.h"

namespace rfx::probe {

class ProbeTest : public test::SeededTest {
 protected:
  void SetUp() override {
    test::SeededTest::SetUp();
    config_.ApplySet("train.device=cpu");
    config_.ApplySet("train.threads=2");
  }
  Config config_;
};

}  // namespace rfx::probe

// libFuzzer target: a sweep's record file (results.jsonl, shard-I-of-N.jsonl) as `rfx merge`,
// `rfx fit` and a resuming sweep read it (sweep::ReadRecordFile), and the config-hash check over
// its records. The input is written to a file and read back, so the file layer runs too.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "rfx/sweep/merge.h"
#include "rfx/sweep/store.h"
#include "rfx/sweep/sweep_dir.h"
#include "rfx/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/rfx-records-fuzz-" + std::to_string(::getpid()) + ".jsonl";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  const rfx::sweep::RecordFile read = rfx::sweep::ReadRecordFile(path);
  size_t lines = read.records.size() + read.bad.size();
  for (const auto& r : read.records) {
    if (!r.contains("key") || !r["key"].is_string()) __builtin_trap();  // the reader's contract
    (void)rfx::sweep::IsFinished(r);
  }
  (void)lines;
  try {
    rfx::sweep::CheckOneConfig(read.records, "", "fuzz", "fuzz");
  } catch (const rfx::UsageError&) {
  }
  (void)rfx::sweep::RecordsCsv(read.records, {"net.depth"});
  return 0;
}

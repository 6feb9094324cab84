// rfx merge: combine shard files (and other sweep directories) into DIR/results.jsonl + .csv.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "rfx/sweep/merge.h"
#include "rfx/sweep/store.h"

namespace rfx::cli {
namespace {

// "results.jsonl lines 3, 9; other/shard-1-of-2.jsonl line 4": files of `dest` by name alone.
std::string RejectedLines(const std::vector<sweep::RejectedLine>& rejected,
                          const std::string& dest) {
  std::vector<std::pair<std::string, std::vector<size_t>>> by_file;
  for (const auto& r : rejected) {
    if (by_file.empty() || by_file.back().first != r.source) by_file.push_back({r.source, {}});
    by_file.back().second.push_back(r.bad.line);
  }
  std::string s;
  for (const auto& [file, lines] : by_file) {
    const std::string prefix = dest + "/";
    s += (s.empty() ? "" : "; ") +
         (file.rfind(prefix, 0) == 0 ? file.substr(prefix.size()) : file) +
         (lines.size() == 1 ? " line " : " lines ");
    for (size_t i = 0; i < lines.size(); ++i) s += (i ? ", " : "") + std::to_string(lines[i]);
  }
  return s;
}

}  // namespace

Runner AddMergeCommand(CLI::App& app) {
  auto dirs = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd =
      app.add_subcommand("merge",
                         "Merge a sweep's shard files (and more sweep dirs) into the first DIR's "
                         "results.jsonl and results.csv, deduplicated by cell key; lines that are "
                         "not records are kept in DIR/results.rejected.jsonl");
  cmd->add_option("dirs", *dirs, "Sweep directories; the first receives the merged results")
      ->required();
  return [dirs]() {
    const sweep::MergeReport r = sweep::Merge(*dirs);
    std::cout << r.records << " records in " << (*dirs)[0] << "/results.jsonl (" << r.added
              << " new, " << r.duplicates << " duplicates dropped) from " << r.sources.size()
              << " file(s); CSV in " << (*dirs)[0] << "/results.csv\n";
    // Exit 0 all the same: every readable record is merged and no line is lost.
    if (!r.rejected.empty()) {
      std::cerr << "rfx merge: " << r.rejected.size() << " unreadable line(s) kept in "
                << r.rejected_path << ": " << RejectedLines(r.rejected, (*dirs)[0]) << "\n";
    }
    return 0;
  };
}

}  // namespace rfx::cli

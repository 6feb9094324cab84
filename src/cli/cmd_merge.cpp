// rfx merge: combine shard files (and other sweep directories) into DIR/results.jsonl + .csv.
#include <iostream>

#include "cli/commands.h"
#include "rfx/sweep/store.h"

namespace rfx::cli {

Runner AddMergeCommand(CLI::App& app) {
  auto dirs = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd =
      app.add_subcommand("merge",
                         "Merge a sweep's shard files (and more sweep dirs) into the first DIR's "
                         "results.jsonl and results.csv, deduplicated by cell key");
  cmd->add_option("dirs", *dirs, "Sweep directories; the first receives the merged results")
      ->required();
  return [dirs]() {
    const sweep::MergeReport r = sweep::Merge(*dirs);
    std::cout << r.records << " records in " << (*dirs)[0] << "/results.jsonl (" << r.added
              << " new, " << r.duplicates << " duplicates dropped) from " << r.sources.size()
              << " file(s); CSV in " << (*dirs)[0] << "/results.csv\n";
    return 0;
  };
}

}  // namespace rfx::cli

// rfx dataset preview: a PNG sheet of samples (input, е target, ё target per column).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "rfx/data/preview.h"

namespace rfx::cli {

Runner AddDatasetCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("dataset", "The synthetic data sets: preview");
  cmd->require_subcommand(1);
  CLI::App* preview = cmd->add_subcommand(
      "preview",
      "Write a PNG grid of samples: one column per sample; rows input, e target, yo target");
  auto config = std::make_shared<ConfigArgs>();
  auto options = std::make_shared<data::PreviewOptions>();
  auto out = std::make_shared<std::string>();
  AddConfigOptions(preview, config.get());
  preview->add_option("--out", *out, "PNG file to write")->required();
  preview->add_option("--count", options->count, "Samples (columns), 1..64")->capture_default_str();
  Runner run_preview = [config, options, out]() -> int {
    if (out->empty()) throw UsageError("--out is empty; give the .png file to write");
    options->validate();
    const Config c = LoadConfig(*config);
    const auto dataset = data::DatasetOptions::FromConfig(c);
    data::WritePreview(dataset, *options, *out);
    std::cout << "wrote " << *out << " (" << options->count << " samples, kind "
              << data::DatasetKindText(dataset.kind) << ", distance " << dataset.distance << ")\n";
    return 0;
  };
  return Dispatch(cmd, {{preview, run_preview}});
}

}  // namespace rfx::cli

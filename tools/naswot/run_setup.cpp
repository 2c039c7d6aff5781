// Shared option and setup code of the scoring commands (run_setup.h).
#include "tools/naswot/run_setup.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "runtime/error.h"
#include "search/darts_space.h"

namespace naswot::cli {

namespace {

formats::DatasetKind norm_for(const RunOptions& o, const formats::DataSpec& spec) {
  if (!o.norm.empty()) return formats::parse_dataset_kind(o.norm);
  if (spec.kind == "cifar100") return formats::DatasetKind::Cifar100;
  if (o.image_size == 16) return formats::DatasetKind::ImageNet16;
  return formats::DatasetKind::Cifar10;
}

}  // namespace

void add_run_options(CLI::App* cmd, RunOptions& o) {
  cmd->add_option("--space", o.space, "Search space: nb201, darts (NetworkCIFAR), darts_in (NetworkImageNet), nds")
      ->check(CLI::IsMember({"nb201", "darts", "darts_in", "nds"}))
      ->capture_default_str();
  cmd->add_option("--width", o.width, "darts spaces: C, the channels of the first cells (default 32, NB301's network)");
  cmd->add_option("--depth", o.depth, "darts spaces: number of cells (default 8, NB301's network)");
  cmd->add_option("--nds-json", o.nds_json,
                  "darts spaces: NDS JSON file (or genotype list, one per line) whose entries --index selects");
  cmd->add_option("--data", o.data, "synthetic | cifar10:PATH | cifar100:PATH | npy:FILE")->capture_default_str();
  cmd->add_option("--batch", o.batch, "Images per batch (N)")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed of the weights, the synthetic batch and the batch choice")
      ->capture_default_str();
  cmd->add_option("--counting", o.counting,
                  "reference: as the original code (ReLUConvBN inputs count twice); unit: every ReLU once")
      ->check(CLI::IsMember({"reference", "unit"}))
      ->capture_default_str();
  cmd->add_option("--backend", o.backend, "cpu | cuda | auto (cuda when a device is visible)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
  cmd->add_option("--image-size", o.image_size,
                  "32 (CIFAR) or 16 (ImageNet16-120) for nb201; any size the network fits for the darts spaces; "
                  "default: from the data, else 224 for the ImageNet networks (darts_in, nds over an *_in file) "
                  "and 32 otherwise");
  cmd->add_option("--norm", o.norm, "Normalisation of uint8 images: cifar10 | cifar100 | imagenet16")
      ->check(CLI::IsMember({"cifar10", "cifar100", "imagenet16"}));
  cmd->add_option("--precision", o.precision,
                  "Convolution arithmetic: fp32 (default, matches the CPU and PyTorch within 1e-6), tf32 (CUDA only, "
                  "opt-in: tensor cores, faster, scores move slightly) or 3xtf32 (CUDA only, opt-in: tensor cores "
                  "on operands split in three TF32 products, errors of fp32's order; see README)")
      ->capture_default_str();
  cmd->add_option("--stack", o.stack,
                  "CUDA: score groups of G architectures as one stream of launches, W groups in flight (G or G,W; "
                  "W defaults to 2; 0 = off: the lanes). Default: 32,3 for nb201, off for the other spaces; "
                  "NASWOT_CUDA_STACK=G[,W] sets it for every space");
  cmd->add_option("--group", o.group,
                  "Architectures per backend call (default: 1 on the CPU, 256 on the GPU, where they run overlapped)");
}

RunData load_run_data(const RunOptions& o) {
  RunData d;
  d.counting = rt::parse_counting(o.counting);
  NASWOT_EXPECT(o.batch >= 2, BadInput, "--batch " << o.batch << ": need at least 2 images for a kernel matrix");
  d.spec = formats::parse_data_spec(o.data);
  d.norm = norm_for(o, d.spec);
  // The synthetic batch follows the network (224 for the ImageNet networks); CIFAR files are 32x32
  // and npy files carry their own size.
  const int fallback = d.spec.kind == "synthetic" ? search::default_image_size(o.space, o.nds_json) : 32;
  d.batch = formats::load_batch(d.spec, o.batch, o.seed, d.norm, o.image_size > 0 ? o.image_size : fallback);
  NASWOT_EXPECT(o.image_size == 0 || d.batch.shape.h == o.image_size, BadInput,
                "--image-size " << o.image_size << " but " << d.batch.source << " holds " << d.batch.shape.h << "x"
                                << d.batch.shape.w << " images");
  search::SpaceOptions space_options(d.batch.shape.h);
  NASWOT_EXPECT(o.space != "nb201" || (o.width == 0 && o.depth == 0 && o.nds_json.empty()), BadInput,
                "--width, --depth and --nds-json apply to the darts spaces (darts, darts_in, nds), not to " << o.space);
  space_options.width = o.width;
  space_options.depth = o.depth;
  space_options.source = o.nds_json;
  d.space = search::make_space(o.space, space_options);
  return d;
}

std::pair<int, int> parse_stack(const std::string& text) {
  int group = -1, workers = 2;
  char extra = 0;
  const int got = std::sscanf(text.c_str(), "%d,%d%c", &group, &workers, &extra);
  NASWOT_EXPECT((got == 1 || got == 2) && text.find_first_not_of("0123456789,") == std::string::npos &&
                    text.back() != ',' && group >= 0 && workers >= 1,
                BadInput, "--stack '" << text << "': expected G or G,W (group size >= 0, workers >= 1), e.g. 32,3");
  return {group, workers};
}

std::unique_ptr<rt::Backend> make_run_backend(const RunOptions& o, int device_hint) {
  const rt::ConvPrecision precision = rt::parse_conv_precision(o.precision);  // before a GPU is touched
  const std::pair<int, int> stack = o.stack.empty() ? std::pair{-1, 0} : parse_stack(o.stack);
  std::unique_ptr<rt::Backend> backend = rt::make_backend(rt::parse_backend_kind(o.backend), device_hint);
  backend->set_conv_precision(precision);
  // Without --stack, NB-201 on the GPU is stacked (H200, 2026-12-04: 400 archs/s against the
  // lanes' 317, scores within 1e-6 of the lanes); DARTS stays on the lanes (stacked 8% slower).
  const std::pair<int, int> chosen =
      stack.first >= 0 ? stack : default_stacking(o.space, backend->name(), std::getenv("NASWOT_CUDA_STACK") != nullptr);
  if (chosen.first >= 0) backend->set_stacking(chosen.first, chosen.second);
  return backend;
}

size_t run_group_size(const RunOptions& o, const rt::Backend& backend) {
  NASWOT_EXPECT(o.group >= 0, BadInput, "--group " << o.group << ": expected a positive number of architectures");
  if (o.group > 0) return static_cast<size_t>(o.group);
  return backend.name() == "cuda" ? 256 : 1;
}

}  // namespace naswot::cli

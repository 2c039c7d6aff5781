// DARTS-family search spaces (rules in darts_space.h).
#include "search/darts_space.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "cells/darts.h"
#include "runtime/error.h"
#include "search/genotype_table.h"
#include "tools/formats/arch_file.h"

namespace naswot::search {
namespace {

// The first bytes of a file, enough to tell JSON from a genotype list.
std::string head_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  NASWOT_EXPECT(in.good(), Io, path << ": cannot open the genotype source");
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

class DartsSpace final : public Space {
 public:
  DartsSpace(std::string name, bool imagenet, const SpaceOptions& options)
      : m_name(std::move(name)), m_imagenet(imagenet), m_options(options) {
    NASWOT_EXPECT(options.width >= 0 && options.depth >= 0, BadInput,
                  "--width " << options.width << " / --depth " << options.depth << ": expected positive values");
    if (!options.source.empty()) load(options.source);
  }

  std::string name() const override { return m_name; }
  int64_t size() const override { return static_cast<int64_t>(m_entries.size()); }

  ArchEntry from_index(int64_t index) const override {
    NASWOT_EXPECT(!m_entries.empty(), BadInput,
                  m_name << " index " << index << ": this space has indices only over a genotype source "
                         << "(--nds-json FILE, or a genotype list); give the genotype itself instead");
    NASWOT_EXPECT(index >= 0 && index < size(), BadInput,
                  m_name << " index " << index << " is outside 0.." << size() - 1 << " (" << m_options.source << ")");
    return {index, cells::to_string(m_entries[static_cast<size_t>(index)])};
  }

  ArchEntry from_string(const std::string& arch) const override {
    const std::string canonical = cells::to_string(cells::parse_darts_arch(arch));
    const auto it = m_index_of.find(canonical);
    return {it == m_index_of.end() ? -1 : it->second, canonical};
  }

  rt::Graph build(const ArchEntry& entry) const override {
    const cells::DartsArch a = cells::parse_darts_arch(entry.arch);
    return cells::build_darts(a.genotype, config_for(a));
  }

  // The largest network of the space: every edge a sep_conv_7x7 (the most intermediate tensors)
  // reading the cell inputs (which keeps them alive longest), at the largest width and depth.
  // Backends still grow past it if an entry needs more.
  rt::Graph worst_case() const override {
    cells::DartsArch big;
    big.width = config_for(big).width;
    big.depth = config_for(big).depth;
    int steps = 4;
    for (const cells::DartsArch& a : m_entries) {
      const cells::DartsConfig c = config_for(a);
      big.width = std::max(big.width, c.width);
      big.depth = std::max(big.depth, c.depth);
      steps = std::max({steps, a.genotype.normal.steps(), a.genotype.reduce.steps()});
    }
    cells::DartsCell cell;
    for (int e = 0; e < 2 * steps; ++e) cell.edges.push_back({cells::DartsOp::SepConv7x7, e % 2});
    for (int s = 0; s < steps; ++s) cell.concat.push_back(2 + s);
    big.genotype = {cell, cell};
    return cells::build_darts(big.genotype, config_for(big));
  }

  std::string note(const ArchEntry& entry) const override {
    if (!cells::parse_darts_arch(entry.arch).aux) return {};
    return "aux=true: scored without the auxiliary head; the reference's train-mode forward returns "
           "(logits, logits_aux) for such a network and its score is NaN";
  }

 private:
  cells::DartsConfig config_for(const cells::DartsArch& a) const {
    cells::DartsConfig c;
    c.width = a.width > 0 ? a.width : m_options.width > 0 ? m_options.width : cells::kDartsDefaultWidth;
    c.depth = a.depth > 0 ? a.depth : m_options.depth > 0 ? m_options.depth : cells::kDartsDefaultDepth;
    c.imagenet = m_imagenet;
    c.input_size = m_options.image_size;
    return c;
  }

  void load(const std::string& path) {
    const std::string head = head_of(path);
    if (cells::looks_like_json(head)) {
      for (cells::NdsItem& item : cells::read_nds_json(path)) m_entries.push_back(std::move(item.arch));
    } else if (file_is_genotype_table(path)) {
      for (GenotypeTableRow& row : read_genotype_table(path).rows) {
        cells::DartsArch arch;
        arch.genotype = std::move(row.genotype);
        m_entries.push_back(std::move(arch));
      }
    } else {
      for (const formats::ArchLine& line : formats::read_arch_lines(path)) {
        try {
          m_entries.push_back(cells::parse_darts_arch(line.arch));
        } catch (const Error& e) {
          throw_error(e.kind(), path + ":" + std::to_string(line.line) + ": " + e.what());
        }
      }
    }
    for (size_t i = 0; i < m_entries.size(); ++i)
      m_index_of.emplace(cells::to_string(m_entries[i]), static_cast<int64_t>(i));  // first of duplicates wins
  }

  std::string m_name;
  bool m_imagenet;
  SpaceOptions m_options;
  std::vector<cells::DartsArch> m_entries;
  std::map<std::string, int64_t> m_index_of;
};

}  // namespace

bool is_darts_space(const std::string& name) { return name == "darts" || name == "darts_in" || name == "nds"; }

bool darts_space_is_imagenet(const std::string& name, const std::string& source) {
  if (name == "darts_in") return true;
  return name == "nds" && std::filesystem::path(source).filename().string().find("_in") != std::string::npos;
}

int default_image_size(const std::string& space, const std::string& source) {
  return darts_space_is_imagenet(space, source) ? 224 : 32;
}

std::unique_ptr<Space> make_darts_space(const std::string& name, const SpaceOptions& options) {
  if (name == "darts" || name == "darts_in")
    return std::make_unique<DartsSpace>(name, darts_space_is_imagenet(name, options.source), options);
  if (name == "nds") {
    NASWOT_EXPECT(!options.source.empty(), BadInput, "--space nds needs an NDS JSON file (--nds-json FILE)");
    return std::make_unique<DartsSpace>(name, darts_space_is_imagenet(name, options.source), options);
  }
  throw_error(ErrorKind::BadInput, "--space '" + name + "': expected darts, darts_in or nds");
}

}  // namespace naswot::search

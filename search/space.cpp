#include "search/space.h"

#include <algorithm>
#include <cctype>

#include "cells/nb201.h"
#include "runtime/error.h"
#include "search/darts_space.h"

namespace naswot::search {

ArchEntry Space::from_token(const std::string& token) const {
  const bool numeric = !token.empty() && token.size() < 12 &&
                       std::all_of(token.begin(), token.end(), [](unsigned char ch) { return std::isdigit(ch); });
  return numeric ? from_index(std::stoll(token)) : from_string(token);
}

namespace {

class Nb201Space final : public Space {
 public:
  explicit Nb201Space(const SpaceOptions& options) {
    NASWOT_EXPECT(options.image_size == 32 || options.image_size == 16, BadInput,
                  "--image-size " << options.image_size << ": NB201 networks take 32 (CIFAR) or 16 (ImageNet16-120)");
    m_config.input_size = options.image_size;
  }
  std::string name() const override { return "nb201"; }
  int64_t size() const override { return cells::kNb201Size; }
  ArchEntry from_index(int64_t index) const override {
    NASWOT_EXPECT(index >= 0 && index < cells::kNb201Size, BadInput,
                  "nb201 index " << index << " is outside 0.." << cells::kNb201Size - 1);
    return {index, cells::to_string(cells::nb201_from_index(static_cast<int>(index)))};
  }
  ArchEntry from_string(const std::string& arch) const override {
    const cells::Nb201Arch a = cells::parse_nb201(arch);
    return {cells::nb201_index(a), cells::to_string(a)};
  }
  rt::Graph build(const ArchEntry& entry) const override {
    return cells::build_nb201(cells::parse_nb201(entry.arch), m_config);
  }
  rt::Graph worst_case() const override {
    cells::Nb201Arch all_conv;
    all_conv.edges.fill(cells::Nb201Op::NorConv3x3);
    return cells::build_nb201(all_conv, m_config);
  }

 private:
  cells::Nb201Config m_config;
};

}  // namespace

std::unique_ptr<Space> make_space(const std::string& name, const SpaceOptions& options) {
  if (name == "nb201") return std::make_unique<Nb201Space>(options);
  if (is_darts_space(name)) return make_darts_space(name, options);
  throw_error(ErrorKind::BadInput, "--space '" + name + "': expected nb201, darts, darts_in or nds");
}

}  // namespace naswot::search

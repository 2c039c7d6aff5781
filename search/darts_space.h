// The DARTS-family spaces behind search::Space (cells/darts.h, reference-semantics.md §4):
//  * darts:    pycls NetworkCIFAR;
//  * darts_in: pycls NetworkImageNet (the NDS `_in` spaces);
//  * nds:      an NDS JSON file (SpaceOptions::source, required), NetworkImageNet when the file's
//              name contains "_in" (as the reference picks the network by the space name).
// Entries: without a source, any genotype given as a string (from_string), no indices. With a
// source (a genotype list, one per line in any notation of cells/darts.h, '#' comments; a genotype
// table such as the NB301 CSV, genotype_table.h, row r being index r; or an NDS JSON file), its
// entries are the indices 0..size()-1, and from_string finds a string's index.
// Network size: an entry's own `width=/depth=` (NDS items carry theirs), else SpaceOptions
// width/depth, else C=32 and 8 cells (cells::DartsConfig).
#pragma once
#include <memory>
#include <string>

#include "search/space.h"

namespace naswot::search {

bool is_darts_space(const std::string& name);  // darts, darts_in, nds
// Whether `name` (with its source file, for nds) builds NetworkImageNet: darts_in, or nds over a
// file whose name contains "_in".
bool darts_space_is_imagenet(const std::string& name, const std::string& source);
// The input size a space is scored at when the data does not fix it: 224 for the ImageNet
// networks (the reference scored the NDS `_in` spaces on 224x224 imagenette2 batches), else 32.
int default_image_size(const std::string& space, const std::string& source);
std::unique_ptr<Space> make_darts_space(const std::string& name, const SpaceOptions& options);

}  // namespace naswot::search

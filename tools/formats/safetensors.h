// safetensors read/write for parameter import/export (the Hugging Face format PyTorch users
// exchange state_dicts in).
// Layout: 8-byte little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}   (metadata optional, string values only)
// then the raw little-endian data; offsets are relative to the first byte after the header.
// Reading accepts F32, F64, F16, BF16, I64 and I32 and converts every value to float32
// (integers must be exactly representable; non-finite values are rejected by tensor and index).
// Writing emits F32 only, tensors contiguous in the requested order, header padded with spaces
// so the data starts 8-byte aligned (what the reference safetensors library requires/produces).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "runtime/params.h"

namespace naswot::formats {

struct SafetensorsFile {
  rt::Params params;
  std::vector<std::string> order;  // tensor names by increasing data offset
  std::map<std::string, std::string> metadata;
};

// Full read with metadata. Throws naswot::Error: Io (cannot open/read), BadInput (malformed:
// the message names the file, the tensor or header field and what was expected).
SafetensorsFile read_safetensors_file(const std::string& path);

// The tensors only.
rt::Params read_safetensors(const std::string& path);

// Write `params` as F32. `order` lists every tensor name exactly once (data is laid out in that
// order); an empty `order` means name order. BadInput if `order` is not a permutation of the
// names or a metadata key is "__metadata__"-reserved; Io on write failure.
void write_safetensors(const std::string& path, const rt::Params& params, const std::vector<std::string>& order,
                       const std::map<std::string, std::string>& metadata = {});

// IEEE binary16 and bfloat16 bit patterns to float (exact; used by the reader, exposed for tests).
float half_to_float(uint16_t bits);
float bfloat16_to_float(uint16_t bits);

}  // namespace naswot::formats

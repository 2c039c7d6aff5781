// File access for the format readers: every failure becomes naswot::Error (Io) with the path
// and, for ranged reads, the offset and byte count that could not be read.
#include "tools/formats/binary_io.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "runtime/error.h"

namespace naswot::formats {

namespace fs = std::filesystem;

static std::string errno_text() { return errno ? std::string(": ") + std::strerror(errno) : std::string(); }

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

uint64_t file_size(const std::string& path) {
  std::error_code ec;
  NASWOT_EXPECT(!fs::is_directory(path, ec), Io, path << ": is a directory, expected a file");
  const auto size = fs::file_size(path, ec);
  NASWOT_EXPECT(!ec, Io, path << ": cannot open (" << ec.message() << ")");
  return static_cast<uint64_t>(size);
}

std::vector<uint8_t> read_file_range(const std::string& path, uint64_t offset, uint64_t count) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  NASWOT_EXPECT(in.good(), Io, path << ": cannot open for reading" << errno_text());
  std::vector<uint8_t> bytes(static_cast<size_t>(count));
  in.seekg(static_cast<std::streamoff>(offset));
  if (count) in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
  NASWOT_EXPECT(in.good() && static_cast<uint64_t>(in.gcount()) == count, Io,
                path << ": short read: expected " << count << " bytes at offset " << offset << ", got "
                     << (in.gcount() > 0 ? in.gcount() : 0));
  return bytes;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) { return read_file_range(path, 0, file_size(path)); }

void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  NASWOT_EXPECT(out.good(), Io, path << ": cannot open for writing" << errno_text());
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  NASWOT_EXPECT(!out.fail(), Io, path << ": write of " << bytes.size() << " bytes failed" << errno_text());
}

}  // namespace naswot::formats

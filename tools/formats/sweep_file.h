// Sweep files (`naswot sweep`, `naswot merge`): JSON lines, one header then one record per
// scored architecture, appended and flushed as a sweep goes so that an interrupted file can be
// resumed and shard files merged.
//
//   line 1   {"naswot_sweep":1,"naswot_version":"0.1.0","space":"nb201","space_options":"",
//             "space_size":15625,"image_size":32,"data":"synthetic","data_fingerprint":"fnv1a64:...","batch":128,
//             "seed":1,"counting":"reference","norm":"cifar10","precision":"fp32","unique":false,"unique_by":"","shard":"3/1000",
//             "part":"0/1","backend":"cpu"}
//   line 2.. {"index":17,"arch":"|...|","score":-1234.5,"status":"ok","n_units":1234,
//             "seconds":0.12[,"members":[17,40,...]]}
//
// Records carry the keys of `naswot score --format jsonl` (tools/formats/results.h: a non-finite
// score is a string, "-inf"), plus `members` (the API indices of the isomorphism class the record
// stands for) in a --unique sweep. Every record ends with '\n'; a last line without one is a
// write cut short by a kill, which the reader reports (truncated_tail) instead of parsing.
//
// The header holds everything that decides a score. `data` is the spec as typed and is not
// compared: `data_fingerprint` (FNV-1a 64 of the batch shape and float values) is, so the same
// data under another path (another node of a cluster) is accepted and a changed file is not.
// `space_options` is what else shapes the space's networks and indices (the darts spaces' width,
// depth and a fingerprint of their genotype file; empty for nb201), compared as a string.
// `backend` is informational and not compared either: CPU and CUDA scores agree to ~1e-7
// relative, and mixed clusters may merge shards from both.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "runtime/batch.h"
#include "tools/formats/results.h"

namespace naswot::formats {

inline constexpr int kSweepFormatVersion = 1;

struct SweepHeader {
  std::string naswot_version;
  std::string space;
  std::string space_options;  // "" for nb201; see above
  int64_t space_size = 0;
  int image_size = 0;
  std::string data;              // as given (informational)
  std::string data_fingerprint;  // "fnv1a64:<16 hex digits>"
  int batch = 0;
  uint64_t seed = 0;
  std::string counting;
  std::string norm;
  std::string precision = "fp32";  // convolution arithmetic (--precision)
  bool unique = false;
  std::string unique_by;  // with unique: the equivalence ("benchmark" | "function"), else ""
  std::string shard = "0/1";  // --shard (or the Slurm array task)
  std::string part = "0/1";   // MPI rank r of K splitting the shard; 0/1 otherwise
  std::string backend;        // informational
};

// Fields that differ between two headers, one "name: A in <a_name>, B in <b_name>" entry each.
// With placement = false the shard and part are left out (files of one sweep differ there).
std::vector<std::string> header_differences(const SweepHeader& a, const std::string& a_name, const SweepHeader& b,
                                            const std::string& b_name, bool placement);
std::string header_to_json(const SweepHeader& h);  // one line, no '\n'

// "fnv1a64:<hex>" of the batch shape and its float bytes.
std::string batch_fingerprint(const rt::Batch& batch);
// "fnv1a64:<hex>" of a file's bytes; Io naming the file when it cannot be read.
std::string file_fingerprint(const std::string& path);

struct SweepRecord {
  ScoreRecord score;
  std::vector<int64_t> members;  // --unique only
};
std::string record_to_json(const SweepRecord& r);  // one line, no '\n'

// Reads a sweep file line by line (constant memory). The constructor opens the file and reads
// the header: Io when it cannot be opened, BadInput naming file:1 when the header is missing or
// malformed. next() throws BadInput naming file:line for a malformed complete line.
class SweepReader {
 public:
  explicit SweepReader(const std::string& path);
  ~SweepReader();
  SweepReader(const SweepReader&) = delete;
  SweepReader& operator=(const SweepReader&) = delete;

  const SweepHeader& header() const { return m_header; }
  const std::string& path() const { return m_path; }
  // The next record, its text (without '\n') in `line_text` when given; false at the end.
  bool next(SweepRecord& record, std::string* line_text = nullptr);
  int64_t line() const { return m_line; }  // 1-based line number of the last line read
  // After next() returned false: whether the file ended in a line without '\n', and the byte
  // length of the file up to the last complete line (what a resume keeps).
  bool truncated_tail() const { return m_truncated; }
  uint64_t complete_bytes() const { return m_complete_bytes; }

 private:
  bool read_line(std::string& line);
  std::string m_path;
  FILE* m_file = nullptr;
  SweepHeader m_header;
  int64_t m_line = 0;
  bool m_truncated = false;
  uint64_t m_complete_bytes = 0;
};

// True when `path` holds a header line that ends with '\n' (a resumable sweep file); false when
// it is empty or its first line was cut short (nothing worth keeping). Io when unreadable.
bool sweep_file_has_header(const std::string& path);

// Appends records to a sweep file. create(): truncate and write the header; append(): continue
// an existing file (after a resume has cut any truncated tail). flush() pushes the buffered lines
// to the kernel (fflush: they survive a killed process); sync() also fsyncs (they survive a
// node crash). Io errors name the file.
class SweepWriter {
 public:
  static std::unique_ptr<SweepWriter> create(const std::string& path, const SweepHeader& header);
  static std::unique_ptr<SweepWriter> append(const std::string& path);
  ~SweepWriter();
  SweepWriter(const SweepWriter&) = delete;
  SweepWriter& operator=(const SweepWriter&) = delete;

  void write(const SweepRecord& record);
  void write_line(const std::string& line);  // a record line as read (merge copies verbatim)
  void flush();
  void sync();
  void close();  // flush, fsync and close; Io if any step fails

 private:
  SweepWriter(const std::string& path, FILE* file) : m_path(path), m_file(file) {}
  std::string m_path;
  FILE* m_file = nullptr;
};

}  // namespace naswot::formats

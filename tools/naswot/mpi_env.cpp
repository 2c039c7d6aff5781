// MpiEnv (mpi_env.h). Everything MPI is behind NASWOT_HAVE_MPI, set by CMake for the naswot
// command only when MPI was found (NASWOT_MPI=AUTO|ON).
#include "tools/naswot/mpi_env.h"

#include <cstdlib>
#include <string>

#include "runtime/error.h"

#ifdef NASWOT_HAVE_MPI
#include <mpi.h>
#endif

namespace naswot::cli {

namespace {

[[maybe_unused]] bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(name)) return true;
  return false;
}

// The world size a launcher announces, 1 when none does.
[[maybe_unused]] int announced_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 1;
}

#ifdef NASWOT_HAVE_MPI
void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw_error(ErrorKind::Internal, std::string(what) + " failed: " + std::string(text, static_cast<size_t>(len)));
}
#endif

}  // namespace

MpiEnv::MpiEnv() {
#ifdef NASWOT_HAVE_MPI
  if (!launched_by_mpi()) return;
  int provided = 0;
  check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  m_initialized = true;
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &m_rank), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &m_size), "MPI_Comm_size");
  MPI_Comm node;  // the ranks sharing this node's memory: the local rank picks the GPU
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, m_rank, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  check_mpi(MPI_Comm_rank(node, &m_local_rank), "MPI_Comm_rank (node)");
  MPI_Comm_free(&node);
#else
  const int size = announced_size();
  NASWOT_EXPECT(size <= 1, Unsupported,
                "started by an MPI launcher with " << size << " processes, but this naswot was built without MPI "
                                                   << "(configure with -DNASWOT_MPI=ON and an MPI library, e.g. "
                                                   << "Debian's libopenmpi-dev); each process would write the "
                                                   << "same file");
#endif
}

MpiEnv::~MpiEnv() {
#ifdef NASWOT_HAVE_MPI
  if (m_initialized) MPI_Finalize();
#endif
}

bool MpiEnv::all(bool flag) const {
#ifdef NASWOT_HAVE_MPI
  if (!m_initialized) return flag;
  int in = flag ? 1 : 0, out = 0;
  check_mpi(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD), "MPI_Allreduce");
  return out != 0;
#else
  return flag;
#endif
}

void MpiEnv::barrier() const {
#ifdef NASWOT_HAVE_MPI
  if (m_initialized) check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

void MpiEnv::abort(int code) const {
#ifdef NASWOT_HAVE_MPI
  if (m_initialized) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::_Exit(code);
}

}  // namespace naswot::cli

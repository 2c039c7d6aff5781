// The MPI side of `naswot sweep`: which rank of how many this process is, and the few collective
// steps the sweep needs (all-complete vote, barrier, abort). Built with MPI (NASWOT_MPI, CMake)
// only; without it, or when the process was not started by an MPI launcher, it is rank 0 of 1.
//
// MPI_Init runs only when a launcher's environment is present (OMPI_COMM_WORLD_SIZE from Open
// MPI's mpirun, PMIX_RANK from PMIx launchers such as `srun --mpi=pmix`, PMI_RANK/PMI_SIZE from
// MPICH/Hydra or PMI-2): a plain `naswot sweep` never starts an MPI singleton, which on some
// systems forks a daemon or fails outright. A build without MPI that finds such an environment
// with more than one process refuses to run, since every copy would write the same file.
#pragma once

namespace naswot::cli {

class MpiEnv {
 public:
  MpiEnv();   // MPI_Init_thread when built with MPI and launched by an MPI launcher
  ~MpiEnv();  // MPI_Finalize
  MpiEnv(const MpiEnv&) = delete;
  MpiEnv& operator=(const MpiEnv&) = delete;

  bool active() const { return m_size > 1; }
  int rank() const { return m_rank; }
  int size() const { return m_size; }
  int local_rank() const { return m_local_rank; }  // rank among the processes of this node

  bool all(bool flag) const;    // logical AND over the ranks (collective)
  void barrier() const;         // collective
  [[noreturn]] void abort(int code) const;  // MPI_Abort: stops every rank (after an error on one)

 private:
  bool m_initialized = false;
  int m_rank = 0;
  int m_size = 1;
  int m_local_rank = 0;
};

}  // namespace naswot::cli

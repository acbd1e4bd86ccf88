// grove::mpi::environment, wait() on MPI and Boost.MPI requests, and remote_error.
#include <grove/cancel.hpp>
#include <grove/errors.hpp>
#include <grove/mpi.hpp>
#include <grove/runtime.hpp>
#include <memory>
#include <string>

#include "mpi/progress_engine.hpp"

namespace grove::mpi {
namespace {

// The environment's engine. A plain pointer beside progress_engine's atomic one: only the
// environment's constructor and destructor, on the main thread, write it.
std::unique_ptr<detail::progress_engine> engine_of_the_environment;

const char* level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    default:
      return "MPI_THREAD_MULTIPLE";
  }
}

// Parks until poll(context) holds, without the task's cancellation interrupting: see wait().
void park_until_polled(bool (*poll)(void*), void* context) {
  if (!grove::in_task()) throw grove::usage_error("grove::mpi::wait: needs a task");
  grove::cancel_scope shield;
  shield.set_shield(true);
  shield.run([&] {
    grove::detail::foreign_completion done("grove::mpi::wait");
    detail::progress_engine::current("grove::mpi::wait").watch({poll, context, &done});
    done.wait_uncancellable();
  });
}

}  // namespace

environment::environment(int& argc, char**& argv) {
  mpi_.emplace(argc, argv, boost::mpi::threading::multiple, /*abort_on_exception=*/true);
  start();
}

environment::environment() {
  mpi_.emplace(boost::mpi::threading::multiple, /*abort_on_exception=*/true);
  start();
}

void environment::start() {
  int level = 0;
  MPI_Query_thread(&level);
  if (level < MPI_THREAD_MULTIPLE) {
    mpi_.reset();
    throw grove::usage_error(std::string("grove::mpi::environment: the MPI library provides ") +
                             level_name(level) +
                             "; grove needs MPI_THREAD_MULTIPLE (its workers and its progress "
                             "thread all call MPI)");
  }
  if (engine_of_the_environment) {
    throw grove::usage_error("grove::mpi::environment: one per process, and one is alive");
  }
  engine_of_the_environment = std::make_unique<detail::progress_engine>();
  detail::progress_engine::install(engine_of_the_environment.get());
}

environment::~environment() {
  // Before MPI_Finalize (mpi_'s destructor): the progress thread calls MPI.
  detail::progress_engine::install(nullptr);
  engine_of_the_environment.reset();
}

MPI_Status wait(MPI_Request& request) {
  struct raw {
    MPI_Request* request;
    MPI_Status status;
  } state{&request, {}};
  park_until_polled(
      [](void* context) {
        auto& s = *static_cast<raw*>(context);
        int flag = 0;
        MPI_Test(s.request, &flag, &s.status);
        return flag != 0;
      },
      &state);
  return state.status;
}

boost::mpi::status wait(boost::mpi::request& request) {
  struct boosted {
    boost::mpi::request* request;
    boost::optional<boost::mpi::status> status;
  } state{&request, {}};
  park_until_polled(
      [](void* context) {
        auto& s = *static_cast<boosted*>(context);
        s.status = s.request->test();
        return bool(s.status);
      },
      &state);
  return *state.status;
}

remote_error::remote_error(int rank, const std::string& message, bool cancelled,
                           std::exception_ptr original)
    : std::runtime_error("rank " + std::to_string(rank) + ": " + message),
      rank_(rank),
      cancelled_(cancelled),
      original_(std::move(original)) {}

}  // namespace grove::mpi

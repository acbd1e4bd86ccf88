// The umbrella header: everything grove offers except the Eigen adapters (<grove/eigen.hpp>) and
// the Asio completion token (<grove/asio.hpp>), which bring in heavy headers.
#pragma once

#include <grove/algorithm.hpp>
#include <grove/cancel.hpp>
#include <grove/channel.hpp>
#include <grove/errors.hpp>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>
#include <grove/sync.hpp>
#include <grove/time.hpp>
#include <grove/to_thread.hpp>
#include <grove/version.hpp>

// The helpers of the userspace target: every kernel helper bpfkit implements, by
// its kernel id, name and prototype, with an implementation that follows the
// kernel's semantics (return codes, flags, what is written where). The maps a
// program may pass are those in ExecEnv::maps; packet helpers work on
// ExecEnv::packet; output goes to ExecEnv::on_printk and to the maps' consumers.
#pragma once

#include "core/helpers.h"

namespace bpfkit::helpers {

// All of them, in one table (a superset of core::HelperTable::standard()).
const core::HelperTable& runtime_helpers();

}  // namespace bpfkit::helpers

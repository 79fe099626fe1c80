// `--target both`: the same object, loaded on the userspace target and in the kernel,
// given the same inputs; every difference in return values, output packets, ring
// buffer records and maps is reported (the kernel is the oracle).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "target/target.h"

namespace bpfkit::cli {

// One observable difference, as a sentence: "map 'counts' key 5: user 3, linux 4".
using TargetDifferences = std::vector<std::string>;

// Runs `request` on both programs and compares return value, data_out, ctx_out (when a
// context was given); `label` prefixes each difference ("packet 12").
TargetDifferences compare_test_runs(const target::TestRunResult& user, const target::TestRunResult& kernel,
                                    bool compare_ctx, const std::string& label);

// Ring buffer records waiting in each target's maps, compared in order (consumes them).
TargetDifferences compare_ring_buffers(target::LoadedObject& user, target::LoadedObject& kernel);

// Every map's entries (ring buffers, perf event arrays and maps holding fds aside).
TargetDifferences compare_maps(target::LoadedObject& user, target::LoadedObject& kernel);

// Prints the differences (at most `limit`, then a count of the rest) and returns 0 when
// there are none, 1 otherwise.
int report_differences(const TargetDifferences& differences, size_t limit = 20);

}  // namespace bpfkit::cli

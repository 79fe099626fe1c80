// Names of rejection kinds, as test files and `bpfkit verify --json` spell them.
#include <array>
#include <utility>

#include "verifier/verifier.h"

namespace bpfkit::verifier {
namespace {

constexpr std::array<std::pair<RejectKind, std::string_view>, 30> kNames{{
    {RejectKind::None, "none"},
    {RejectKind::InvalidInstruction, "invalid_instruction"},
    {RejectKind::BadJump, "bad_jump"},
    {RejectKind::Unreachable, "unreachable"},
    {RejectKind::FallThroughEnd, "fall_through_end"},
    {RejectKind::UninitRegister, "uninit_register"},
    {RejectKind::UninitStack, "uninit_stack"},
    {RejectKind::FramePointerWrite, "frame_pointer_write"},
    {RejectKind::InvalidMemAccess, "invalid_mem_access"},
    {RejectKind::NullDereference, "null_dereference"},
    {RejectKind::OutOfBounds, "out_of_bounds"},
    {RejectKind::PacketBounds, "packet_bounds"},
    {RejectKind::CtxAccess, "ctx_access"},
    {RejectKind::ReadOnlyWrite, "read_only_write"},
    {RejectKind::Misaligned, "misaligned"},
    {RejectKind::PointerArithmetic, "pointer_arithmetic"},
    {RejectKind::PointerComparison, "pointer_comparison"},
    {RejectKind::PointerLeak, "pointer_leak"},
    {RejectKind::HelperUnknown, "helper_unknown"},
    {RejectKind::HelperNotAllowed, "helper_not_allowed"},
    {RejectKind::HelperArgument, "helper_argument"},
    {RejectKind::ReferenceLeak, "reference_leak"},
    {RejectKind::ReferenceInvalid, "reference_invalid"},
    {RejectKind::ReturnValue, "return_value"},
    {RejectKind::InfiniteLoop, "infinite_loop"},
    {RejectKind::TooComplex, "too_complex"},
    {RejectKind::StackLimit, "stack_limit"},
    {RejectKind::CallDepth, "call_depth"},
    {RejectKind::BadCall, "bad_call"},
    {RejectKind::Unsupported, "unsupported"},
}};

}  // namespace

std::string_view reject_kind_name(RejectKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

RejectKind reject_kind_from_name(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return RejectKind::None;
}

}  // namespace bpfkit::verifier

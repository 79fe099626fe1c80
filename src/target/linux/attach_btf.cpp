#include "target/linux/attach_btf.h"

#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include "target/linux/tracefs.h"
#include "target/target.h"

namespace bpfkit::target::linux_kernel {
namespace {

constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

bool is_lsm(const object::SectionDefinition& def) { return def.prog_type == BPF_PROG_TYPE_LSM; }
bool is_tracing(const object::SectionDefinition& def) { return def.prog_type == BPF_PROG_TYPE_TRACING; }

// How a hook kind names its BTF type: a prefix before the section's target and the kind.
struct HookNaming {
  const char* prefix;
  object::BtfKind kind;
  const char* what;  // for messages
};

std::optional<HookNaming> naming_of(const object::SectionDefinition& def) {
  if (is_lsm(def)) return HookNaming{"bpf_lsm_", object::BtfKind::Func, "LSM hook"};
  if (!is_tracing(def)) return std::nullopt;
  switch (def.expected_attach_type) {
    case BPF_TRACE_RAW_TP: return HookNaming{"btf_trace_", object::BtfKind::Typedef, "BTF tracepoint"};
    case BPF_TRACE_FENTRY:
    case BPF_TRACE_FEXIT:
    case BPF_MODIFY_RETURN: return HookNaming{"", object::BtfKind::Func, "function"};
    case BPF_TRACE_ITER: return HookNaming{"bpf_iter_", object::BtfKind::Func, "iterator"};
    default: return std::nullopt;
  }
}

// Names of `kind` in `btf` that start with `prefix` and are close to `wanted` (which
// includes the prefix); for "did you mean". Only runs on the error path.
std::vector<std::string> similar_names(const object::Btf& btf, object::BtfKind kind, std::string_view prefix,
                                       std::string_view wanted) {
  std::vector<std::pair<size_t, std::string>> scored;
  const size_t allowed = std::max<size_t>(1, (wanted.size() - prefix.size()) / 4);
  for (uint32_t id = btf.first_own_id(); id < btf.type_count(); ++id) {
    const object::BtfType& t = btf.type(id);
    if (t.kind != kind || !t.name.starts_with(prefix)) continue;
    const size_t len_diff =
        t.name.size() > wanted.size() ? t.name.size() - wanted.size() : wanted.size() - t.name.size();
    if (len_diff > allowed) continue;
    const size_t d = edit_distance(t.name.substr(prefix.size()), wanted.substr(prefix.size()));
    if (d <= allowed) scored.emplace_back(d, std::string(t.name.substr(prefix.size())));
  }
  std::sort(scored.begin(), scored.end());
  scored.erase(std::unique(scored.begin(), scored.end()), scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < 3; ++i) out.push_back(scored[i].second);
  return out;
}

}  // namespace

std::shared_ptr<const object::Btf> vmlinux_btf() {
  static std::mutex mutex;
  static std::shared_ptr<const object::Btf> btf;
  std::lock_guard<std::mutex> lock(mutex);
  if (btf) return btf;
  std::error_code ec;
  if (!std::filesystem::exists(kVmlinuxBtf, ec)) {
    throw TargetError(
        std::string("the kernel has no BTF (") + kVmlinuxBtf +
        " is missing: it was built without CONFIG_DEBUG_INFO_BTF), which tp_btf, fentry, fexit, "
        "fmod_ret, lsm and iter programs need");
  }
  btf = std::make_shared<const object::Btf>(object::Btf::load_vmlinux(kVmlinuxBtf));
  return btf;
}

std::string btf_hook_kind(const object::SectionDefinition& def) {
  if (is_lsm(def)) return def.expected_attach_type == BPF_LSM_CGROUP ? "lsm_cgroup" : "lsm";
  if (!is_tracing(def)) return "";
  switch (def.expected_attach_type) {
    case BPF_TRACE_RAW_TP: return "tp_btf";
    case BPF_TRACE_FENTRY: return "fentry";
    case BPF_TRACE_FEXIT: return "fexit";
    case BPF_MODIFY_RETURN: return "fmod_ret";
    case BPF_TRACE_ITER: return "iter";
    default: return "";
  }
}

uint32_t resolve_attach_btf_id(const object::SectionDefinition& def, const object::Btf& btf) {
  const std::optional<HookNaming> naming = naming_of(def);
  if (!naming) return 0;
  const std::string section = btf_hook_kind(def) + "/" + def.attach_target;
  if (def.attach_target.empty()) {
    throw TargetError("section '" + btf_hook_kind(def) + "' names no " + naming->what + ": write " +
                      btf_hook_kind(def) + "/NAME");
  }
  if (def.attach_target.find(':') != std::string::npos) {
    throw TargetError("section '" + section + "': hooks in kernel modules (MODULE:NAME) are not supported");
  }
  const std::string wanted = naming->prefix + def.attach_target;
  if (const std::optional<uint32_t> id = btf.find_by_name(wanted, naming->kind)) return *id;
  std::string message = "section '" + section + "': the kernel has no " + naming->what + " '" +
                        def.attach_target + "' (no " + object::btf_kind_name(naming->kind) + " " + wanted +
                        " in its BTF)";
  const std::vector<std::string> similar = similar_names(btf, naming->kind, naming->prefix, wanted);
  for (size_t i = 0; i < similar.size(); ++i) {
    message += (i == 0 ? "; did you mean '" : i + 1 == similar.size() ? "' or '" : "', '") + similar[i];
  }
  if (!similar.empty()) message += "'?";
  throw TargetError(message);
}

uint32_t resolve_attach_btf_id(const object::SectionDefinition& def) {
  if (!naming_of(def)) return 0;
  return resolve_attach_btf_id(def, *vmlinux_btf());
}

std::string explain_load_refusal(const object::SectionDefinition& def, int error_number) {
  if (error_number != EPERM) return "";
  const std::string kind = btf_hook_kind(def);
  if (kind != "fentry" && kind != "fexit" && kind != "fmod_ret" && kind != "lsm" && kind != "lsm_cgroup") {
    return "";
  }
  // Root gets EPERM for these only when kernel lockdown forbids them; securityfs, when
  // mounted, says which mode.
  if (geteuid() != 0) return "";
  std::string mode;
  if (std::ifstream in("/sys/kernel/security/lockdown"); in) {
    std::string line;
    std::getline(in, line);
    const size_t open = line.find('['), close = line.find(']');
    if (open != std::string::npos && close != std::string::npos && close > open) {
      mode = line.substr(open + 1, close - open - 1);
    }
  }
  if (mode == "none") return "";
  return "this kernel refuses " + kind + " programs even to root (EPERM: kernel lockdown" +
         (mode.empty() ? std::string(" forbids them") : " is in '" + mode + "' mode") +
         "); attach with tp_btf or a syscall tracepoint instead, and enforce with bpf_send_signal";
}

}  // namespace bpfkit::target::linux_kernel

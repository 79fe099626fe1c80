// bpfkit link: the kernel's BPF links (what attaches programs to hooks), as
// `bpftool link` shows them.
#include <net/if.h>

#include <iostream>
#include <memory>
#include <set>

#include "cli/command.h"
#include "cli/kernel_tool.h"
#include "target/linux/kernel_objects.h"

namespace bpfkit::cli {
namespace {

namespace lk = target::linux_kernel;
// ordered: keys print in bpftool's order (id, type, name, ...).
using json = nlohmann::ordered_json;

constexpr uint32_t kLinkTypePerfEvent = 7;  // newer than some headers; spelled out

const char* perf_event_type_name(uint32_t t) {
  switch (t) {
    case 1: return "uprobe";
    case 2: return "uretprobe";
    case 3: return "kprobe";
    case 4: return "kretprobe";
    case 5: return "tracepoint";
    case 6: return "event";
    default: return "unspec";
  }
}

std::string interface_name(uint32_t ifindex) {
  char name[IF_NAMESIZE] = {};
  return if_indextoname(ifindex, name) ? name : "";
}

json link_json(const lk::KernelLinkInfo& l) {
  json j;
  j["id"] = l.id;
  j["type"] = lk::link_type_name(l.type);
  j["prog_id"] = l.prog_id;
  if (!l.tp_name.empty()) j["tp_name"] = l.tp_name;
  if (l.has_attach_type) j["attach_type"] = lk::attach_type_name(l.attach_type);
  if (l.target_obj_id || l.target_btf_id) {
    j["target_obj_id"] = l.target_obj_id;
    j["target_btf_id"] = l.target_btf_id;
  }
  if (l.cgroup_id) j["cgroup_id"] = l.cgroup_id;
  if (l.netns_ino) j["netns_ino"] = l.netns_ino;
  if (l.ifindex) {
    j["ifindex"] = l.ifindex;
    const std::string dev = interface_name(l.ifindex);
    if (!dev.empty()) j["devname"] = dev;
  }
  if (l.map_id) j["map_id"] = l.map_id;
  if (!l.iter_target.empty()) j["target_name"] = l.iter_target;
  if (l.type == kLinkTypePerfEvent) {
    const std::string kind = perf_event_type_name(l.perf_event_type);
    j["event_type"] = kind;
    if (kind == "tracepoint") {
      j["tracepoint"] = l.perf_name;
    } else if (kind == "uprobe" || kind == "uretprobe") {
      j["retprobe"] = kind == "uretprobe";
      j["file"] = l.perf_name;
      j["offset"] = l.perf_offset;
    } else if (kind == "kprobe" || kind == "kretprobe") {
      j["retprobe"] = kind == "kretprobe";
      j["func"] = l.perf_name;
      j["offset"] = l.perf_offset;
      j["addr"] = l.perf_addr;
    } else if (kind == "event") {
      j["event_config"] = l.perf_config;
      j["event_config_type"] = l.perf_config_type;
    }
    if (l.perf_cookie) j["cookie"] = l.perf_cookie;
  }
  return j;
}

void print_link_plain(const lk::KernelLinkInfo& l) {
  std::cout << l.id << ": " << lk::link_type_name(l.type) << "  prog " << l.prog_id << "\n";
  std::string details;
  auto add = [&](const std::string& s) { details += (details.empty() ? "" : "  ") + s; };
  if (!l.tp_name.empty()) add("tp '" + l.tp_name + "'");
  if (l.has_attach_type) add("attach_type " + lk::attach_type_name(l.attach_type));
  if (l.target_obj_id || l.target_btf_id) {
    add("target_obj_id " + std::to_string(l.target_obj_id) + "  target_btf_id " +
        std::to_string(l.target_btf_id));
  }
  if (l.cgroup_id) add("cgroup_id " + std::to_string(l.cgroup_id));
  if (l.netns_ino) add("netns_ino " + std::to_string(l.netns_ino));
  if (l.ifindex) {
    const std::string dev = interface_name(l.ifindex);
    add("ifindex " + (dev.empty() ? std::to_string(l.ifindex) : dev + "(" + std::to_string(l.ifindex) + ")"));
  }
  if (l.map_id) add("map_id " + std::to_string(l.map_id));
  if (!l.iter_target.empty()) add("target_name " + l.iter_target);
  if (l.type == kLinkTypePerfEvent) {
    const std::string kind = perf_event_type_name(l.perf_event_type);
    if (kind == "tracepoint") {
      add("tracepoint " + l.perf_name);
    } else if (kind == "event") {
      add("event " + std::to_string(l.perf_config_type) + ":" + std::to_string(l.perf_config));
    } else {
      add(kind + " " + l.perf_name + "+" + std::to_string(l.perf_offset));
    }
    if (l.perf_cookie) add("cookie " + std::to_string(l.perf_cookie));
  }
  if (!details.empty()) std::cout << "\t" << details << "\n";
}

struct LinkOptions {
  std::vector<std::string> words;
  ToolOptions tool;
};

int run_link(LinkOptions& o) {
  Words words(o.words);
  const std::string verb = words.done() ? "list" : words.next("a verb");
  const std::set<std::string> verbs = {"list", "show", "pin"};
  if (verbs.count(verb)) require_kernel_bpf();
  if (verb == "pin") {
    auto fds = select_objects(lk::KernelObjectKind::Link, words, true);
    const std::string path = words.next("a path under /sys/fs/bpf");
    words.expect_end("link pin");
    lk::pin_object(fds[0].get(), path);
    return 0;
  }
  if (verb != "list" && verb != "show") throw Error("link: unknown verb '" + verb + "' (list, show, pin)");
  const bool one = selects_one(words);
  auto fds = select_objects(lk::KernelObjectKind::Link, words, false);
  words.expect_end("link show");
  json all = json::array();
  for (const auto& fd : fds) {
    const auto info = lk::link_info(fd.get());
    if (o.tool.json) {
      all.push_back(link_json(info));
    } else {
      print_link_plain(info);
    }
  }
  if (o.tool.json) print_json(one && all.size() == 1 ? all[0] : all, o.tool);
  return 0;
}

CommandRegistration reg("link", [](CLI::App& app) {
  app.description(
      "The kernel's BPF links, as `bpftool link` shows them (needs root):\n"
      "  bpfkit link list|show [id N | pinned PATH]   type, program and what it is attached to\n"
      "  bpfkit link pin LINK PATH\n"
      "-j prints JSON with bpftool's key names.");
  auto o = std::make_shared<LinkOptions>();
  app.add_option("words", o->words, "verb and its arguments, as bpftool takes them");
  app.add_flag("-j,--json", o->tool.json, "JSON output (bpftool's keys)");
  app.add_flag("-p,--pretty", o->tool.pretty, "indented JSON (implies --json)");
  return [o] {
    if (o->tool.pretty) o->tool.json = true;
    return run_link(*o);
  };
});

}  // namespace
}  // namespace bpfkit::cli

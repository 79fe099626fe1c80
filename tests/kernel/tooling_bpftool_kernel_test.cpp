// bpfkit's bpftool-like tooling (prog / map / link / feature) against bpftool on
// the running kernel: the same objects, listed by both, agree on ids, names and
// types; map dumps agree on formatted values; edits through the CLI reach the
// kernel map; pins appear and are removed; feature probes agree.
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "../support/run_command.h"
#include "kernel_test_util.h"
#include "target/linux/bpf_map_syscall.h"
#include "target/linux/feature_probe.h"
#include "target/linux/kernel_objects.h"
#include "target/linux/linux_target.h"

namespace bpfkit::target::linux_kernel {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kBpfkit = BPFKIT_BINARY_DIR "/bpfkit";
const std::string kObject = BPFKIT_BINARY_DIR "/examples/xdp_blocklist.bpf.o";

test_support::CommandResult run(const std::string& cmd) { return test_support::run_command(cmd); }

// Runs a command that prints JSON on stdout (stderr dropped) and parses it.
json run_json(const std::string& cmd) {
  const auto r = run(cmd + " 2>/dev/null");
  EXPECT_EQ(r.status, 0) << cmd << "\n" << r.output;
  try {
    return json::parse(r.output);
  } catch (const json::exception& e) {
    ADD_FAILURE() << cmd << ": not JSON: " << e.what() << "\n" << r.output;
    return json();
  }
}

const json* find_id(const json& list, uint32_t id) {
  for (const auto& e : list) {
    if (e.value("id", 0u) == id) return &e;
  }
  return nullptr;
}

bool bpffs_mounted() {
  struct statfs st;
  return statfs("/sys/fs/bpf", &st) == 0 && uint32_t(st.f_type) == 0xcafe4a11;
}

class ToolingKernelTest : public kernel_test::KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    if (run("command -v bpftool").status != 0)
      GTEST_SKIP() << "skipped: bpftool is not installed (apt install bpftool)";
    ASSERT_TRUE(fs::exists(kBpfkit)) << kBpfkit;
    ASSERT_TRUE(fs::exists(kObject)) << kObject << " (target bpf_examples)";
    object_ = std::make_shared<object::BpfObject>(object::BpfObject::open(kObject));
    loaded_ = make_linux_target()->load(object_);
    prog_ = loaded_->find_program("xdp_blocklist");
    blocklist_ = loaded_->find_map("blocklist");
    verdicts_ = loaded_->find_map("verdicts");
    ASSERT_TRUE(prog_ && blocklist_ && verdicts_);
    prog_id_ = uint32_t(object_id(program_fd(*prog_)));
    blocklist_id_ = uint32_t(object_id(map_fd(*blocklist_)));
    verdicts_id_ = uint32_t(object_id(map_fd(*verdicts_)));
    ASSERT_GT(prog_id_, 0u);
  }

  std::shared_ptr<object::BpfObject> object_;
  std::unique_ptr<LoadedObject> loaded_;
  ProgramHandle* prog_ = nullptr;
  MapHandle *blocklist_ = nullptr, *verdicts_ = nullptr;
  uint32_t prog_id_ = 0, blocklist_id_ = 0, verdicts_id_ = 0;
};

TEST_F(ToolingKernelTest, NameTablesSpellTypesAsBpftool) {
  EXPECT_EQ(prog_type_name(BPF_PROG_TYPE_XDP), "xdp");
  EXPECT_EQ(prog_type_name(BPF_PROG_TYPE_SCHED_CLS), "sched_cls");
  EXPECT_EQ(prog_type_name(BPF_PROG_TYPE_TRACEPOINT), "tracepoint");
  EXPECT_EQ(map_type_name(BPF_MAP_TYPE_HASH), "hash");
  EXPECT_EQ(map_type_name(BPF_MAP_TYPE_RINGBUF), "ringbuf");
  EXPECT_EQ(map_type_name(BPF_MAP_TYPE_LPM_TRIE), "lpm_trie");
  EXPECT_EQ(link_type_name(BPF_LINK_TYPE_PERF_EVENT), "perf_event");
  EXPECT_EQ(link_type_name(11), "tcx");
  EXPECT_EQ(attach_type_name(BPF_XDP), "xdp");
  EXPECT_EQ(attach_type_name(46), "tcx_ingress");
  EXPECT_EQ(prog_type_name(999), "unknown(999)");
  EXPECT_EQ(prog_type_by_name("sk_lookup"), uint32_t(BPF_PROG_TYPE_SK_LOOKUP));
  EXPECT_EQ(map_type_by_name("nope"), std::nullopt);
}

TEST_F(ToolingKernelTest, LibraryListsAndDescribesTheLoadedObjects) {
  const auto progs = kernel_object_ids(KernelObjectKind::Program);
  EXPECT_TRUE(std::count(progs.begin(), progs.end(), prog_id_));
  const auto maps = kernel_object_ids(KernelObjectKind::Map);
  EXPECT_TRUE(std::count(maps.begin(), maps.end(), blocklist_id_));
  UniqueFd fd = kernel_object_fd(KernelObjectKind::Program, prog_id_);
  ProgramInfoRequest req;
  req.instructions = req.btf_records = true;
  const auto p = program_info(fd.get(), req);
  EXPECT_EQ(p.id, prog_id_);
  EXPECT_EQ(p.type, uint32_t(BPF_PROG_TYPE_XDP));
  EXPECT_EQ(p.name, "xdp_blocklist");
  EXPECT_EQ(p.tag.size(), 16u);
  EXPECT_EQ(p.xlated.size(), p.xlated_size);
  EXPECT_EQ(p.jited.size(), p.jited_size);
  EXPECT_EQ(std::set<uint32_t>(p.map_ids.begin(), p.map_ids.end()),
            (std::set<uint32_t>{blocklist_id_, verdicts_id_}));
  EXPECT_FALSE(p.line_info.empty()) << "the object has BTF line info";
  const auto m = map_info(map_fd(*blocklist_));
  EXPECT_EQ(m.type, uint32_t(BPF_MAP_TYPE_LPM_TRIE));
  EXPECT_EQ(m.key_size, 8u);
  EXPECT_EQ(m.flags, uint32_t(BPF_F_NO_PREALLOC));
  ASSERT_NE(m.btf_id, 0u);
  auto btf = kernel_btf_by_id(m.btf_id);
  EXPECT_EQ(btf->type_name(m.btf_key_type_id), "struct cidr_v4");
  try {
    kernel_object_fd(KernelObjectKind::Map, UINT32_MAX - 1);
    ADD_FAILURE() << "no map has that id";
  } catch (const BpfError& e) {
    EXPECT_NE(std::string(e.what()).find("map 4294967294 does not exist"), std::string::npos) << e.what();
  }
}

TEST_F(ToolingKernelTest, ProgListAgreesWithBpftool) {
  const json ours = run_json(kBpfkit + " prog list --json");
  const json theirs = run_json("bpftool -j prog list");
  const json* a = find_id(ours, prog_id_);
  const json* b = find_id(theirs, prog_id_);
  ASSERT_TRUE(a && b) << "program " << prog_id_ << " missing:\n" << ours.dump() << "\n" << theirs.dump();
  for (const char* key : {"type", "name", "tag", "gpl_compatible", "bytes_xlated", "jited", "bytes_jited",
                          "btf_id", "uid", "loaded_at"}) {
    EXPECT_EQ((*a)[key], (*b)[key]) << key;
  }
  EXPECT_EQ(json(std::set<uint32_t>((*a)["map_ids"].begin(), (*a)["map_ids"].end())),
            json(std::set<uint32_t>((*b)["map_ids"].begin(), (*b)["map_ids"].end())));
  // Every program both listed has the same name and type.
  for (const auto& e : ours) {
    if (const json* t = find_id(theirs, e["id"].get<uint32_t>())) {
      EXPECT_EQ(e["type"], (*t)["type"]) << e.dump();
      EXPECT_EQ(e.value("name", ""), t->value("name", "")) << e.dump();
    }
  }
  // Selection words: by name and by id, plain text.
  const auto plain = run(kBpfkit + " prog show id " + std::to_string(prog_id_));
  ASSERT_EQ(plain.status, 0) << plain.output;
  EXPECT_EQ(plain.output.rfind(std::to_string(prog_id_) + ": xdp  name xdp_blocklist  tag ", 0), 0u)
      << plain.output;
  const json by_name = run_json(kBpfkit + " prog show name xdp_blocklist -j");
  EXPECT_NE(find_id(by_name, prog_id_), nullptr);
  // bpftool's order: output options before the object.
  const json first = run_json(kBpfkit + " -j -p prog show id " + std::to_string(prog_id_));
  EXPECT_EQ(first.value("id", 0u), prog_id_) << first.dump();
  EXPECT_EQ(first.value("name", ""), "xdp_blocklist") << first.dump();
}

TEST_F(ToolingKernelTest, MapListAgreesWithBpftool) {
  const json ours = run_json(kBpfkit + " map list -j");
  const json theirs = run_json("bpftool -j map list");
  for (uint32_t id : {blocklist_id_, verdicts_id_}) {
    const json* a = find_id(ours, id);
    const json* b = find_id(theirs, id);
    ASSERT_TRUE(a && b) << "map " << id;
    for (const char* key :
         {"type", "name", "flags", "bytes_key", "bytes_value", "max_entries", "frozen", "btf_id"}) {
      EXPECT_EQ((*a)[key], (*b)[key]) << "map " << id << " " << key;
    }
  }
  EXPECT_EQ((*find_id(ours, blocklist_id_))["type"], "lpm_trie");
}

TEST_F(ToolingKernelTest, MapDumpEqualsBpftoolFormattedValues) {
  // Entries through the target's handles (bpf(2)), then dumped by both tools.
  for (uint32_t i = 0; i < 5; ++i) {
    const uint64_t v = 1000 + i * 7;
    ASSERT_EQ(verdicts_->update(&i, &v, BPF_ANY), 0);
  }
  const uint8_t prefixes[][8] = {
      {8, 0, 0, 0, 10, 0, 0, 0}, {24, 0, 0, 0, 192, 168, 7, 0}, {32, 0, 0, 0, 1, 2, 3, 4}};
  for (size_t i = 0; i < 3; ++i) {
    const uint64_t v = 40 + i;
    ASSERT_EQ(blocklist_->update(prefixes[i], &v, BPF_ANY), 0);
  }
  for (uint32_t id : {verdicts_id_, blocklist_id_}) {
    const json ours = run_json(kBpfkit + " map dump id " + std::to_string(id) + " -j");
    const json theirs = run_json("bpftool -j map dump id " + std::to_string(id));
    ASSERT_EQ(ours.size(), theirs.size()) << ours.dump() << "\n" << theirs.dump();
    ASSERT_EQ(ours.size(), id == verdicts_id_ ? 5u : 3u);
    for (const auto& b : theirs) {
      bool matched = false;
      for (const auto& a : ours) {
        if (a["key"] != b["key"]) continue;
        matched = true;
        EXPECT_EQ(a["value"], b["value"]);
        ASSERT_TRUE(b.contains("formatted") && a.contains("formatted")) << a.dump() << "\n" << b.dump();
        EXPECT_EQ(a["formatted"], b["formatted"]) << "ours:    " << a.dump() << "\nbpftool: " << b.dump();
      }
      EXPECT_TRUE(matched) << "bpftool's entry missing from ours: " << b.dump();
    }
  }
  // Plain output with BTF is the formatted list.
  const auto plain = run(kBpfkit + " map dump id " + std::to_string(blocklist_id_) + " 2>/dev/null");
  ASSERT_EQ(plain.status, 0);
  const json formatted = json::parse(plain.output);
  ASSERT_EQ(formatted.size(), 3u);
  EXPECT_TRUE(formatted[0].contains("key") && formatted[0]["key"].contains("prefixlen")) << plain.output;
}

TEST_F(ToolingKernelTest, LookupUpdateDeleteChangeTheKernelMap) {
  const std::string map = " map ";
  const std::string verdicts = " id " + std::to_string(verdicts_id_);
  // Bytes, bpftool style: key 2, value 77.
  auto r = run(kBpfkit + map + "update" + verdicts + " key 2 0 0 0 value 0x4d 0 0 0 0 0 0 0");
  ASSERT_EQ(r.status, 0) << r.output;
  uint32_t k = 2;
  uint64_t v = 0;
  ASSERT_EQ(map_lookup_elem(map_fd(*verdicts_), &k, &v), 0);
  EXPECT_EQ(v, 77u);
  // hex words; then JSON through the map's BTF (a plain integer).
  r = run(kBpfkit + map + "update" + verdicts + " key hex 03 00 00 00 value 123456");
  ASSERT_EQ(r.status, 0) << r.output;
  k = 3;
  ASSERT_EQ(map_lookup_elem(map_fd(*verdicts_), &k, &v), 0);
  EXPECT_EQ(v, 123456u);
  const json looked = run_json(kBpfkit + map + "lookup" + verdicts + " key 3 0 0 0 -j");
  EXPECT_EQ(looked["formatted"]["value"], 123456);
  EXPECT_EQ(looked["key"], json({"0x03", "0x00", "0x00", "0x00"}));

  // The LPM trie with a struct key, as JSON.
  const std::string blocklist = " id " + std::to_string(blocklist_id_);
  r = run(kBpfkit + map + "update" + blocklist +
          R"( key json '{"prefixlen": 16, "addr": [172, 16, 0, 0]}' value 9)");
  ASSERT_EQ(r.status, 0) << r.output;
  const uint8_t key[8] = {16, 0, 0, 0, 172, 16, 0, 0};
  ASSERT_EQ(map_lookup_elem(map_fd(*blocklist_), key, &v), 0);
  EXPECT_EQ(v, 9u);
  r = run(kBpfkit + map + "update" + blocklist + " key hex 10 00 00 00 ac 10 00 00 value 1 noexist");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("File exists"), std::string::npos) << r.output;
  r = run(kBpfkit + map + "delete" + blocklist + " key 16 0 0 0 172 16 0 0");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(map_lookup_elem(map_fd(*blocklist_), key, &v), -ENOENT);
  r = run(kBpfkit + map + "delete" + blocklist + " key 16 0 0 0 172 16 0 0");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("no element with key 10 00 00 00 ac 10 00 00"), std::string::npos) << r.output;

  // Bad input: one sentence, no crash.
  r = run(kBpfkit + map + "lookup" + verdicts + " key 1 2");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("key: expected 4 bytes, got 2"), std::string::npos) << r.output;
  r = run(kBpfkit + map + "update" + verdicts + " key 1 0 0 0 value 1 0 0 0 0 0 0 300");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("'300' is not a byte"), std::string::npos) << r.output;
}

TEST_F(ToolingKernelTest, PinCreatesTheFileAndTheTestRemovesIt) {
  if (!bpffs_mounted()) {
    ASSERT_EQ(mount("bpf", "/sys/fs/bpf", "bpf", 0, nullptr), 0) << std::strerror(errno);
  }
  const fs::path dir = "/sys/fs/bpf/bpfkit-tooling-" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { fs::remove_all(dir); }
  } cleanup{dir};
  auto r = run(kBpfkit + " prog pin id " + std::to_string(prog_id_) + " " + (dir / "prog").string());
  ASSERT_EQ(r.status, 0) << r.output;
  r = run(kBpfkit + " map pin id " + std::to_string(verdicts_id_) + " " + (dir / "verdicts").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "prog"));
  EXPECT_TRUE(fs::exists(dir / "verdicts"));
  // Both tools open the pins and find the same objects.
  const json ours = run_json(kBpfkit + " prog show pinned " + (dir / "prog").string() + " -j");
  const json theirs = run_json("bpftool -j prog show pinned " + (dir / "prog").string());
  EXPECT_EQ(ours["id"], prog_id_);  // one object, not a list, as bpftool prints it
  EXPECT_EQ(theirs["id"], prog_id_);
  const json map = run_json(kBpfkit + " map show pinned " + (dir / "verdicts").string() + " -j");
  EXPECT_EQ(map["id"], verdicts_id_);
  // Pinning twice, the wrong kind, or outside bpffs: one sentence each.
  r = run(kBpfkit + " prog pin id " + std::to_string(prog_id_) + " " + (dir / "prog").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;
  r = run(kBpfkit + " map show pinned " + (dir / "prog").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("is not a pinned map"), std::string::npos) << r.output;
  r = run(kBpfkit + " prog pin id " + std::to_string(prog_id_) + " /tmp/bpfkit-not-bpffs");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("is not on a bpffs"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists("/tmp/bpfkit-not-bpffs"));
}

TEST_F(ToolingKernelTest, DumpXlatedShowsMapsAndSourceLines) {
  const auto r = run(kBpfkit + " prog dump xlated id " + std::to_string(prog_id_));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("int xdp_blocklist(struct xdp_md *ctx):"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("= map[id:" + std::to_string(verdicts_id_) + "]  ; verdicts"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("; __u64 *hits = bpf_map_lookup_elem(&blocklist, &key);"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("kernel-internal"), std::string::npos) << r.output;
  // The JSON form has one entry per instruction (lddw counts once) ending in exit.
  const json insns = run_json(kBpfkit + " prog dump xlated id " + std::to_string(prog_id_) + " -j");
  ASSERT_FALSE(insns.empty());
  EXPECT_TRUE(std::find_if(insns.begin(), insns.end(), [](const json& i) { return i["disasm"] == "exit"; }) !=
              insns.end());
  size_t slots = 0;
  for (const auto& i : insns) slots += i["opcode"] == "0x18" ? 2 : 1;
  UniqueFd fd = kernel_object_fd(KernelObjectKind::Program, prog_id_);
  EXPECT_EQ(slots * 8, program_info(fd.get()).xlated_size);
  // The JIT's code, through capstone: the function by its kallsyms name, ending in ret.
  const auto jited = run(kBpfkit + " prog dump jited id " + std::to_string(prog_id_));
  ASSERT_EQ(jited.status, 0) << jited.output;
  EXPECT_NE(jited.output.find("_xdp_blocklist:\n"), std::string::npos) << jited.output;
  EXPECT_NE(jited.output.find("\tret"), std::string::npos) << jited.output;
  EXPECT_EQ(jited.output.find("cannot decode"), std::string::npos) << jited.output;
}

// A raw tracepoint link (BPF_RAW_TRACEPOINT_OPEN) and a tracepoint perf_event link.
TEST_F(ToolingKernelTest, LinkListAgreesWithBpftool) {
  const std::vector<isa::RawInsn> ret0 = {{0xb7, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}};
  LoadOptions opts;
  opts.name = "bpfkit_rawtp";
  UniqueFd raw_prog = load_program(BPF_PROG_TYPE_RAW_TRACEPOINT, ret0, opts);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  static const char kTp[] = "sys_enter";
  attr.raw_tracepoint.name = reinterpret_cast<uintptr_t>(kTp);
  attr.raw_tracepoint.prog_fd = uint32_t(raw_prog.get());
  UniqueFd raw_link(int(syscall(__NR_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof attr)));
  ASSERT_TRUE(raw_link.valid()) << std::strerror(errno);
  const auto info = link_info(raw_link.get());
  EXPECT_EQ(info.type, uint32_t(BPF_LINK_TYPE_RAW_TRACEPOINT));
  EXPECT_EQ(info.tp_name, "sys_enter");
  const uint32_t raw_prog_id = uint32_t(object_id(raw_prog.get()));
  EXPECT_EQ(info.prog_id, raw_prog_id);

  // perf_event link on syscalls/sys_enter_getppid, when tracefs is there.
  UniqueFd tp_prog, perf, tp_link;
  std::ifstream id_file("/sys/kernel/tracing/events/syscalls/sys_enter_getppid/id");
  uint64_t tp_id = 0;
  if (id_file >> tp_id) {
    opts.name = "bpfkit_tp";
    tp_prog = load_program(BPF_PROG_TYPE_TRACEPOINT, ret0, opts);
    perf_event_attr pa;
    std::memset(&pa, 0, sizeof pa);
    pa.type = PERF_TYPE_TRACEPOINT;
    pa.size = sizeof pa;
    pa.config = tp_id;
    perf.reset(int(syscall(__NR_perf_event_open, &pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)));
    ASSERT_TRUE(perf.valid()) << std::strerror(errno);
    std::memset(&attr, 0, sizeof attr);
    attr.link_create.prog_fd = uint32_t(tp_prog.get());
    attr.link_create.target_fd = uint32_t(perf.get());
    attr.link_create.attach_type = BPF_PERF_EVENT;
    tp_link.reset(int(syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof attr)));
    ASSERT_TRUE(tp_link.valid()) << std::strerror(errno);
    const auto tp_info = link_info(tp_link.get());
    EXPECT_EQ(tp_info.type, uint32_t(BPF_LINK_TYPE_PERF_EVENT));
    EXPECT_EQ(tp_info.perf_event_type, 5u);  // BPF_PERF_EVENT_TRACEPOINT
    EXPECT_EQ(tp_info.perf_name, "sys_enter_getppid");
  }

  const json ours = run_json(kBpfkit + " link list --json");
  const json theirs = run_json("bpftool -j link list");
  const json* a = find_id(ours, info.id);
  const json* b = find_id(theirs, info.id);
  ASSERT_TRUE(a && b) << ours.dump() << "\n" << theirs.dump();
  EXPECT_EQ((*a)["type"], "raw_tracepoint");
  EXPECT_EQ((*a)["type"], (*b)["type"]);
  EXPECT_EQ((*a)["prog_id"], (*b)["prog_id"]);
  EXPECT_EQ((*a)["tp_name"], (*b)["tp_name"]);
  if (tp_link.valid()) {
    const uint32_t id = link_info(tp_link.get()).id;
    a = find_id(ours, id);
    b = find_id(theirs, id);
    ASSERT_TRUE(a && b);
    EXPECT_EQ((*a)["prog_id"], (*b)["prog_id"]);
    EXPECT_EQ((*a)["tracepoint"], "sys_enter_getppid");
    // bpftool 7.1 predates names for perf_event links and prints the number.
    if ((*b)["type"].is_string()) {
      EXPECT_EQ((*a)["type"], (*b)["type"]);
    } else {
      EXPECT_EQ((*b)["type"], BPF_LINK_TYPE_PERF_EVENT);
    }
  }
  const auto plain = run(kBpfkit + " link show id " + std::to_string(info.id));
  ASSERT_EQ(plain.status, 0) << plain.output;
  EXPECT_EQ(plain.output, std::to_string(info.id) + ": raw_tracepoint  prog " + std::to_string(raw_prog_id) +
                              "\n\ttp 'sys_enter'\n");
}

TEST_F(ToolingKernelTest, FeatureAgreesWithBpftoolProbe) {
  const json ours = run_json(kBpfkit + " feature -j --helpers-for xdp --helpers-for kprobe");
  const json theirs = run_json("bpftool -j feature probe kernel");
  EXPECT_EQ(ours["program_types"]["have_xdp_prog_type"], true);
  EXPECT_EQ(ours["map_types"]["have_hash_map_type"], true);
  EXPECT_EQ(ours["map_types"]["have_ringbuf_map_type"], true);
  // Every program and map type both know: the same answer.
  for (const char* section : {"program_types", "map_types"}) {
    for (const auto& [key, value] : theirs[section].items()) {
      if (ours[section].contains(key)) {
        EXPECT_EQ(ours[section][key], value) << section << " " << key;
      }
    }
  }
  EXPECT_EQ(ours["program_types"]["have_kprobe_prog_type"], theirs["program_types"]["have_kprobe_prog_type"]);
  // kprobe attachment as the kernel's configuration says (bpftool reads it).
  const json& kprobe_events = theirs["system_config"]["CONFIG_KPROBE_EVENTS"];
  if (!kprobe_events.is_null() || theirs["system_config"].contains("CONFIG_KPROBE_EVENTS")) {
    EXPECT_EQ(ours["attach"]["have_kprobes"], kprobe_events == "y") << kprobe_events;
  }
  // Helpers: which a type may call, as the verifier says.
  const auto& xdp = ours["helpers"]["xdp_available_helpers"];
  const auto& kprobe = ours["helpers"]["kprobe_available_helpers"];
  auto has = [](const json& list, const char* name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  EXPECT_TRUE(has(xdp, "bpf_map_lookup_elem"));
  EXPECT_TRUE(has(xdp, "bpf_xdp_adjust_head"));
  EXPECT_FALSE(has(kprobe, "bpf_xdp_adjust_head"));
  EXPECT_TRUE(has(kprobe, "bpf_get_current_pid_tgid"));
  EXPECT_FALSE(has(xdp, "bpf_get_stackid"));
  // The library answers the same, from its per-process cache.
  const auto& lib = probe_helpers(BPF_PROG_TYPE_XDP);
  EXPECT_EQ(json(lib.helpers), xdp);
}

TEST(ToolingCli, EveryCommandHasHelp) {
  for (const char* cmd : {"prog", "map", "link", "feature"}) {
    const auto r = run(kBpfkit + " " + cmd + " --help");
    EXPECT_EQ(r.status, 0) << cmd;
    EXPECT_NE(r.output.find("bpftool"), std::string::npos) << cmd << ": " << r.output;
  }
  const auto r = run(kBpfkit + " map frobnicate");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("unknown verb 'frobnicate'"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bpfkit::target::linux_kernel

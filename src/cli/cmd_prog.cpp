// bpfkit prog: the kernel's loaded programs, as `bpftool prog` shows them.
#include <capstone/capstone.h>
#include <dlfcn.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "cli/command.h"
#include "cli/kernel_tool.h"
#include "isa/codec.h"
#include "isa/disassembler.h"
#include "target/linux/kernel_objects.h"

namespace bpfkit::cli {
namespace {

namespace lk = target::linux_kernel;
// ordered: keys print in bpftool's order (id, type, name, ...).
using json = nlohmann::ordered_json;

json program_json(const lk::KernelProgramInfo& p) {
  json j;
  j["id"] = p.id;
  j["type"] = lk::prog_type_name(p.type);
  if (!p.name.empty()) j["name"] = p.name;
  j["tag"] = p.tag;
  j["gpl_compatible"] = p.gpl_compatible;
  if (p.run_time_ns) {
    j["run_time_ns"] = p.run_time_ns;
    j["run_cnt"] = p.run_count;
  }
  if (p.recursion_misses) j["recursion_misses"] = p.recursion_misses;
  j["loaded_at"] = p.loaded_at;
  j["uid"] = p.uid;
  j["bytes_xlated"] = p.xlated_size;
  j["jited"] = p.jited_size > 0;
  if (p.jited_size) j["bytes_jited"] = p.jited_size;
  j["bytes_memlock"] = p.memlock;
  if (!p.map_ids.empty()) j["map_ids"] = p.map_ids;
  if (p.btf_id) j["btf_id"] = p.btf_id;
  if (p.verified_insns) j["verified_insns"] = p.verified_insns;
  return j;
}

void print_program_plain(const lk::KernelProgramInfo& p) {
  std::cout << p.id << ": " << lk::prog_type_name(p.type) << "  ";
  if (!p.name.empty()) std::cout << "name " << p.name << "  ";
  std::cout << "tag " << p.tag << (p.gpl_compatible ? "  gpl" : "");
  if (p.run_time_ns) std::cout << " run_time_ns " << p.run_time_ns << " run_cnt " << p.run_count;
  if (p.recursion_misses) std::cout << " recursion_misses " << p.recursion_misses;
  std::cout << "\n\tloaded_at " << format_wall_time(p.loaded_at) << "  uid " << p.uid << "\n";
  std::cout << "\txlated " << p.xlated_size << "B  ";
  if (p.jited_size) {
    std::cout << "jited " << p.jited_size << "B  ";
  } else {
    std::cout << "not jited  ";
  }
  std::cout << "memlock " << p.memlock << "B";
  if (!p.map_ids.empty()) {
    std::cout << "  map_ids ";
    for (size_t i = 0; i < p.map_ids.size(); ++i) std::cout << (i ? "," : "") << p.map_ids[i];
  }
  std::cout << "\n";
  if (p.btf_id) std::cout << "\tbtf_id " << p.btf_id << "\n";
}

int run_show(Words& words, const ToolOptions& o) {
  const bool one = selects_one(words);
  auto fds = select_objects(lk::KernelObjectKind::Program, words, false);
  words.expect_end("prog show");
  json all = json::array();
  for (const auto& fd : fds) {
    const auto info = lk::program_info(fd.get());
    if (o.json) {
      all.push_back(program_json(info));
    } else {
      print_program_plain(info);
    }
  }
  if (o.json) print_json(one && all.size() == 1 ? all[0] : all, o);
  return 0;
}

// Names of the maps a program uses, for `map[id:N]` in its listing.
std::map<uint32_t, std::string> map_names(const std::vector<uint32_t>& ids) {
  std::map<uint32_t, std::string> names;
  for (uint32_t id : ids) {
    try {
      lk::UniqueFd fd = lk::kernel_object_fd(lk::KernelObjectKind::Map, id);
      names[id] = lk::map_info(fd.get()).name;
    } catch (const Error&) {
      // Freed since: the id alone will do.
    }
  }
  return names;
}

// The xlated program keeps kernel-only forms: map references as ids (after the kernel's
// dump preparation) and helper calls as offsets from __bpf_call_base.
std::string format_xlated(const isa::Instruction& insn, uint32_t slot,
                          const std::map<uint32_t, std::string>& maps) {
  if (const auto* l = std::get_if<isa::LoadImm64>(&insn)) {
    if (l->pseudo == isa::Pseudo::MapFd || l->pseudo == isa::Pseudo::MapValue) {
      const uint32_t id = uint32_t(l->imm_lo);
      std::string s = "r" + std::to_string(l->dst) + " = map[id:" + std::to_string(id) + "]";
      if (l->pseudo == isa::Pseudo::MapValue) s += "[0]+" + std::to_string(uint32_t(l->imm_hi));
      auto it = maps.find(id);
      if (it != maps.end() && !it->second.empty()) s += "  ; " + it->second;
      return s;
    }
  }
  if (const auto* c = std::get_if<isa::Call>(&insn)) {
    if (c->kind == isa::CallKind::Helper) {
      const uint64_t base = lk::kernel_bpf_call_base();
      std::string name = base ? lk::kernel_symbol_at(base + int64_t(c->imm)) : "";
      if (name.empty()) return "call #" + std::to_string(c->imm);
      return "call " + name + "#" + std::to_string(c->imm);
    }
  }
  return isa::format_insn(insn, slot);
}

std::shared_ptr<const object::Btf> program_btf(const lk::KernelProgramInfo& p) {
  if (!p.btf_id) return nullptr;
  try {
    return lk::kernel_btf_by_id(p.btf_id);
  } catch (const Error&) {
    return nullptr;  // listing without source lines beats no listing
  }
}

std::string function_header(const object::Btf& btf, uint32_t func_type_id) {
  try {
    const object::BtfType& f = btf.type(func_type_id);
    return btf.declaration(f.type, f.name);
  } catch (const Error&) {
    return "";
  }
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return std::string(s);
}

int dump_xlated(const lk::KernelProgramInfo& p, bool opcodes, const ToolOptions& o) {
  if (p.xlated.empty()) throw Error("program " + std::to_string(p.id) + ": the kernel gave no instructions");
  const std::vector<isa::RawInsn> raw = isa::raw_from_bytes(p.xlated);
  const auto maps = map_names(p.map_ids);
  const auto btf = program_btf(p);
  std::map<uint32_t, uint32_t> funcs;  // insn -> FUNC type id
  std::map<uint32_t, const bpf_line_info*> lines;
  for (const auto& f : p.func_info) funcs[f.insn_off] = f.type_id;
  for (const auto& l : p.line_info) lines.emplace(l.insn_off, &l);
  json out = json::array();
  for (uint32_t slot = 0; slot < raw.size();) {
    json entry;
    if (btf) {
      if (auto f = funcs.find(slot); f != funcs.end()) {
        const std::string head = function_header(*btf, f->second);
        if (o.json) {
          entry["proto"] = head;
        } else if (!head.empty()) {
          std::cout << (slot ? "\n" : "") << head << ":\n";
        }
      }
      if (auto l = lines.find(slot); l != lines.end()) {
        try {
          const std::string src = trim(btf->string_at(l->second->line_off));
          const uint32_t line = l->second->line_col >> 10, col = l->second->line_col & 0x3ff;
          if (o.json) {
            entry["src"] = src;
            entry["file"] = std::string(btf->string_at(l->second->file_name_off));
            entry["line_num"] = line;
            entry["line_col"] = col;
          } else {
            std::cout << "; " << src << "\n";
          }
        } catch (const Error&) {
        }
      }
    }
    int slots = 1;
    std::string text;
    try {
      const isa::Instruction insn = isa::decode_insn(raw, slot);
      slots = isa::slot_count(insn);
      text = format_xlated(insn, slot, maps);
    } catch (const Error&) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "<kernel-internal: code 0x%02x dst r%u src r%u off %d imm %d>",
                    raw[slot].opcode, raw[slot].dst, raw[slot].src, raw[slot].off, raw[slot].imm);
      text = buf;
    }
    char head[32];
    std::snprintf(head, sizeof head, "%4u: (%02x) ", slot, raw[slot].opcode);
    std::string bytes;
    if (opcodes) {
      std::vector<uint8_t> b(p.xlated.begin() + slot * 8, p.xlated.begin() + (slot + slots) * 8);
      bytes = hex_bytes(b);
    }
    if (o.json) {
      char opc[8];
      std::snprintf(opc, sizeof opc, "0x%02x", raw[slot].opcode);
      entry["pc"] = slot;
      entry["opcode"] = opc;
      entry["disasm"] = text;
      if (opcodes) entry["opcodes"] = bytes;
      out.push_back(std::move(entry));
    } else {
      std::cout << head << text << "\n";
      if (opcodes) std::cout << "       " << bytes << "\n";
    }
    slot += uint32_t(slots);
  }
  if (o.json) print_json(out, o);
  return 0;
}

// capstone is opened when `dump jited` needs it, not linked: its tables hold ~77,000
// pointers the dynamic loader would relocate at every start of bpfkit (~15 ms).
struct Capstone {
  decltype(&cs_open) open = nullptr;
  decltype(&cs_close) close = nullptr;
  decltype(&cs_disasm) disasm = nullptr;
  decltype(&cs_free) free = nullptr;
};

const Capstone& capstone() {
  static const Capstone api = [] {
    Capstone c;
    void* lib = dlopen("libcapstone.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libcapstone.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return c;
    c.open = reinterpret_cast<decltype(&cs_open)>(dlsym(lib, "cs_open"));
    c.close = reinterpret_cast<decltype(&cs_close)>(dlsym(lib, "cs_close"));
    c.disasm = reinterpret_cast<decltype(&cs_disasm)>(dlsym(lib, "cs_disasm"));
    c.free = reinterpret_cast<decltype(&cs_free)>(dlsym(lib, "cs_free"));
    return c;
  }();
  return api;
}

int dump_jited(const lk::KernelProgramInfo& p, bool opcodes, const ToolOptions& o) {
  if (p.jited.empty()) {
    throw Error("program " + std::to_string(p.id) +
                " has no JIT image visible here (not jited, or "
                "kernel.kptr_restrict/bpf_jit_kallsyms hides it)");
  }
  const Capstone& cs = capstone();
  if (!cs.open || !cs.close || !cs.disasm || !cs.free)
    throw Error("prog dump jited needs the capstone library (apt-get install libcapstone4)");
  csh handle;
  if (cs.open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) throw Error("capstone cannot disassemble x86-64");
  auto close_handle = [&cs](csh* h) { cs.close(h); };
  std::unique_ptr<csh, decltype(close_handle)> closer(&handle, close_handle);
  // One function per jited ksym; without them, the whole image as one.
  std::vector<std::pair<uint64_t, uint32_t>> funcs;
  if (!p.jited_ksyms.empty() && p.jited_ksyms.size() == p.jited_func_lens.size()) {
    for (size_t i = 0; i < p.jited_ksyms.size(); ++i)
      funcs.emplace_back(p.jited_ksyms[i], p.jited_func_lens[i]);
  } else {
    funcs.emplace_back(0, uint32_t(p.jited.size()));
  }
  json out = json::array();
  size_t offset = 0;
  for (size_t f = 0; f < funcs.size(); ++f) {
    const auto [addr, len] = funcs[f];
    if (offset + len > p.jited.size()) break;
    std::string name = addr ? lk::kernel_symbol_at(addr) : "";
    if (name.empty())
      name = "bpf_prog_" + p.tag + (p.name.empty() ? "" : "_" + p.name) + (f ? "_F" + std::to_string(f) : "");
    cs_insn* insns = nullptr;
    const size_t n = cs.disasm(handle, p.jited.data() + offset, len, addr, 0, &insns);
    json fj;
    fj["name"] = name;
    fj["insns"] = json::array();
    if (!o.json) std::cout << (f ? "\n" : "") << name << ":\n";
    for (size_t i = 0; i < n; ++i) {
      const uint64_t pc = insns[i].address - addr;
      std::vector<uint8_t> b(insns[i].bytes, insns[i].bytes + insns[i].size);
      if (o.json) {
        char pcs[24];
        std::snprintf(pcs, sizeof pcs, "0x%llx", static_cast<unsigned long long>(pc));
        json ij = {{"pc", pcs}, {"operation", insns[i].mnemonic}, {"operands", insns[i].op_str}};
        if (opcodes) ij["opcodes"] = hex_bytes(b);
        fj["insns"].push_back(std::move(ij));
      } else {
        char line[64];
        std::snprintf(line, sizeof line, "%4llx:\t", static_cast<unsigned long long>(pc));
        std::cout << line << insns[i].mnemonic << (insns[i].op_str[0] ? " " : "") << insns[i].op_str << "\n";
        if (opcodes) std::cout << "\t" << hex_bytes(b) << "\n";
      }
    }
    const size_t decoded = n ? size_t(insns[n - 1].address - addr + insns[n - 1].size) : 0;
    if (n) cs.free(insns, n);
    if (decoded < len && !o.json) std::cout << "\t(" << (len - decoded) << " bytes capstone cannot decode)\n";
    offset += len;
    out.push_back(std::move(fj));
  }
  if (o.json) print_json(out, o);
  return 0;
}

int run_dump(Words& words, const ToolOptions& o) {
  const std::string what = words.next("xlated or jited");
  if (what != "xlated" && what != "jited")
    throw Error("prog dump: expected xlated or jited, found '" + what + "'");
  auto fds = select_objects(lk::KernelObjectKind::Program, words, true);
  bool opcodes = false;
  while (!words.done()) {
    const std::string w = words.next("an option");
    if (w == "opcodes") {
      opcodes = true;
    } else if (w != "linum" && w != "visual") {
      throw Error("prog dump: unknown option '" + w + "' (opcodes)");
    }
  }
  lk::ProgramInfoRequest req;
  req.instructions = true;
  req.btf_records = what == "xlated";
  const auto info = lk::program_info(fds[0].get(), req);
  return what == "xlated" ? dump_xlated(info, opcodes, o) : dump_jited(info, opcodes, o);
}

int run_pin(Words& words) {
  auto fds = select_objects(lk::KernelObjectKind::Program, words, true);
  const std::string path = words.next("a path under /sys/fs/bpf");
  words.expect_end("prog pin");
  lk::pin_object(fds[0].get(), path);
  return 0;
}

struct ProgOptions {
  std::vector<std::string> words;
  ToolOptions tool;
};

int run_prog(ProgOptions& o) {
  Words words(o.words);
  const std::string verb = words.done() ? "list" : words.next("a verb");
  const std::set<std::string> verbs = {"list", "show", "dump", "pin"};
  if (verbs.count(verb)) require_kernel_bpf();
  if (verb == "list" || verb == "show") return run_show(words, o.tool);
  if (verb == "dump") return run_dump(words, o.tool);
  if (verb == "pin") return run_pin(words);
  throw Error("prog: unknown verb '" + verb + "' (list, show, dump xlated, dump jited, pin)");
}

CommandRegistration reg("prog", [](CLI::App& app) {
  app.description(
      "The kernel's loaded BPF programs, as `bpftool prog` shows them (needs root):\n"
      "  bpfkit prog list|show [id N | name NAME | tag TAG | pinned PATH]\n"
      "  bpfkit prog dump xlated PROG [opcodes]   the kernel's translated instructions, disassembled by "
      "bpfkit\n"
      "                                           (maps as map[id:N], helpers by kernel symbol, C source "
      "lines)\n"
      "  bpfkit prog dump jited PROG [opcodes]    the JIT's x86-64 code, disassembled with capstone\n"
      "  bpfkit prog pin PROG PATH                pin under bpffs (/sys/fs/bpf/...)\n"
      "PROG is id N, name NAME, tag TAG or pinned PATH. -j prints JSON with bpftool's key names.");
  auto o = std::make_shared<ProgOptions>();
  app.add_option("words", o->words, "verb and its arguments, as bpftool takes them");
  app.add_flag("-j,--json", o->tool.json, "JSON output (bpftool's keys)");
  app.add_flag("-p,--pretty", o->tool.pretty, "indented JSON (implies --json)");
  return [o] {
    if (o->tool.pretty) o->tool.json = true;
    return run_prog(*o);
  };
});

}  // namespace
}  // namespace bpfkit::cli

#include "cli/run_object.h"

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <map>

#include "cli/map_json.h"
#include "cli/program_input.h"
#include "cli/record_format.h"
#include "core/program_type.h"
#include "core/tracepoint_format.h"
#include "hooks/pcap_file.h"
#include "maps/map.h"
#include "object/btf_json.h"
#include "target/user/user_target.h"

namespace bpfkit::cli {

namespace {

using nlohmann::json;

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based offset where parsing stopped.
    throw Error(path + ": byte " + std::to_string(e.byte) + ": not valid JSON: " + e.what());
  }
}

std::string hex(std::span<const uint8_t> bytes) { return hex_bytes(bytes); }

}  // namespace

Verdict classify_return(uint32_t prog_type, uint32_t retval) {
  switch (prog_type) {
    case BPF_PROG_TYPE_XDP: {
      static const char* names[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"};
      if (retval < 5) return {names[retval], retval >= XDP_PASS};
      return {"XDP (unknown action " + std::to_string(retval) + ")", false};
    }
    case BPF_PROG_TYPE_SCHED_CLS:
    case BPF_PROG_TYPE_SCHED_ACT: {
      switch (int32_t(retval)) {
        case TC_ACT_UNSPEC: return {"TC_ACT_UNSPEC", true};
        case TC_ACT_OK: return {"TC_ACT_OK", true};
        case TC_ACT_RECLASSIFY: return {"TC_ACT_RECLASSIFY", true};
        case TC_ACT_SHOT: return {"TC_ACT_SHOT", false};
        case TC_ACT_PIPE: return {"TC_ACT_PIPE", true};
        case TC_ACT_STOLEN: return {"TC_ACT_STOLEN", false};
        case TC_ACT_REDIRECT: return {"TC_ACT_REDIRECT", true};
        default: return {"TC (action " + std::to_string(int32_t(retval)) + ")", false};
      }
    }
    case BPF_PROG_TYPE_SOCKET_FILTER: return retval ? Verdict{"accept", true} : Verdict{"drop", false};
    case BPF_PROG_TYPE_CGROUP_SKB: return retval & 1 ? Verdict{"allow", true} : Verdict{"deny", false};
    default: return {"return " + std::to_string(retval), true};
  }
}

namespace {

Verdict classify(uint32_t prog_type, uint32_t retval) { return classify_return(prog_type, retval); }

// Prints ring buffer records as they arrive: formatted through BTF when the user
// named the record's struct, as hex otherwise.
class EventPrinter {
 public:
  EventPrinter(target::LoadedObject& loaded, const std::string& type_name)
      : formatter_(loaded.object(), type_name) {
    for (target::MapHandle* m : loaded.maps()) {
      if (m->definition().type == BPF_MAP_TYPE_RINGBUF) rings_.push_back(m);
    }
  }
  size_t drain() {
    size_t n = 0;
    for (target::MapHandle* m : rings_) {
      n += m->consume_ringbuf([&](std::span<const uint8_t> record) {
        std::cout << "event " << m->name() << ": " << formatter_.format(record) << '\n';
      });
    }
    return n;
  }

 private:
  RecordFormatter formatter_;
  std::vector<target::MapHandle*> rings_;
};

// Where a redirected packet goes, for the per-target counts.
std::string redirect_target(const core::PacketState& st) {
  if (st.redirect_map_type == BPF_MAP_TYPE_UNSPEC) return "ifindex " + std::to_string(st.redirect_ifindex);
  std::string out = maps::map_type_name(st.redirect_map_type);
  if (st.redirect_flags & BPF_F_BROADCAST) return out + " broadcast";
  out += " key " + std::to_string(st.redirect_key);
  if (st.redirect_ifindex) out += " (ifindex " + std::to_string(st.redirect_ifindex) + ")";
  return out;
}

int run_pcap(target::user::UserProgram& prog, const ObjectRunOptions& o, EventPrinter& events) {
  const hooks::PcapCapture capture = hooks::read_pcap(o.pcap_in);
  std::unique_ptr<hooks::PcapWriter> writer;
  if (!o.pcap_out.empty()) writer = std::make_unique<hooks::PcapWriter>(o.pcap_out, capture.link_type, capture.snaplen);
  const uint32_t type = prog.definition().def.prog_type;
  std::map<std::string, uint64_t> counts, targets;
  uint64_t written = 0, event_count = 0;
  for (size_t i = 0; i < capture.packets.size(); ++i) {
    const hooks::CapturedPacket& packet = capture.packets[i];
    if (packet.data.size() < ETH_HLEN && type != BPF_PROG_TYPE_SOCKET_FILTER) {
      // No NIC hands a runt to XDP or tc, and BPF_PROG_TEST_RUN refuses one.
      ++counts["skipped (shorter than an Ethernet header)"];
      continue;
    }
    uint32_t retval = 0;
    for (uint32_t r = 0; r < o.repeat; ++r) {
      try {
        retval = prog.run_packet(packet.data);
      } catch (const Error& e) {
        throw Error(o.pcap_in + ": packet " + std::to_string(i + 1) + ": " + e.what());
      }
    }
    Verdict v = classify(type, retval);
    const bool redirect = (type == BPF_PROG_TYPE_XDP && retval == XDP_REDIRECT) ||
                          ((type == BPF_PROG_TYPE_SCHED_CLS || type == BPF_PROG_TYPE_SCHED_ACT) &&
                           int32_t(retval) == TC_ACT_REDIRECT);
    if (redirect) {
      if (const core::PacketState& st = prog.packet_state(); st.redirected) {
        ++targets[redirect_target(st)];
      } else {
        // No bpf_redirect / bpf_redirect_map found a target: the kernel drops the packet.
        v = {v.name + " without a target (dropped)", false};
      }
    }
    ++counts[v.name];
    event_count += events.drain();
    if (writer && v.forwarded) {
      hooks::CapturedPacket out;
      out.timestamp_ns = packet.timestamp_ns;
      auto data = prog.packet_out();
      if (type == BPF_PROG_TYPE_SOCKET_FILTER && retval < data.size()) data = data.first(retval);
      out.data.assign(data.begin(), data.end());
      out.original_length = uint32_t(out.data.size());
      writer->write(out);
      ++written;
    }
  }
  std::cout << prog.name() << ": " << capture.packets.size() << " packets from " << o.pcap_in << '\n';
  for (const auto& [name, n] : counts) std::cout << "  " << name << ": " << n << '\n';
  for (const auto& [name, n] : targets) std::cout << "  redirected to " << name << ": " << n << '\n';
  if (event_count) std::cout << "  ring buffer events: " << event_count << '\n';
  if (writer) {
    writer->close();
    std::cout << "  written to " << o.pcap_out << ": " << written << " packets\n";
  }
  return 0;
}

core::TaskIdentity task_from_json(const json& e) {
  core::TaskIdentity t = core::TaskIdentity::current();
  if (e.contains("pid")) t.pid = e["pid"].get<uint32_t>(), t.tgid = t.pid;
  if (e.contains("tgid")) t.tgid = e["tgid"].get<uint32_t>();
  if (e.contains("uid")) t.uid = e["uid"].get<uint32_t>();
  if (e.contains("gid")) t.gid = e["gid"].get<uint32_t>();
  if (e.contains("comm")) {
    std::memset(t.comm, 0, sizeof t.comm);
    const std::string comm = e["comm"].get<std::string>();
    std::memcpy(t.comm, comm.data(), std::min(comm.size(), sizeof t.comm - 1));
  }
  return t;
}

int run_contexts(target::user::UserProgram& prog, const target::LoadedObject& loaded, const ObjectRunOptions& o,
                 EventPrinter& events) {
  json doc = o.ctx_json.empty() ? json::array({json::object()}) : read_json_file(o.ctx_json);
  if (!doc.is_array()) doc = json::array({doc});
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& e = doc[i];
    const std::string where = (o.ctx_json.empty() ? std::string("context") : o.ctx_json) + ": event " + std::to_string(i);
    if (!e.is_object()) throw Error(where + ": expected an object like {\"pid\": 42, \"ctx\": {...}}");
    std::vector<uint8_t> ctx;
    uint32_t repeat = o.repeat;
    try {
      ctx = context_from_json(loaded.object(), prog.definition(), e.value("ctx", json::object()));
      prog.set_task(task_from_json(e));
      if (e.contains("repeat")) repeat = e["repeat"].get<uint32_t>();
    } catch (const json::exception& x) {
      throw Error(where + ": " + x.what());
    } catch (const Error& x) {
      throw Error(where + ": " + x.what());
    }
    uint64_t r0 = 0;
    for (uint32_t r = 0; r < repeat; ++r) r0 = prog.run_context(ctx);
    events.drain();
    std::cout << prog.name() << ": event " << i << ": return " << int64_t(r0) << '\n';
  }
  return 0;
}

}  // namespace

std::shared_ptr<const object::BpfObject> open_object(const std::string& path) {
  try {
    return std::make_shared<const object::BpfObject>(object::BpfObject::open(path));
  } catch (const Error& e) {
    const std::string what = e.what();
    // The loader's messages already start with the object's name.
    throw Error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
}

void fill_maps(target::LoadedObject& loaded, const std::vector<std::string>& fills) {
  for (const std::string& fill : fills) {
    const size_t eq = fill.find('=');
    if (eq == std::string::npos) throw Error("--map " + fill + ": expected NAME=FILE.json");
    const std::string name = fill.substr(0, eq), file = fill.substr(eq + 1);
    target::MapHandle* map = loaded.find_map(name);
    if (!map) {
      std::string names;
      for (auto* m : loaded.maps()) names += " " + m->name();
      throw Error("--map " + fill + ": " + loaded.object().name() + " has no map '" + name + "' (maps:" + names + ")");
    }
    fill_map_json(*map, loaded.object().btf().get(), read_json_file(file), file);
  }
}

json dump_maps_json(target::LoadedObject& loaded) {
  json out = json::object();
  for (target::MapHandle* m : loaded.maps()) {
    const uint32_t type = m->definition().type;
    if (type == BPF_MAP_TYPE_RINGBUF || type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) continue;
    out[m->name()] = dump_map_json(*m, loaded.object().btf().get());
  }
  return out;
}

target::ProgramHandle& choose_program(target::LoadedObject& loaded, const std::string& name, const std::string& input) {
  auto programs = loaded.programs();
  std::string names;
  for (auto* p : programs) names += " " + p->name() + " (" + p->definition().section + ")";
  if (!name.empty()) {
    if (auto* p = loaded.find_program(name)) return *p;
    throw Error(input + ": no program '" + name + "'; programs:" + names);
  }
  if (programs.size() == 1) return *programs.front();
  if (programs.empty()) throw Error(input + ": holds no programs");
  throw Error(input + ": holds several programs; choose one with --prog:" + names);
}

std::vector<uint8_t> context_from_json(const object::BpfObject& obj, const object::ProgramDefinition& prog,
                                       const json& ctx) {
  // 1. The BTF type of the program's first argument, as the program itself reads it.
  if (const object::Btf* btf = obj.btf().get()) {
    if (auto func = btf->find_by_name(prog.name, object::BtfKind::Func)) {
      const auto* proto = btf->type(btf->type(*func).type).as<object::BtfFuncProto>();
      if (proto && !proto->params.empty()) {
        const object::BtfType& ptr = btf->type(btf->resolve(proto->params[0].type));
        if (ptr.kind == object::BtfKind::Ptr) {
          const uint32_t pointee = btf->resolve(ptr.type);
          const object::BtfKind k = btf->type(pointee).kind;
          if (k == object::BtfKind::Struct || k == object::BtfKind::Union) {
            return object::json_to_btf(*btf, pointee, ctx);
          }
        }
      }
    }
  }
  // 2. The tracepoint's format file.
  const uint32_t type = prog.def.prog_type;
  if (type == BPF_PROG_TYPE_TRACEPOINT && !prog.def.attach_target.empty()) {
    const core::TracepointFormat format = core::load_tracepoint_format(prog.def.attach_target);
    std::vector<uint8_t> bytes(format.size());
    for (auto it = ctx.begin(); it != ctx.end(); ++it) {
      const core::TracepointField* f = format.find(it.key());
      if (!f) throw Error("ctx." + it.key() + ": tracepoint " + prog.def.attach_target + " has no such field");
      if (!it.value().is_number_integer() || f->size > 8) {
        throw Error("ctx." + it.key() + ": only integer fields can be given (the field is " + f->type + ")");
      }
      const uint64_t v = it.value().is_number_unsigned() ? it.value().get<uint64_t>() : uint64_t(it.value().get<int64_t>());
      std::memcpy(bytes.data() + f->offset, &v, f->size);
    }
    return bytes;
  }
  // 3. A raw argument array (raw tracepoints, fentry): {"args": [..]}.
  if (ctx.contains("args")) {
    std::vector<uint8_t> bytes;
    for (const json& a : ctx["args"]) {
      const uint64_t v = a.is_number_unsigned() ? a.get<uint64_t>() : uint64_t(a.get<int64_t>());
      bytes.insert(bytes.end(), reinterpret_cast<const uint8_t*>(&v), reinterpret_cast<const uint8_t*>(&v) + 8);
    }
    return bytes;
  }
  const core::ProgramTypeInfo* info = core::find_program_type(type);
  if (!ctx.empty()) {
    throw Error("cannot lay out ctx fields for program '" + prog.name + "' (no BTF type for its argument)");
  }
  return std::vector<uint8_t>(info && info->ctx_size ? info->ctx_size : 64, 0);
}

int run_object(const ObjectRunOptions& o) {
  const bool has_input = !o.pcap_in.empty() || !o.data_file.empty() || !o.ctx_json.empty();
  if (o.target == "linux" && !has_input) return run_object_attached(o);
  if (o.target != "user") return run_object_test_runs(o);
  auto obj = open_object(o.input);
  target::TargetOptions topts;
  topts.jit = o.engine != "interp";
  topts.verify = !o.unverified;
  topts.checked = o.unverified || o.checked;
  topts.on_printk = [](std::string_view line) { std::cout << "bpf_trace_printk: " << line << '\n'; };
  auto loaded = target::make_user_target(topts)->load(obj);
  fill_maps(*loaded, o.map_fills);
  auto* prog = dynamic_cast<target::user::UserProgram*>(&choose_program(*loaded, o.prog, o.input));
  EventPrinter events(*loaded, o.event_type);

  int rc = 0;
  if (!o.pcap_in.empty() || !o.data_file.empty()) {
    if (!prog->is_packet_program()) {
      throw Error(o.input + ": program '" + prog->name() + "' (" + prog->definition().section +
                  ") does not run on packets; give contexts with --ctx");
    }
    if (!o.pcap_in.empty()) {
      rc = run_pcap(*prog, o, events);
    } else {
      const uint32_t retval = prog->run_packet(read_file_bytes(o.data_file));
      events.drain();
      std::cout << prog->name() << ": " << classify(prog->definition().def.prog_type, retval).name << " (" << retval
                << ")\n  data out: " << hex(prog->packet_out()) << '\n';
    }
  } else {
    if (prog->is_packet_program()) {
      throw Error(o.input + ": program '" + prog->name() + "' runs on packets; give --pcap FILE or --data FILE");
    }
    rc = run_contexts(*prog, *loaded, o, events);
  }
  if (o.dump_maps) std::cout << dump_maps_json(*loaded).dump(2) << '\n';
  return rc;
}

}  // namespace bpfkit::cli

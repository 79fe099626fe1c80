#include "lang/probe_context.h"

#include "target/linux/trace_attach.h"

namespace bpfkit::lang {

namespace {

// x86-64 struct pt_regs: where a uprobe/kprobe finds the argument registers (System V
// order rdi, rsi, rdx, rcx, r8, r9) and the return value (rax).
constexpr uint32_t kPtRegsArgs[] = {112, 104, 96, 88, 72, 64};
constexpr uint32_t kPtRegsRax = 80;

bool is_function_probe(ProbeKind k) {
  return k == ProbeKind::Uprobe || k == ProbeKind::Uretprobe || k == ProbeKind::Kprobe || k == ProbeKind::Kretprobe ||
         k == ProbeKind::Fentry || k == ProbeKind::Fexit;
}

const object::BtfFuncProto* func_proto(const object::Btf* btf, const std::string& function) {
  if (!btf) return nullptr;
  auto id = btf->find_by_name(function, object::BtfKind::Func);
  if (!id) return nullptr;
  return btf->type(btf->resolve(btf->type(*id).type)).as<object::BtfFuncProto>();
}

Type type_of_tracepoint_field(const core::TracepointField& f, AddrSpace pointers) {
  if (f.data_loc || f.rel_loc) return Type::string(kDefaultStringSize);
  bool is_char = f.type.find("char") != std::string::npos;
  if (f.array_len > 0) {
    if (is_char) return Type::string(f.array_len);
    Type arr = Type::of_kind(TypeKind::Array);
    uint32_t elem = f.size / f.array_len;
    arr.elems = {Type::integer(elem == 0 ? 1 : elem, f.is_signed)};
    arr.size = f.size;
    return arr;
  }
  if (f.type.find('*') != std::string::npos) {
    Type p = Type::of_kind(TypeKind::Pointer);
    p.size = 8;
    p.space = pointers;
    return p;
  }
  uint32_t width = f.size == 1 || f.size == 2 || f.size == 4 || f.size == 8 ? f.size : 8;
  return Type::integer(width, f.is_signed);
}

}  // namespace

bool ProbeContext::has_function() const { return is_function_probe(probe_.spec.kind); }

std::string ProbeContext::function_name() const { return probe_.spec.function; }

bool ProbeContext::has_retval() const {
  ProbeKind k = probe_.spec.kind;
  return k == ProbeKind::Uretprobe || k == ProbeKind::Kretprobe || k == ProbeKind::Fexit;
}

std::string ProbeContext::arg_unavailable(int index) const {
  switch (probe_.spec.kind) {
    case ProbeKind::Uprobe:
    case ProbeKind::Kprobe:
      if (index < 6) return "";
      return "arg" + std::to_string(index) + " is on the stack; bpfkit reads arg0 to arg5 (the argument registers)";
    case ProbeKind::RawTracepoint:
      if (index < 12) return "";
      return "a raw tracepoint has at most 12 arguments (arg0 to arg11)";
    case ProbeKind::Tracepoint: return "tracepoint probes have args->FIELD, not arg" + std::to_string(index);
    case ProbeKind::Fentry:
    case ProbeKind::Fexit: return "kfunc probes have args->NAME, not arg" + std::to_string(index);
    default: return "arg" + std::to_string(index) + " is only known in uprobe, kprobe and rawtracepoint probes";
  }
}

bool ProbeContext::has_args() const {
  ProbeKind k = probe_.spec.kind;
  return k == ProbeKind::Tracepoint || k == ProbeKind::Fentry || k == ProbeKind::Fexit;
}

uint32_t ProbeContext::args_size() const {
  if (probe_.tracepoint) return probe_.tracepoint->size();
  if (const auto* proto = func_proto(btf_, probe_.spec.function)) return uint32_t(proto->params.size() * 8);
  return 0;
}

std::optional<ArgField> ProbeContext::arg_field(const std::string& name, std::string& error) const {
  if (probe_.tracepoint) {
    const core::TracepointField* f = probe_.tracepoint->find(name);
    if (!f || f->common) {
      error = "tracepoint " + probe_.tracepoint->category + ":" + probe_.tracepoint->name + " has no field '" + name +
              "' (its fields:";
      for (const core::TracepointField& field : probe_.tracepoint->fields) {
        if (!field.common) error += " " + field.name;
      }
      error += ")";
      return std::nullopt;
    }
    ArgField out;
    out.type = type_of_tracepoint_field(*f, default_space());
    out.info.offset = f->offset;
    out.info.from_ctx = true;
    out.info.data_loc = f->data_loc || f->rel_loc;
    return out;
  }
  const object::BtfFuncProto* proto = func_proto(btf_, probe_.spec.function);
  if (!proto) {
    error = "no BTF prototype for " + probe_.spec.function + " to type args with";
    return std::nullopt;
  }
  for (size_t i = 0; i < proto->params.size(); ++i) {
    if (proto->params[i].name != name) continue;
    ArgField out;
    uint32_t t = btf_->resolve(proto->params[i].type);
    const object::BtfType& bt = btf_->type(t);
    if (bt.kind == object::BtfKind::Ptr) {
      out.type = Type::of_kind(TypeKind::Pointer);
      out.type.size = 8;
      out.type.space = AddrSpace::Kernel;
      uint32_t pointee = btf_->resolve(bt.type);
      auto pk = btf_->type(pointee).kind;
      if (pk == object::BtfKind::Struct || pk == object::BtfKind::Union) out.type.btf_id = pointee;
    } else {
      const auto* i32 = bt.as<object::BtfInt>();
      uint32_t size = bt.size == 1 || bt.size == 2 || bt.size == 4 || bt.size == 8 ? bt.size : 8;
      out.type = Type::integer(size, i32 && (i32->encoding & object::kBtfIntSigned));
    }
    out.info.offset = uint32_t(i * 8);
    out.info.from_ctx = true;
    return out;
  }
  error = probe_.spec.function + "() has no parameter '" + name + "'";
  return std::nullopt;
}

AddrSpace ProbeContext::default_space() const {
  ProbeKind k = probe_.spec.kind;
  if (k == ProbeKind::Uprobe || k == ProbeKind::Uretprobe) return AddrSpace::User;
  if (k == ProbeKind::Tracepoint && probe_.spec.target == "syscalls") return AddrSpace::User;
  return AddrSpace::Kernel;
}

uint32_t ProbeContext::arg_offset(int index) const {
  ProbeKind k = probe_.spec.kind;
  if (k == ProbeKind::Uprobe || k == ProbeKind::Kprobe) return kPtRegsArgs[index];
  return uint32_t(index) * 8;
}

uint32_t ProbeContext::retval_offset() const {
  ProbeKind k = probe_.spec.kind;
  if (k == ProbeKind::Fexit) return args_size();
  return kPtRegsRax;
}

std::string probe_section(const ProbeSpec& spec) {
  switch (spec.kind) {
    case ProbeKind::Begin:
    case ProbeKind::End:
    case ProbeKind::Interval: return "raw_tp";  // run by the driver with BPF_PROG_TEST_RUN
    case ProbeKind::Tracepoint: return "tracepoint/" + spec.target + "/" + spec.function;
    case ProbeKind::RawTracepoint: return "raw_tp/" + spec.function;
    case ProbeKind::Uprobe:
    case ProbeKind::Uretprobe: {
      std::string where = spec.target + ":" + spec.function;
      if (spec.function.empty()) where = spec.target + ":" + std::to_string(spec.offset);
      else if (spec.offset) where += "+" + std::to_string(spec.offset);
      return std::string(spec.kind == ProbeKind::Uprobe ? "uprobe/" : "uretprobe/") + where;
    }
    case ProbeKind::Kprobe: return "kprobe/" + spec.function;
    case ProbeKind::Kretprobe: return "kretprobe/" + spec.function;
    case ProbeKind::Fentry: return "fentry/" + spec.function;
    case ProbeKind::Fexit: return "fexit/" + spec.function;
    case ProbeKind::Profile:
    case ProbeKind::Software:
    case ProbeKind::Hardware: return "perf_event";
    default: return "";
  }
}

std::vector<ConcreteProbe> resolve_probes(const Source& source, const Program& program, bool kernel_probes) {
  std::vector<ConcreteProbe> out;
  for (const Probe& probe : program.probes) {
    for (const AttachPoint& ap : probe.attach_points) {
      ProbeSpec spec;
      try {
        spec = parse_probe_spec(ap.text);
      } catch (const ProbeSpecError& err) {
        Location loc = ap.loc;
        loc.column += uint32_t(err.column_offset());
        loc.length = 1;
        throw SemanticError(source, loc, err.what());
      }
      ProbeKind k = spec.kind;
      bool user_hook = k == ProbeKind::Begin || k == ProbeKind::End || k == ProbeKind::Interval;
      if (!kernel_probes && !user_hook) {
        throw SemanticError(source, ap.loc,
                            "the userspace target has no hook for '" + ap.text +
                                "' (it runs BEGIN, END and interval probes); run with --target linux");
      }
      if ((k == ProbeKind::Kprobe || k == ProbeKind::Kretprobe) && !target::linux_kernel::kernel_has_kprobes()) {
        bool syscall = spec.function.rfind("__x64_sys_", 0) == 0 || spec.function.rfind("sys_", 0) == 0;
        throw SemanticError(source, ap.loc, target::linux_kernel::no_kprobes_message(spec.function, syscall));
      }
      if (probe_section(spec).empty()) {
        throw SemanticError(source, ap.loc, "probes of this kind ('" + ap.text + "') are not supported by bpfkit yet");
      }
      std::vector<ProbeSpec> concrete{spec};
      if (spec.has_wildcard()) {
        concrete = expand_probe_spec(spec);
        if (concrete.empty()) throw SemanticError(source, ap.loc, "no probe on this system matches '" + ap.text + "'");
      }
      for (ProbeSpec& c : concrete) {
        ConcreteProbe cp;
        cp.spec = c;
        cp.probe = &probe;
        cp.loc = ap.loc;
        cp.name = c.canonical();
        cp.section = probe_section(c);
        if (c.kind == ProbeKind::Tracepoint) {
          try {
            cp.tracepoint = core::load_tracepoint_format(c.target + "/" + c.function);
          } catch (const Error& err) {
            throw SemanticError(source, ap.loc, "tracepoint " + c.target + ":" + c.function + " does not exist here (" +
                                                    err.what() + ")");
          }
        }
        out.push_back(std::move(cp));
      }
    }
  }
  return out;
}

}  // namespace bpfkit::lang

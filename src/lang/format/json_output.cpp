#include "lang/format/json_output.h"

namespace bpfkit::lang::format {

std::string json_escape(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else if (c >= 0x80) {
          // bpftrace streams the (signed) char as an int in hex.
          out += "\\uffffff";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string json_message(std::string_view type, std::string_view text) {
  std::string out = "{\"type\": \"";
  out += type;
  out += "\", \"data\": \"";
  out += json_escape(text);
  out += "\"}\n";
  return out;
}

std::string json_printf_event(std::string_view text) { return json_message("printf", text); }
std::string json_time_event(std::string_view text) { return json_message("time", text); }
std::string json_join_event(std::string_view text) { return json_message("join", text); }
std::string json_cat_event(std::string_view text) { return json_message("cat", text); }
std::string json_syscall_event(std::string_view text) { return json_message("syscall", text); }

std::string json_value_event(const Value& v) {
  return "{\"type\": \"value\", \"data\": " + json_value(v) + "}\n";
}

std::string text_value_event(const Value& v) { return format_value(v) + "\n"; }

std::string text_join_event(std::string_view text) { return std::string(text) + "\n"; }

std::string json_attached_probes(size_t n) {
  return "{\"type\": \"attached_probes\", \"data\": {\"probes\": " + std::to_string(n) + "}}\n";
}

std::string text_attached_probes(size_t n) {
  return "Attaching " + std::to_string(n) + (n == 1 ? " probe...\n" : " probes...\n");
}

std::string text_lost_events(uint64_t n) { return "Lost " + std::to_string(n) + " events\n"; }

std::string json_lost_events(uint64_t) { return ""; }

}  // namespace bpfkit::lang::format

// Maps as JSON for the command line: filling a map from a file before a run
// (--map NAME=FILE.json) and dumping it after, with keys and values formatted
// through the object's BTF (field names, enum names, strings) as bpftool does.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "object/btf.h"
#include "target/target.h"

namespace bpfkit::cli {

// The map's entries: [{"key": K, "value": V}, ...]; per-CPU maps give
// "values": [{"cpu": N, "value": V}, ...] instead of "value".
nlohmann::json dump_map_json(target::MapHandle& map, const object::Btf* btf);

// Fills a map from `doc`: a list of {"key": K, "value": V} (or an object whose
// member names are keys, for maps with integer keys). K and V are JSON shaped as
// dump_map_json prints them, byte lists (["0x0a", 1, ...]), integers for
// integer-sized keys/values, or for LPM-trie maps with IPv4 keys a CIDR string
// ("10.1.0.0/16"). Throws Error naming `source`, the entry index and the field.
size_t fill_map_json(target::MapHandle& map, const object::Btf* btf, const nlohmann::json& doc,
                     const std::string& source);

}  // namespace bpfkit::cli

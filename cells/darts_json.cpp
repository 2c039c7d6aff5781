// The JSON notations of DARTS genotypes (darts.h): NDS files (nds_data/<Space>.json, §4.1), NDS
// items and bare genotype objects. Errors name the source and the JSON path of the offending value
// ("DARTS.json: top[3].net.genotype.normal[2][0]: unknown op ...").
//
// NDS files are large (per-epoch curves for thousands of items); the parser keeps only the keys
// that describe the network (see kKeptKeys) and drops everything else while parsing.
#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cells/darts.h"
#include "runtime/error.h"

namespace naswot::cells {
namespace {

using Json = nlohmann::json;

constexpr std::array<const char*, 12> kKeptKeys = {"top",    "mid",           "net",   "genotype",
                                                   "normal", "normal_concat", "reduce", "reduce_concat",
                                                   "width",  "depth",         "aux",    "test_ep_top1"};

bool kept_key(const std::string& key) {
  for (const char* k : kKeptKeys)
    if (key == k) return true;
  for (const char* k : kNdsNumericFields)
    if (key == k) return true;
  return false;
}

[[noreturn]] void fail(const std::string& source, const std::string& path, const std::string& what) {
  throw_error(ErrorKind::BadInput, source + ": " + (path.empty() ? std::string("(top level)") : path) + ": " + what);
}

std::string kind_of(const Json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "a list";
  return "an object";
}

Json parse_filtered(std::string_view text, const std::string& source) {
  const Json::parser_callback_t keep = [](int, Json::parse_event_t event, Json& parsed) {
    if (event != Json::parse_event_t::key) return true;
    return kept_key(parsed.get_ref<const std::string&>());  // false drops the key and its value
  };
  try {
    return Json::parse(text.begin(), text.end(), keep);
  } catch (const Json::parse_error& e) {
    throw_error(ErrorKind::BadInput, source + ": not valid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

const Json& member(const Json& obj, const char* key, const std::string& source, const std::string& path) {
  if (!obj.is_object()) fail(source, path, "expected an object, found " + kind_of(obj));
  const auto it = obj.find(key);
  if (it == obj.end()) fail(source, path, std::string("missing '") + key + "'");
  return *it;
}

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

std::vector<DartsEdge> edges_from(const Json& j, const std::string& source, const std::string& path) {
  if (!j.is_array()) fail(source, path, "expected a list of [op, input] pairs, found " + kind_of(j));
  std::vector<DartsEdge> edges;
  for (size_t e = 0; e < j.size(); ++e) {
    const std::string p = path + "[" + std::to_string(e) + "]";
    const Json& pair = j[e];
    if (!pair.is_array() || pair.size() != 2)
      fail(source, p,
           "expected an [op, input] pair, found " + kind_of(pair) +
               (pair.is_array() ? " of " + std::to_string(pair.size()) : ""));
    if (!pair[0].is_string()) fail(source, p + "[0]", "expected an op name, found " + kind_of(pair[0]));
    const std::string& name = pair[0].get_ref<const std::string&>();
    const std::optional<DartsOp> op = darts_op_from_name(name);
    if (!op) fail(source, p + "[0]", "unknown op '" + name + "' (ops: " + darts_op_list() + ")");
    if (!pair[1].is_number_integer())
      fail(source, p + "[1]", "expected an input state (an integer), found " + kind_of(pair[1]));
    const int64_t input = pair[1].get<int64_t>();
    const int node = 2 + static_cast<int>(e) / 2;
    if (input < 0 || input >= node)
      fail(source, p + "[1]",
           "input state " + std::to_string(input) + " for node " + std::to_string(node) + "; expected 0.." +
               std::to_string(node - 1) + " (0 and 1 are the cell inputs, 2.. the earlier nodes)");
    edges.push_back({*op, static_cast<int>(input)});
  }
  return edges;
}

std::vector<int> concat_from(const Json& j, const std::string& source, const std::string& path) {
  if (!j.is_array()) fail(source, path, "expected a list of state indices, found " + kind_of(j));
  std::vector<int> out;
  for (size_t k = 0; k < j.size(); ++k) {
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < 0 || j[k].get<int64_t>() > 2 * kDartsMaxSteps + 1)
      fail(source, path + "[" + std::to_string(k) + "]",
           "expected a state index (a small integer), found " + kind_of(j[k]));
    out.push_back(j[k].get<int>());
  }
  return out;
}

DartsGenotype genotype_from(const Json& j, const std::string& source, const std::string& path) {
  DartsGenotype g;
  g.normal.edges = edges_from(member(j, "normal", source, path), source, join(path, "normal"));
  g.normal.concat = concat_from(member(j, "normal_concat", source, path), source, join(path, "normal_concat"));
  g.reduce.edges = edges_from(member(j, "reduce", source, path), source, join(path, "reduce"));
  g.reduce.concat = concat_from(member(j, "reduce_concat", source, path), source, join(path, "reduce_concat"));
  validate_darts_cell(g.normal, source + ": " + join(path, "normal"));
  validate_darts_cell(g.reduce, source + ": " + join(path, "reduce"));
  return g;
}

int size_from(const Json& net, const char* key, const std::string& source, const std::string& path) {
  const Json& v = member(net, key, source, path);
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 4096)
    fail(source, join(path, key), "expected a positive integer (at most 4096), found " + kind_of(v));
  return v.get<int>();
}

// An NDS item: {"net": {"genotype": {...}, "width": W, "depth": D, "aux": bool}, ...}. `aux` is
// optional here (false when absent); NDS files always carry it.
DartsArch item_from(const Json& item, const std::string& source, const std::string& path) {
  const Json& net = member(item, "net", source, path);
  const std::string net_path = join(path, "net");
  if (net.is_object() && !net.contains("genotype"))
    fail(source, net_path,
         "no 'genotype': an AnyNet item (ResNet, ResNeXt, Vanilla spaces)? only the cell spaces "
         "(DARTS, ENAS, PNAS, NASNet, Amoeba) are supported");
  DartsArch a;
  a.genotype = genotype_from(member(net, "genotype", source, net_path), source, join(net_path, "genotype"));
  a.width = size_from(net, "width", source, net_path);
  a.depth = size_from(net, "depth", source, net_path);
  if (const auto it = net.find("aux"); it != net.end()) {
    if (!it->is_boolean()) fail(source, join(net_path, "aux"), "expected true or false, found " + kind_of(*it));
    a.aux = it->get<bool>();
  }
  return a;
}

// What an accuracy table needs from an item (darts.h, NdsItem); problems are kept, not thrown.
void add_table_fields(const Json& item, const std::string& source, NdsItem& out) {
  const std::string at = source + ": " + join(out.path, "test_ep_top1") + ": ";
  const auto curve = item.find("test_ep_top1");
  if (curve == item.end()) {
    out.test_top1_problem = at + "missing; expected the per-epoch top-1 test error (percent)";
  } else if (!curve->is_array() || curve->empty()) {
    out.test_top1_problem = at + "expected a non-empty list of per-epoch top-1 test errors (percent), found " +
                            (curve->is_array() ? std::string("an empty list") : kind_of(*curve));
  } else if (const Json& last = curve->back();
             !last.is_number() || !(last.get<double>() >= 0.0 && last.get<double>() <= 100.0)) {
    out.test_top1_problem = source + ": " + join(out.path, "test_ep_top1") + "[" + std::to_string(curve->size() - 1) +
                            "]: expected a top-1 error in percent, a number in [0, 100], found " +
                            (last.is_number() ? std::to_string(last.get<double>()) : kind_of(last));
  } else {
    out.final_test_top1 = last.get<double>();
  }
  for (const char* key : kNdsNumericFields) {
    const auto it = item.find(key);
    if (it == item.end()) continue;
    if (it->is_number())
      out.numbers.emplace_back(key, it->get<double>());
    else
      out.bad_fields.emplace_back(key, source + ": " + join(out.path, key) + ": expected a number, found " + kind_of(*it));
  }
}

}  // namespace

bool looks_like_json(std::string_view text) {
  const size_t i = text.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && (text[i] == '{' || text[i] == '[');
}

DartsArch parse_nds_item_json(std::string_view text) {
  const std::string source = "JSON genotype";
  const Json j = parse_filtered(text, source);
  if (j.is_object() && j.contains("net")) return item_from(j, source, "");
  if (j.is_object() && (j.contains("normal") || j.contains("reduce")))
    return {genotype_from(j, source, ""), 0, 0, false};
  fail(source, "",
       "expected an NDS item {\"net\": {\"genotype\": ...}} or a genotype {\"normal\": ..., \"reduce\": ...}, "
       "found " +
           kind_of(j) + (j.is_array() ? " (a list: pass an NDS file with --nds-json)" : ""));
}

std::vector<NdsItem> parse_nds_json(std::string_view text, const std::string& source) {
  const Json j = parse_filtered(text, source);
  std::vector<NdsItem> out;
  auto add_list = [&](const Json& list, const std::string& prefix) {
    if (!list.is_array()) fail(source, prefix, "expected a list of NDS items, found " + kind_of(list));
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = prefix + "[" + std::to_string(i) + "]";
      NdsItem item;
      item.arch = item_from(list[i], source, path);
      item.path = path;
      add_table_fields(list[i], source, item);
      out.push_back(std::move(item));
    }
  };
  if (j.is_array()) {
    add_list(j, "");
  } else if (j.is_object() && j.contains("top") && j.contains("mid")) {
    // The reference concatenates data['top'] + data['mid'] (§4.1).
    add_list(j["top"], "top");
    add_list(j["mid"], "mid");
  } else {
    fail(source, "",
         "expected a list of NDS items or an object with 'top' and 'mid' lists, found " + kind_of(j) +
             (j.is_object() ? " without them" : ""));
  }
  NASWOT_EXPECT(!out.empty(), BadInput, source << ": holds no NDS item");
  return out;
}

std::vector<NdsItem> read_nds_json(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  NASWOT_EXPECT(in.good(), Io, file << ": cannot open the NDS JSON file");
  std::ostringstream text;
  text << in.rdbuf();
  NASWOT_EXPECT(!in.bad(), Io, file << ": read error");
  return parse_nds_json(text.str(), file);
}

}  // namespace naswot::cells

// [[model.layers]]: reading a custom model's layer tables and writing them back.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "io/recipe_table.h"

namespace sculpt::recipe_detail {

namespace {

std::string toml_key(std::string_view k) {
  const bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  return bare ? std::string(k) : toml_quote(k);
}

// Layer arguments print as integers when they are whole numbers (out = 300, not 300.0).
std::string format_arg(double x) {
  if (std::isfinite(x) && std::floor(x) == x && std::fabs(x) < 9.0e15)
    return std::to_string(static_cast<int64_t>(x));
  return format_value(x);
}

// `inputs`: one layer name, or a list of them.
std::vector<std::string> parse_inputs(const std::string& key, const toml::node& v,
                                      const std::string& where) {
  const std::string hint =
      "inputs = \"conv1\" or inputs = [\"conv2\", \"relu1\"]: earlier "
      "layers' names, or \"input\" for the model's input";
  if (const auto* s = v.as_string()) return {s->get()};
  const auto* arr = v.as_array();
  if (!arr)
    throw ConfigError(
        fmt::format("{}.inputs must be a string or a list of strings, got {}", key, node_kind(v)),
        where, hint);
  std::vector<std::string> out;
  for (const toml::node& e : *arr) {
    const auto* s = e.as_string();
    if (!s)
      throw ConfigError(fmt::format("{}.inputs must list layer names, got {}", key, node_kind(e)),
                        where, hint);
    out.push_back(s->get());
  }
  if (out.empty()) throw ConfigError(fmt::format("{}.inputs is empty", key), where, hint);
  return out;
}

}  // namespace

nn::LayerSpec parse_layer(const std::string& key, const toml::table& tbl, const std::string& where,
                          const std::string& source) {
  nn::LayerSpec spec;
  for (const auto& [k, v] : tbl) {
    const std::string name(k.str());
    const std::string vwhere = position(source, v);
    if (name == "type" || name == "name") {
      const auto* s = v.as_string();
      if (!s)
        throw ConfigError(fmt::format("{}.{} must be a string, got {}", key, name, node_kind(v)),
                          vwhere);
      (name == "type" ? spec.type : spec.name) = s->get();
    } else if (name == "inputs") {
      spec.inputs = parse_inputs(key, v, vwhere);
    } else if (const auto* d = v.as_floating_point()) {
      spec.args[name] = d->get();
    } else if (const auto* n = v.as_integer()) {
      spec.args[name] = static_cast<double>(n->get());
    } else {
      throw ConfigError(fmt::format("{}.{} must be a number, got {}", key, name, node_kind(v)),
                        vwhere, "layer arguments (out, kernel, stride, padding, p) are numbers");
    }
  }
  if (spec.type.empty())
    throw ConfigError(fmt::format("{}.type is missing", key), where,
                      "add type = \"linear\" (or conv2d, relu, maxpool2d, flatten, ...)");
  return spec;
}

std::string layers_toml(const std::vector<nn::LayerSpec>& layers) {
  std::string out;
  for (const nn::LayerSpec& l : layers) {
    out += fmt::format("\n[[model.layers]]\ntype = {}\n", toml_quote(l.type));
    if (!l.name.empty()) out += fmt::format("name = {}\n", toml_quote(l.name));
    if (!l.inputs.empty()) {
      std::vector<std::string> quoted;
      for (const std::string& in : l.inputs) quoted.push_back(toml_quote(in));
      out += fmt::format("inputs = [{}]\n", fmt::join(quoted, ", "));
    }
    for (const auto& [k, x] : l.args) out += fmt::format("{} = {}\n", toml_key(k), format_arg(x));
  }
  return out;
}

}  // namespace sculpt::recipe_detail

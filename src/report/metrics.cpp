// metrics.jsonl: lines written with fmt into a reused buffer (shortest round-trip numbers, no
// allocation per line once warm) and read back with nlohmann::json.
#include "report/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace sculpt::report {

namespace {

void put_key(std::string& out, std::string_view key) {
  out += ",\"";
  for (const char c : key) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  out += "\":";
}

void put(std::string& out, std::string_view key, const std::optional<double>& v) {
  if (!v) return;
  put_key(out, key);
  if (std::isfinite(*v)) fmt::format_to(std::back_inserter(out), "{}", *v);
  else out += "null";
}

void put(std::string& out, std::string_view key, const std::optional<int64_t>& v) {
  if (!v) return;
  put_key(out, key);
  fmt::format_to(std::back_inserter(out), "{}", *v);
}

}  // namespace

void append_json_line(std::string& out, const MetricsRecord& r) {
  out += "{\"event\":";
  out += '"';
  out += r.event;  // a fixed word: step, epoch, ...
  out += '"';
  put(out, "step", r.step);
  put(out, "epoch", r.epoch);
  put(out, "loss", r.loss);
  put(out, "train_acc", r.train_acc);
  put(out, "val_loss", r.val_loss);
  put(out, "val_acc", r.val_acc);
  put(out, "test_loss", r.test_loss);
  put(out, "test_acc", r.test_acc);
  put(out, "lr", r.lr);
  put(out, "grad_norm", r.grad_norm);
  put(out, "clipped", r.clipped);
  put(out, "sparsity", r.sparsity);
  put(out, "samples_per_s", r.samples_per_s);
  put(out, "time_s", r.time_s);
  for (const auto& [k, v] : r.extra) put(out, k, std::optional<double>(v));
  out += '}';
}

std::string to_json_line(const MetricsRecord& r) {
  std::string out;
  append_json_line(out, r);
  return out;
}

std::optional<MetricsRecord> parse_metrics_line(std::string_view line) {
  using Num = std::optional<double> MetricsRecord::*;
  using Count = std::optional<int64_t> MetricsRecord::*;
  static const std::pair<const char*, Num> kNums[] = {
      {"loss", &MetricsRecord::loss},           {"train_acc", &MetricsRecord::train_acc},
      {"val_loss", &MetricsRecord::val_loss},   {"val_acc", &MetricsRecord::val_acc},
      {"test_loss", &MetricsRecord::test_loss}, {"test_acc", &MetricsRecord::test_acc},
      {"lr", &MetricsRecord::lr},               {"grad_norm", &MetricsRecord::grad_norm},
      {"sparsity", &MetricsRecord::sparsity},   {"samples_per_s", &MetricsRecord::samples_per_s},
      {"time_s", &MetricsRecord::time_s}};
  static const std::pair<const char*, Count> kCounts[] = {
      {"step", &MetricsRecord::step}, {"epoch", &MetricsRecord::epoch},
      {"clipped", &MetricsRecord::clipped}};

  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const auto ev = j.find("event");
  if (ev == j.end() || !ev->is_string()) return std::nullopt;
  MetricsRecord r;
  r.event = ev->get<std::string>();
  for (const auto& [key, v] : j.items()) {
    if (!v.is_number() && !v.is_null()) continue;
    const double d = v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
    const auto count = std::find_if(std::begin(kCounts), std::end(kCounts),
                                    [&k = key](const auto& e) { return k == e.first; });
    if (count != std::end(kCounts)) {
      if (std::abs(d) < 9e15) r.*(count->second) = static_cast<int64_t>(d);  // null: absent
      continue;
    }
    const auto n = std::find_if(std::begin(kNums), std::end(kNums),
                                [&k = key](const auto& e) { return k == e.first; });
    if (n != std::end(kNums)) r.*(n->second) = d;
    else r.extra[key] = d;
  }
  return r;
}

MetricsWriter::MetricsWriter(const std::string& path, bool accuracy)
    : path_(path), accuracy_(accuracy) {
  file_.reset(std::fopen(path.c_str(), "a"));
  if (!file_)
    throw IoError(fmt::format("cannot open the metrics file: {}", std::strerror(errno)), path,
                  "check that the run directory exists and is writable");
}

void MetricsWriter::write(const MetricsRecord& r) {
  line_.clear();
  append_json_line(line_, r);
  line_ += '\n';
  if (std::fwrite(line_.data(), 1, line_.size(), file_.get()) != line_.size() ||
      std::fflush(file_.get()) != 0)
    throw IoError(fmt::format("cannot write the metrics file: {}", std::strerror(errno)), path_);
}

}  // namespace sculpt::report

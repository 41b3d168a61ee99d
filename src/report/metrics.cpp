// metrics.jsonl writing with nlohmann::json (ordered keys, shortest round-trip numbers).
#include "report/metrics.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace sculpt::report {

namespace {

void put(nlohmann::ordered_json& j, const char* key, const std::optional<double>& v) {
  if (!v) return;
  if (std::isfinite(*v)) j[key] = *v;
  else j[key] = nullptr;
}

void put(nlohmann::ordered_json& j, const char* key, const std::optional<int64_t>& v) {
  if (v) j[key] = *v;
}

}  // namespace

std::string to_json_line(const MetricsRecord& r) {
  nlohmann::ordered_json j;
  j["event"] = r.event;
  put(j, "step", r.step);
  put(j, "epoch", r.epoch);
  put(j, "loss", r.loss);
  put(j, "train_acc", r.train_acc);
  put(j, "val_loss", r.val_loss);
  put(j, "val_acc", r.val_acc);
  put(j, "test_loss", r.test_loss);
  put(j, "test_acc", r.test_acc);
  put(j, "lr", r.lr);
  put(j, "grad_norm", r.grad_norm);
  put(j, "clipped", r.clipped);
  put(j, "sparsity", r.sparsity);
  put(j, "samples_per_s", r.samples_per_s);
  put(j, "time_s", r.time_s);
  for (const auto& [k, v] : r.extra) put(j, k.c_str(), std::optional<double>(v));
  return j.dump();
}

MetricsWriter::MetricsWriter(const std::string& path, bool accuracy)
    : path_(path), accuracy_(accuracy) {
  file_.reset(std::fopen(path.c_str(), "a"));
  if (!file_)
    throw IoError(fmt::format("cannot open the metrics file: {}", std::strerror(errno)), path,
                  "check that the run directory exists and is writable");
}

void MetricsWriter::write(const MetricsRecord& r) {
  line_ = to_json_line(r);
  line_ += '\n';
  if (std::fwrite(line_.data(), 1, line_.size(), file_.get()) != line_.size() ||
      std::fflush(file_.get()) != 0)
    throw IoError(fmt::format("cannot write the metrics file: {}", std::strerror(errno)), path_);
}

}  // namespace sculpt::report

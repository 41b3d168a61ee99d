// Training state as checkpoint metadata, and recipe comparison for resumed runs.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "core/error.h"
#include "core/limits.h"
#include "train/checkpoint.h"

namespace sculpt::train {

namespace {

template <class T>
std::optional<T> parse_int(std::string_view text, int base = 10) {
  T v{};
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, v, base);
  if (ec != std::errc() || p != end || text.empty()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  for (size_t pos = 0; pos <= text.size();) {
    const size_t sp = std::min(text.find(' ', pos), text.size());
    words.push_back(text.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return words;
}

std::optional<double> parse_real(std::string_view word) {
  const std::string w(word);
  char* end = nullptr;
  const double v = std::strtod(w.c_str(), &end);
  if (w.empty() || *end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "table.key" -> value text of every line of to_toml(); [[array]] tables are numbered.
std::map<std::string, std::string> toml_values(const std::string& toml) {
  std::map<std::string, std::string> out;
  std::map<std::string, int> arrays;
  std::string section;
  size_t pos = 0;
  while (pos < toml.size()) {
    size_t eol = toml.find('\n', pos);
    if (eol == std::string::npos) eol = toml.size();
    const std::string_view line(toml.data() + pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("[[") && line.ends_with("]]")) {
      const std::string name(line.substr(2, line.size() - 4));
      section = fmt::format("{}[{}]", name, arrays[name]++);
    } else if (line.starts_with("[") && line.ends_with("]")) {
      section = std::string(line.substr(1, line.size() - 2));
    } else if (const size_t eq = line.find(" = "); eq != std::string_view::npos) {
      out[section + "." + std::string(line.substr(0, eq))] = std::string(line.substr(eq + 3));
    }
  }
  return out;
}

}  // namespace

std::string format_rng_state(const std::array<uint64_t, 4>& s) {
  return fmt::format("{:016x} {:016x} {:016x} {:016x}", s[0], s[1], s[2], s[3]);
}

std::optional<std::array<uint64_t, 4>> parse_rng_state(std::string_view text) {
  std::array<uint64_t, 4> s{};
  for (size_t i = 0; i < s.size(); ++i) {
    const size_t sp = text.find(' ');
    const std::string_view word = i + 1 < s.size() ? text.substr(0, sp) : text;
    if (word.size() != 16 || (i + 1 < s.size() && sp == std::string_view::npos))
      return std::nullopt;
    const auto v = parse_int<uint64_t>(word, 16);
    if (!v) return std::nullopt;
    s[i] = *v;
    if (i + 1 < s.size()) text.remove_prefix(sp + 1);
  }
  // xoshiro's all-zero state is a fixed point: never a state a run reaches.
  if (s == std::array<uint64_t, 4>{}) return std::nullopt;
  return s;
}

std::string format_plateau_state(const sched::PlateauState& s) {
  return fmt::format("{:a} {:a} {} {} {} {}", s.scale, s.best, s.bad_epochs, s.cooldown_left,
                     s.epochs, s.reductions);
}

std::optional<sched::PlateauState> parse_plateau_state(std::string_view text) {
  const std::vector<std::string_view> words = split_words(text);
  if (words.size() != 6) return std::nullopt;
  sched::PlateauState s;
  const auto scale = parse_real(words[0]);
  // best starts at +-infinity (nothing observed yet), so it is parsed without the finite check.
  const std::string best(words[1]);
  char* end = nullptr;
  s.best = std::strtod(best.c_str(), &end);
  if (!scale || best.empty() || *end != '\0') return std::nullopt;
  s.scale = *scale;
  int64_t* counts[] = {&s.bad_epochs, &s.cooldown_left, &s.epochs, &s.reductions};
  for (int i = 0; i < 4; ++i) {
    const auto v = parse_int<int64_t>(words[size_t(i) + 2]);
    if (!v || *v < 0) return std::nullopt;
    *counts[i] = *v;
  }
  if (!(s.scale > 0 && s.scale <= 1) || std::isnan(s.best)) return std::nullopt;
  return s;
}

std::string format_epoch_progress(const EpochProgress& p) {
  std::string out =
      fmt::format("{} {} {} {} {} {} {} {} {} {:a} {:a} {:a} {:a}", p.batches, p.steps_in_epoch,
                  p.samples, p.correct, p.steps, p.skipped, p.clipped_steps, p.sampled_steps,
                  p.skips_in_a_row, p.loss_sum, p.grad_norm_sum, p.grad_norm_max, p.seconds);
  for (double v : p.tensor_sums) out += fmt::format(" {:a}", v);
  return out;
}

std::optional<EpochProgress> parse_epoch_progress(std::string_view text) {
  const std::vector<std::string_view> words = split_words(text);
  constexpr size_t kCounts = 9, kReals = 4;
  if (words.size() < kCounts + kReals) return std::nullopt;
  EpochProgress p;
  int64_t* counts[kCounts] = {&p.batches,       &p.steps_in_epoch, &p.samples,
                              &p.correct,       &p.steps,          &p.skipped,
                              &p.clipped_steps, &p.sampled_steps,  &p.skips_in_a_row};
  for (size_t i = 0; i < kCounts; ++i) {
    const auto v = parse_int<int64_t>(words[i]);
    if (!v || *v < 0) return std::nullopt;
    *counts[i] = *v;
  }
  double* reals[kReals] = {&p.loss_sum, &p.grad_norm_sum, &p.grad_norm_max, &p.seconds};
  for (size_t i = 0; i < kReals; ++i) {
    const auto v = parse_real(words[kCounts + i]);
    if (!v) return std::nullopt;
    *reals[i] = *v;
  }
  for (size_t i = kCounts + kReals; i < words.size(); ++i) {
    const auto v = parse_real(words[i]);
    if (!v) return std::nullopt;
    p.tensor_sums.push_back(*v);
  }
  // A step consumes at least one batch and is counted once; samples come in whole batches.
  // (Right predictions are bounded by the samples times their positions: Trainer::restore.)
  if (p.batches < 1 || p.steps_in_epoch < 1 || p.steps_in_epoch > p.batches ||
      p.steps + p.skipped != p.steps_in_epoch || p.correct < 0 || p.clipped_steps > p.steps ||
      p.sampled_steps > p.steps)
    return std::nullopt;
  return p;
}

void put_state(const TrainState& s, std::map<std::string, std::string>& meta) {
  meta["format"] = "sculpt-checkpoint";
  meta["version"] = std::to_string(io::kCheckpointVersion);
  meta["epoch"] = std::to_string(s.epoch);
  meta["step"] = std::to_string(s.step);
  meta["rng.data"] = format_rng_state(s.data_rng);
  meta["rng.dropout"] = format_rng_state(s.dropout_rng);
  meta["dropout_key"] = fmt::format("{:016x}", s.dropout_key);
  if (s.plateau) meta["plateau"] = format_plateau_state(*s.plateau);
  if (!s.clip.empty()) meta["clip"] = fmt::format("{:a}", fmt::join(s.clip, " "));
  if (s.progress) meta["epoch_progress"] = format_epoch_progress(*s.progress);
}

namespace {

const std::string* meta_value(const std::map<std::string, std::string>& meta, const char* key) {
  auto it = meta.find(key);
  return it == meta.end() ? nullptr : &it->second;
}

// A Sculpt training checkpoint of a version with training state that this build reads.
void check_format(const std::map<std::string, std::string>& meta, const std::string& where) {
  const std::string* format = meta_value(meta, "format");
  SCULPT_CHECK(
      format && *format == "sculpt-checkpoint", DataError,
      "not a Sculpt training checkpoint (no format = \"sculpt-checkpoint\" in its metadata)", where,
      "resume a run directory written by `sculpt train`");
  const std::string* version_text = meta_value(meta, "version");
  const auto version = version_text ? parse_int<int>(*version_text) : std::nullopt;
  SCULPT_CHECK(version && *version >= 1, DataError, "the checkpoint has no valid format version",
               where, "resume a run directory written by `sculpt train`");
  SCULPT_CHECK(*version >= kFirstStateVersion, DataError,
               fmt::format("checkpoint format version {} holds weights only, no training state "
                           "to resume from (version {} needed)",
                           *version, kFirstStateVersion),
               where, "`sculpt eval` still reads it; start the run again to resume later");
  SCULPT_CHECK(*version <= io::kCheckpointVersion, DataError,
               fmt::format("checkpoint format version {} is newer than this sculpt reads ({})",
                           *version, io::kCheckpointVersion),
               where, "resume it with the sculpt version that wrote it");
}

// Space-separated finite doubles (the clipper's history).
std::optional<std::vector<double>> parse_doubles(const std::string& t) {
  std::vector<double> out;
  const char* p = t.c_str();
  while (*p) {
    char* end = nullptr;
    const double v = std::strtod(p, &end);
    if (end == p || !std::isfinite(v)) return std::nullopt;
    out.push_back(v);
    p = *end == ' ' ? end + 1 : end;
    if (*end != ' ' && *end != '\0') return std::nullopt;
  }
  return out;
}

// No run takes more than kMaxSteps steps (nor epochs): a larger count is damage.
std::optional<int64_t> parse_count(const std::string& t) {
  auto v = parse_int<int64_t>(t);
  return v && *v >= 0 && *v <= kMaxSteps ? v : std::nullopt;
}

std::optional<uint64_t> parse_key(const std::string& t) {
  return t.size() == 16 ? parse_int<uint64_t>(t, 16) : std::nullopt;
}

}  // namespace

TrainState get_state(const std::map<std::string, std::string>& meta, const std::string& where) {
  check_format(meta, where);
  TrainState s;
  std::vector<std::string> bad;
  auto read = [&](const char* key, auto parse, auto& into) {
    const std::string* v = meta_value(meta, key);
    const auto parsed = v ? parse(*v) : std::nullopt;
    if (parsed)
      into = *parsed;
    else
      bad.push_back(v ? fmt::format("{} (\"{}\")", key, *v) : fmt::format("{} (absent)", key));
  };
  read("epoch", parse_count, s.epoch);
  read("step", parse_count, s.step);
  read("rng.data", parse_rng_state, s.data_rng);
  read("rng.dropout", parse_rng_state, s.dropout_rng);
  read("dropout_key", parse_key, s.dropout_key);
  if (meta_value(meta, "plateau")) read("plateau", parse_plateau_state, s.plateau);
  if (meta_value(meta, "clip")) read("clip", parse_doubles, s.clip);
  if (meta_value(meta, "epoch_progress")) read("epoch_progress", parse_epoch_progress, s.progress);
  SCULPT_CHECK(bad.empty(), DataError,
               fmt::format("the checkpoint's training state is damaged: {}", fmt::join(bad, ", ")),
               where, "the file was changed after `sculpt train` wrote it");
  return s;
}

bool resume_may_change(std::string_view key) {
  return key == "train.epochs" || key.starts_with("output.");
}

std::vector<std::string> recipe_differences(const RecipeConfig& saved, const RecipeConfig& now) {
  const auto a = toml_values(to_toml(saved)), b = toml_values(to_toml(now));
  std::vector<std::string> out;
  auto describe = [](const auto& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? std::string("absent") : it->second;
  };
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  for (const std::string& key : keys) {
    if (resume_may_change(key)) continue;
    const std::string x = describe(a, key), y = describe(b, key);
    if (x != y) out.push_back(fmt::format("{} (checkpoint {}, now {})", key, x, y));
  }
  return out;
}

}  // namespace sculpt::train

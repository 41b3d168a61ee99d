// Issue 28, integrity gaps and messages. The checkpoint's checksum covers its metadata (the
// stored recipe, the training state) and cannot be switched off by deleting it; files from
// before that still load, with one warning line; an export's header version must match its
// file's; output.name cannot lead out of output.dir. Every command-line mistake is one line;
// a CSV error shows binary bytes escaped; a checkpoint write that fails leaves no .tmp file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "integration/hostile_harness.h"
#include "io/checkpoint.h"

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;

// Replaces `from` by `to` (same length) in every checkpoint file of the run, each made its own
// file first (the last checkpoint is a hard link to the newest step file).
void edit_checkpoint_bytes(const std::string& run, const std::string& from, const std::string& to) {
  ASSERT_EQ(from.size(), to.size());
  for (const auto& e : fs::directory_iterator(run + "/checkpoints")) {
    std::string bytes = file_bytes(e.path().string());
    const size_t at = bytes.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bytes.replace(at, from.size(), to);
    fs::remove(e.path());
    put_file_bytes(e.path().string(), bytes);
  }
}

TEST(HostileIntegrity, TheChecksumCoversTheMetadataAndCannotBeRemoved) {
  TempDir dir("hi-crc");
  const std::string run = hostile_run(dir);
  // The stored recipe changed after writing (one character, the file still parses).
  edit_checkpoint_bytes(run, "samples = 400", "samples = 500");
  for (const std::string verb : {"eval -m ", "export -c ", "train -q --resume "})
    expect_one_error_line(run_cli(verb + run), 3, "checksum mismatch: the file is damaged (crc32 ");
  const std::string again = dir.file("again");
  ASSERT_EQ(run_cli("train -q -r " + hostile_recipe(dir) + " -o " + again).code, 0);
  // Deleting the checksum does not turn checking off.
  edit_checkpoint_bytes(again, "\"crc32\"", "\"crc00\"");
  expect_one_error_line(run_cli("eval -m " + again), 3,
                        "the checksum (crc32) is missing from the metadata");
}

// A checkpoint as version 2 wrote it: the same header, version "2", the crc32 of the data only.
void downgrade_to_version_2(const std::string& path) {
  const io::Checkpoint ck = io::load_checkpoint(path);
  std::map<std::string, std::string> meta = ck.metadata;
  meta["version"] = "2";
  std::vector<io::NamedTensor> tensors;
  std::string data;
  for (const auto& [name, t] : ck.tensors) {
    tensors.push_back({name, t.shape, t.data.data()});
    data.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * 4);
  }
  meta["crc32"] =
      fmt::format("{:08x}", crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size()));
  fs::remove(path);
  put_file_bytes(path, io::encode_header(tensors, meta) + data);
}

TEST(HostileIntegrity, CheckpointsFromBeforeTheFullChecksumLoadWithOneWarning) {
  TempDir dir("hi-v2");
  const std::string run = hostile_run(dir);
  for (const auto& e : fs::directory_iterator(run + "/checkpoints"))
    downgrade_to_version_2(e.path().string());
  const CliResult r = run_cli("eval -m " + run);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("sculpt: warning: " + run + kLastCheckpoint +
                               ": written by an older Sculpt (checkpoint format version 2)",
                           0),
            0u)
      << r.output;
  EXPECT_EQ(r.output.find("sculpt: warning:", 1), std::string::npos) << "one warning";
  EXPECT_NE(r.output.find("accuracy:"), std::string::npos) << r.output;
  // Its data is still checked.
  std::string bytes = file_bytes(run + kLastCheckpoint);
  bytes[bytes.size() - 2] ^= 0x20;
  fs::remove(run + kLastCheckpoint);
  put_file_bytes(run + kLastCheckpoint, bytes);
  expect_one_error_line(run_cli("eval -m " + run), 3, "checksum mismatch: the tensor data");
}

TEST(HostileIntegrity, AnExportWhoseHeaderVersionDiffersIsRefused) {
  TempDir dir("hi-export-version");
  const std::string model = hostile_export(hostile_run(dir));
  std::string bytes = file_bytes(model);
  const size_t at = bytes.find("\"version\":1", 16);  // the JSON's, after the binary preamble
  ASSERT_NE(at, std::string::npos);
  ASSERT_TRUE(bytes[at + 11] == ',' || bytes[at + 11] == '}');
  bytes[at + 10] = '7';
  const uint32_t crc = static_cast<uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size() - 4));
  std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
  put_file_bytes(model, bytes);
  const std::string csv = dir.write("x.csv", "a,b,c,d\n1,2,3,4\n");
  expect_one_error_line(run_cli("infer -m " + model + " -i " + csv), 3,
                        "the header's version 7 differs from the file's version 1");
}

TEST(HostileIntegrity, OutputNameCannotLeaveOutputDir) {
  TempDir dir("hi-name");
  fs::create_directories(dir.file("a/b"));
  const std::string recipe =
      dir.write("a/b/r.toml", std::string(kHostileRecipe) + "dir = \"" + dir.file("a/b/runs") +
                                  "\"\nname = \"../../x\"\n");
  expect_one_error_line(run_cli("train -q -r " + recipe), 2,
                        "output.name \"../../x\" is a path, not a name");
  for (const auto& e : fs::recursive_directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().rfind("x-", 0), std::string::npos) << e.path();
}

TEST(HostileMessages, CommandLineMistakesAreOneLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train --bogus",
       "The following argument was not expected: --bogus (hint: see `sculpt "
       "train --help`)"},
      {"infer -m model.sculpt", "--input is required (hint: see `sculpt infer --help`)"},
      {"export -c run --format zzz", "--format: zzz not in {auto,dense,sparse}"},
      {"infer -m a -i b -t many", "Could not convert: --threads = many"},
      {"", "A subcommand is required (hint: see `sculpt --help`)"},
      {"frobnicate", "unknown command 'frobnicate'"},
      {"trainn -r x.toml", "unknown command 'trainn' (hint: did you mean 'train'?"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(args);
    expect_one_error_line(run_cli(args), 2, "sculpt: usage error: ");
    EXPECT_NE(run_cli(args).output.find(message), std::string::npos) << run_cli(args).output;
  }
  // Help is still help.
  const CliResult help = run_cli("train --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.output.find("--recipe"), std::string::npos);
}

TEST(HostileMessages, ACsvErrorShowsBinaryBytesEscapedAndShort) {
  TempDir dir("hm-csv");
  std::string cell = "\xff\xfe\x01\x02";
  cell += "\xc3\xa9";  // é: valid UTF-8 stays as it is
  cell += std::string(5000, 'z');
  const std::string csv = dir.write("b.csv", "a,b,label\n1,2,0\n3," + cell + ",1\n");
  const CliResult r =
      run_cli("train -q -r " + recipe_path("binary.toml") +
              " --set data.source=csv --set data.target=label --set data.path=" + csv + " -o " +
              dir.file("run"));
  expect_one_error_line(
      r, 3, "b.csv:3: column 'b' has non-numeric value '\\xff\\xfe\\x01\\x02\xc3\xa9zzz");
  EXPECT_LT(r.output.size(), 400u) << r.output;
  for (const char c : r.output)
    EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << r.output;
}

TEST(HostileMessages, AFailedCheckpointWriteLeavesNoTemporaryFile) {
  TempDir dir("hm-tmp");
  const std::string run = hostile_run(dir);
  const auto size = fs::file_size(run + kLastCheckpoint);
  // Below one checkpoint: the next write fails with EFBIG (as a full disk would).
  const CliResult r = run_cli_binary(
      "ulimit -f " + std::to_string(size / 1024 / 2) + "; " + std::string(SCULPT_CLI),
      "train -q --resume " + run + " --set train.epochs=2");
  expect_one_error_line(r, 3, "File too large");
  for (const auto& e : fs::directory_iterator(run + "/checkpoints"))
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();
}

}  // namespace
}  // namespace sculpt::testing

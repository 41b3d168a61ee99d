// [[model.layers]] with inputs: read, written back by to_toml (what a run directory keeps for
// resume) and read again to the same graph; a wrong `inputs` gets one error naming the entry.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "io/recipe.h"

namespace sculpt {
namespace {

const char* kGraph = R"([data]
source = "synthetic-blobs"
[[model.layers]]
type = "linear"
name = "fc1"
out = 8
[[model.layers]]
type = "relu"
[[model.layers]]
type = "linear"
name = "fc2"
out = 8
[[model.layers]]
type = "add"
inputs = ["fc2", "fc1"]
[[model.layers]]
type = "concat"
inputs = ["add1", "input"]
[[model.layers]]
type = "linear"
out = 1
)";

TEST(RecipeLayers, InputsAreReadAndWrittenBack) {
  const RecipeConfig r = parse_recipe(kGraph, "graph.toml");
  const auto& layers = r.model.custom.layers;
  ASSERT_EQ(layers.size(), 6u);
  EXPECT_TRUE(layers[0].inputs.empty());
  EXPECT_EQ(layers[3].inputs, (std::vector<std::string>{"fc2", "fc1"}));
  EXPECT_EQ(layers[4].inputs, (std::vector<std::string>{"add1", "input"}));
  const RecipeConfig again = parse_recipe(to_toml(r), "run/recipe.toml");
  ASSERT_EQ(again.model.custom.layers.size(), layers.size());
  for (size_t i = 0; i < layers.size(); ++i)
    EXPECT_EQ(again.model.custom.layers[i].inputs, layers[i].inputs) << i;
}

// kGraph with the add's inputs line replaced.
std::string with_add_inputs(const std::string& line) {
  const std::string old = "inputs = [\"fc2\", \"fc1\"]";
  std::string text = kGraph;
  return text.replace(text.find(old), old.size(), line);
}

TEST(RecipeLayers, ASingleNameIsOneInputAndAnythingElseIsRefused) {
  const std::string one = with_add_inputs("inputs = \"fc2\"");
  EXPECT_EQ(parse_recipe(one, "one.toml").model.custom.layers[3].inputs,
            (std::vector<std::string>{"fc2"}));
  for (const char* bad : {"inputs = 3", "inputs = []", "inputs = [\"fc2\", 1]"}) {
    try {
      parse_recipe(with_add_inputs(bad), "bad.toml");
      ADD_FAILURE() << bad << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("model.layers[3].inputs"), std::string::npos)
          << bad << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace sculpt

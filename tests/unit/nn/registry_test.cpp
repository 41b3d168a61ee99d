// Layer registry: every row builds, arguments are validated with named, hinted errors.
#include "nn/registry.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"

namespace sculpt::nn {
namespace {

ConfigError config_error(const LayerSpec& spec) {
  try {
    make_layer(spec);
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError for " << spec.type;
  return ConfigError("");
}

TEST(LayerRegistry, ListsEveryLayerWithDocs) {
  std::vector<std::string> types;
  for (const auto& info : layer_registry()) {
    types.push_back(info.type);
    EXPECT_FALSE(info.doc.empty()) << info.type;
    for (const auto& a : info.args) EXPECT_FALSE(a.doc.empty()) << info.type << "." << a.name;
  }
  // A new layer is one more row; none of these may go.
  for (const char* t : {"linear", "conv2d", "maxpool2d", "avgpool2d", "relu", "tanh", "sigmoid",
                        "silu", "flatten", "dropout"})
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
}

TEST(LayerRegistry, UnknownTypeSuggests) {
  const auto e = config_error({"lineer", "fc9", {}});
  EXPECT_NE(std::string(e.what()).find("'fc9'"), std::string::npos);
  EXPECT_EQ(e.hint(), "did you mean 'linear'?");
}

TEST(LayerRegistry, UnknownArgumentNamesLayerAndArgument) {
  const auto e = config_error({"conv2d", "conv1", {{"out", 6}, {"kernal", 5}}});
  EXPECT_EQ(e.message(), "layer 'conv1' (conv2d) has unknown argument 'kernal'");
  EXPECT_NE(e.hint().find("did you mean 'kernel'?"), std::string::npos) << e.hint();
}

TEST(LayerRegistry, MissingRequiredArgument) {
  const auto e = config_error({"linear", "fc1", {}});
  EXPECT_EQ(e.message(), "layer 'fc1' (linear) is missing required argument 'out'");
}

TEST(LayerRegistry, InvalidValuesAreRejected) {
  config_error({"linear", "fc1", {{"out", 2.5}}});
  config_error({"linear", "fc1", {{"out", 0}}});
  config_error({"conv2d", "c", {{"out", 2}, {"kernel", 3}, {"stride", 0}}});
  config_error({"dropout", "d", {{"p", 1.0}}});
  config_error({"relu", "r", {{"p", 1.0}}});  // relu takes no arguments
}

TEST(LayerRegistry, PoolStrideDefaultsToKernel) {
  auto l = make_layer({"maxpool2d", "pool", {{"kernel", 3}}});
  EXPECT_EQ(l->bind({2, 9, 9}), (Shape{2, 3, 3}));
  auto a = make_layer({"avgpool2d", "pool", {{"kernel", 2}, {"stride", 1}, {"padding", 1}}});
  EXPECT_EQ(a->bind({1, 4, 4}), (Shape{1, 5, 5}));
  EXPECT_THROW(make_layer({"maxpool2d", "p", {{"kernel", 2}, {"padding", 2}}})->bind({1, 8, 8}),
               ConfigError);
}

}  // namespace
}  // namespace sculpt::nn

// Shared by the resume tests: small synthetic recipes whose epochs take milliseconds, and the
// bit-for-bit comparison of two checkpoints.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "io/checkpoint.h"

namespace sculpt::train {

// Two Gaussian blobs, a small MLP: a whole epoch takes milliseconds.
inline std::string blobs_recipe(const std::string& optim,
                                const std::string& model = "name = \"binary-mlp\"") {
  return R"([data]
source = "synthetic-blobs"
samples = 600
features = 8
val_fraction = 0.1
test_fraction = 0.2
[model]
)" + model +
         R"(
[optim]
)" + optim +
         R"(
[train]
epochs = 2
batch_size = 32
loss = "bce"
seed = 7
[output]
progress = "none"
)";
}

inline const char* kNesterov =
    "name = \"sgd\"\nlr = 0.1\nmomentum = 0.9\nnesterov = true\nweight_decay = 5e-4";
inline const char* kAdam = "name = \"adam\"\nlr = 0.01";
// A custom MLP with dropout: resuming must also reproduce the dropout masks.
inline const char* kDropoutModel = R"([[model.layers]]
type = "flatten"
[[model.layers]]
type = "linear"
name = "fc1"
out = 32
[[model.layers]]
type = "relu"
[[model.layers]]
type = "dropout"
p = 0.3
[[model.layers]]
type = "linear"
name = "fc2"
out = 1)";

// Normalisation and the newer activations: BatchNorm's running statistics (buffers the layer
// updates in its forward) must resume too.
inline const char* kNormModel = R"([[model.layers]]
type = "linear"
name = "fc1"
out = 16
[[model.layers]]
type = "batchnorm1d"
name = "bn1"
[[model.layers]]
type = "gelu"
[[model.layers]]
type = "linear"
name = "fc2"
out = 8
[[model.layers]]
type = "layernorm"
[[model.layers]]
type = "leakyrelu"
[[model.layers]]
type = "linear"
name = "fc3"
out = 1)";

// Every tensor (weights and optimizer state) and the training state, bit for bit.
inline void expect_same_checkpoint(const io::Checkpoint& a, const io::Checkpoint& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    const io::StoredTensor* u = b.find(name);
    ASSERT_NE(u, nullptr) << name;
    EXPECT_EQ(t.shape, u->shape) << name;
    EXPECT_EQ(0, std::memcmp(t.data.data(), u->data.data(), t.data.size() * sizeof(float))) << name;
  }
  for (const char* key : {"epoch", "step", "rng.data", "rng.dropout", "dropout_key"})
    EXPECT_EQ(a.metadata.at(key), b.metadata.at(key)) << key;
}

}  // namespace sculpt::train

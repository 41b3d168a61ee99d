// Internal to src/infer: what an InferenceModel holds (inference_model.cpp builds it and runs
// predict(); stepper.cpp runs generation on the same parameters).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/param_store.h"
#include "core/tensor.h"
#include "infer/inference_model.h"
#include "infer/stepper.h"
#include "kernels/im2col.h"
#include "nn/model.h"
#include "sparse/csr.h"
#include "sparse/windowed.h"

namespace sculpt::infer {

struct InferenceModel::Impl {
  enum class Layout { kSample, kFeature, kAny };

  struct Step {
    enum class Kind { kLayer, kSparseLinear, kSparseConv, kTranspose } kind = Kind::kLayer;
    nn::Layer* layer = nullptr;  // kLayer
    sparse::Csr csr;             // sparse kinds
    sparse::Windowed windowed;   // a sparse Linear's batch-1 layout, when it is the faster one
    const float* bias = nullptr;
    const float* weight = nullptr;  // a dense Linear's [out, in]: batch 1 runs kernels::gemv
    sparse::Act act = sparse::Act::kNone;
    kernels::ConvGeometry geom;  // kSparseConv
    int64_t in = 0, out = 0;     // per-sample sizes
    Layout layout = Layout::kSample;
  };

  infer::ExportHeader header;
  std::string where;    // the file, for errors after loading
  std::string kernels;  // InferenceOptions::kernels, for the stepper
  std::vector<std::unique_ptr<nn::Layer>> layers;
  ParamStore params;
  std::vector<Step> steps;
  std::vector<InferenceLayer> info;
  int64_t input_size = 0, max_batch = 0, widest = 0;
  AlignedVector<float> buf_a, buf_b, cols;  // ping-pong activations; im2col per thread
  int64_t col_size = 0;                     // floats per thread in `cols`
  int col_threads = 1;                      // threads `cols` has room for (set at load)

  // A graph (layers that name their inputs) runs as an nn::Model, its sparse Linear and Conv2d
  // layers on SparseLayer; a chain runs the planned steps below.
  std::optional<nn::Model> graph;

  void build(const infer::ExportModel& m, const InferenceOptions& o, const std::string& where);
  void build_graph(const infer::ExportModel& m, const InferenceOptions& o,
                   const std::string& where);
  // The parts of build, in order: the layers from the header's spec (their input shapes
  // returned), the buffers' size against the limit, the tensors into the parameters, and the
  // steps: which layers run on the dense or sparse kernels, with a ReLU fused.
  std::vector<Shape> build_layers(const std::string& where);
  void check_buffers(const std::string& where) const;
  void load_tensors(const infer::ExportModel& m, const std::string& where);
  void plan_steps(const std::vector<Shape>& ins, const InferenceOptions& o);
  void run_step(const Step& s, const float* x, float* y, int64_t n);

  // Generation (stepper.h): built at the first start() or feed().
  std::unique_ptr<Stepper> stepper;
  Stepper& stepper_for_generation();
};

}  // namespace sculpt::infer

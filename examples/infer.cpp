// Runs a model exported by `sculpt export` from C++ through the public API (include/sculpt):
// loads it, classifies Fashion-MNIST test images and prints the accuracy. Built with the
// default build as build/<preset>/sculpt-infer-example.
//
//   sculpt-infer-example runs/x/model.sculpt /usr/share/datasets/fashion-mnist
#include <sculpt/sculpt.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL.sculpt FASHION_MNIST_DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[2];
    // Sparse layers run on the sparse kernels, the others on the dense ones (kernels = "auto").
    sculpt::InferenceModel model = sculpt::InferenceModel::load(argv[1]);
    // Pixels scaled to [0, 1], as training read them; the model standardises them itself.
    const sculpt::Samples test =
        sculpt::read_idx(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz");
    const std::vector<int32_t> classes = model.classify(test.x);

    int64_t right = 0;
    for (size_t i = 0; i < classes.size(); ++i) right += classes[i] == test.labels[i];
    std::printf("%lld of %zu test images right: %.2f%%\n", static_cast<long long>(right),
                classes.size(), 100.0 * double(right) / double(classes.size()));
    std::printf("%lld of %lld parameters are non-zero\n", static_cast<long long>(model.nonzeros()),
                static_cast<long long>(model.num_params()));
    return 0;
  } catch (const sculpt::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  }
}

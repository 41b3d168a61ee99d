// sculpt::Samples and read_idx (include/sculpt/data.h).
#include "api/impl.h"
#include "data/idx.h"

namespace sculpt {

Samples samples_of(const data::Dataset& ds, float mean, float std) {
  Samples out;
  out.n = ds.size();
  out.sample_shape = ds.sample_shape;
  out.labels = ds.labels;
  out.x.assign(ds.x.data(), ds.x.data() + ds.x.size());
  if (mean != 0.0f || std != 1.0f)
    for (float& v : out.x) v = v * std + mean;
  out.targets.assign(ds.y.data(), ds.y.data() + ds.y.size());
  return out;
}

Samples read_idx(const std::string& images, const std::string& labels) {
  return samples_of(data::load_idx(images, labels, images), 0.0f, 1.0f);
}

}  // namespace sculpt

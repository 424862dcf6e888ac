// ctorch_profile.cpp — libtorch's op profiler around a stretch of work: every ATen op (forward and
// autograd's backward nodes) with its duration, written as a Chrome trace when recording stops. The
// instrument for finding where a model's time goes.
#include "ctorch_internal.hpp"

#include <torch/csrc/autograd/profiler_legacy.h>

struct ctorch_profiler_s {
    torch::autograd::profiler::RecordProfile recording;
    explicit ctorch_profiler_s(const std::string &path) : recording(path) {}
};

extern "C" {

int ctorch_profiler_start(const char *path, ctorch_profiler *out, char **err) {
    return ctorch::guarded(err, [&] {
        if (path == nullptr) throw std::invalid_argument("null trace path");
        *out = new ctorch_profiler_s(path);
    });
}

void ctorch_profiler_stop(ctorch_profiler profiler) { delete profiler; }

} // extern "C"

// ctorch_checkpoint.cpp — activation recomputation ("gradient checkpointing"): a function of one tensor,
// given by the caller as a C callback, run without recording a graph in forward and run again with
// recording in backward, whose own backward then gives the input's gradient (and accumulates the
// gradients of the parameters the function used). Between forward and backward only the input is kept,
// not the function's intermediate activations — what a transformer layer needs most memory for.
#include "ctorch_internal.hpp"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

using namespace ctorch;

namespace {

// The caller's function and its context, released (through `release`) when the graph node holding it
// dies — after backward, or with a graph that is never back-propagated.
struct CheckpointBody : torch::CustomClassHolder {
    ctorch_checkpoint_fn function;
    void *context;
    ctorch_release_fn release;

    CheckpointBody(ctorch_checkpoint_fn function, void *context, ctorch_release_fn release)
        : function(function), context(context), release(release) {}
    CheckpointBody(const CheckpointBody &) = delete;
    CheckpointBody &operator=(const CheckpointBody &) = delete;
    ~CheckpointBody() override {
        if (release != nullptr) release(context);
    }

    at::Tensor run(const at::Tensor &input) const {
        ctorch_tensor output = nullptr;
        char *message = nullptr;
        const int status = function(context, make_handle(input), &output, &message);
        if (status != CTORCH_OK || output == nullptr) {
            const std::string text = message != nullptr ? message : "the checkpointed function failed without a message";
            std::free(message);
            if (output != nullptr) ctorch_tensor_free(output);
            throw std::runtime_error(text);
        }
        at::Tensor result = borrow(output);
        ctorch_tensor_free(output);
        return result;
    }
};

struct Checkpoint : public torch::autograd::Function<Checkpoint> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &input,
                              const c10::intrusive_ptr<CheckpointBody> &body) {
        // A custom function's forward runs with grad mode off: nothing inside is recorded.
        at::Tensor output = body->run(input);
        ctx->save_for_backward({input});
        ctx->saved_data["body"] = c10::IValue::make_capsule(body);
        return output;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grad_outputs) {
        const auto saved = ctx->get_saved_variables();
        const auto body = c10::static_intrusive_pointer_cast<CheckpointBody>(ctx->saved_data["body"].toCapsule());
        const at::Tensor input = saved[0].detach().requires_grad_(true);
        at::Tensor output;
        {
            at::AutoGradMode recording(true);
            output = body->run(input);
        }
        if (output.requires_grad()) torch::autograd::backward({output}, {grad_outputs[0]});
        return {input.grad(), at::Tensor()};
    }
};

} // namespace

extern "C" {

int ctorch_checkpoint(ctorch_tensor input, ctorch_checkpoint_fn function, void *context, ctorch_release_fn release,
                      ctorch_tensor *out, char **err) {
    // Owned from here on, whatever happens: the context is released exactly once.
    c10::intrusive_ptr<CheckpointBody> body;
    try {
        body = c10::make_intrusive<CheckpointBody>(function, context, release);
    } catch (...) {
        if (release != nullptr) release(context);
        if (err != nullptr) *err = copy_message("out of memory creating a checkpoint");
        return CTORCH_ERROR;
    }
    return guarded(err, [&] { *out = make_handle(Checkpoint::apply(borrow(input), body)); },
                   [&] { return describe_op("checkpoint", {input}); });
}

} // extern "C"

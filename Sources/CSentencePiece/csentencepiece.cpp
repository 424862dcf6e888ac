// csentencepiece.cpp — C++ side of the SentencePiece shim; conventions in include/csentencepiece.h.
#include "csentencepiece.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <sentencepiece_processor.h>
#include <stdexcept>
#include <string>

struct cspm_processor_s {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

char *copy_message(const std::string &text) {
    char *message = static_cast<char *>(std::malloc(text.size() + 1));
    if (message != nullptr) std::memcpy(message, text.c_str(), text.size() + 1);
    return message;
}

template <typename Body>
int guarded(char **err, Body &&body) noexcept {
    try {
        body();
        return CSPM_OK;
    } catch (const std::exception &error) {
        if (err != nullptr) *err = copy_message(error.what());
    } catch (...) {
        if (err != nullptr) *err = copy_message("unknown C++ exception in sentencepiece");
    }
    return CSPM_ERROR;
}

void ok_or_throw(const sentencepiece::util::Status &status) {
    if (!status.ok()) throw std::runtime_error(status.ToString());
}

const sentencepiece::SentencePieceProcessor &borrow(cspm_processor handle) {
    if (handle == nullptr) throw std::invalid_argument("null sentencepiece processor");
    return handle->processor;
}

} // namespace

extern "C" {

void cspm_free_string(char *message) { std::free(message); }

int cspm_processor_load(const char *path, cspm_processor *out, char **err) {
    return guarded(err, [&] {
        auto handle = std::make_unique<cspm_processor_s>();
        ok_or_throw(handle->processor.Load(path));
        *out = handle.release();
    });
}

void cspm_processor_free(cspm_processor processor) { delete processor; }

int cspm_processor_piece_size(cspm_processor processor, int32_t *out_size, char **err) {
    return guarded(err, [&] { *out_size = borrow(processor).GetPieceSize(); });
}

} // extern "C"

// csentencepiece.cpp — C++ side of the SentencePiece shim; conventions in include/csentencepiece.h.
//
// Debian installs only sentencepiece_processor.h and sentencepiece_trainer.h, not the generated
// protobuf header, so the few model settings the processor API does not expose (piece types,
// normalizer flags, model type) are read from the serialized model with a small proto2 wire reader.
#include "csentencepiece.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace sentencepiece {
namespace logging {
// Exported by libsentencepiece; declared in a header Debian does not install.
void SetMinLogLevel(int level);
} // namespace logging
} // namespace sentencepiece

namespace {

// What the serialized ModelProto says beyond the processor API (field numbers from
// sentencepiece_model.proto: ModelProto.pieces = 1, trainer_spec = 2, normalizer_spec = 3).
struct ModelSettings {
    std::vector<int32_t> piece_types;
    std::map<std::string, std::string> options;
};

struct WireReader {
    const uint8_t *cursor;
    const uint8_t *end;

    bool done() const { return cursor >= end; }

    uint64_t varint() {
        uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (cursor >= end) throw std::runtime_error("truncated varint in model proto");
            uint8_t byte = *cursor++;
            value |= uint64_t(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return value;
        }
        throw std::runtime_error("overlong varint in model proto");
    }

    WireReader bytes() {
        uint64_t length = varint();
        if (length > uint64_t(end - cursor)) throw std::runtime_error("truncated field in model proto");
        WireReader inner{cursor, cursor + length};
        cursor += length;
        return inner;
    }

    void skip(uint32_t wire_type) {
        switch (wire_type) {
        case 0: varint(); break;
        case 1: advance(8); break;
        case 2: bytes(); break;
        case 5: advance(4); break;
        default: throw std::runtime_error("unsupported wire type in model proto");
        }
    }

    void advance(size_t count) {
        if (count > size_t(end - cursor)) throw std::runtime_error("truncated field in model proto");
        cursor += count;
    }
};

const char *bool_text(uint64_t value) { return value != 0 ? "true" : "false"; }

ModelSettings read_settings(const std::string &serialized) {
    ModelSettings settings;
    // proto2 defaults of the fields read below
    settings.options["model_type"] = "unigram";
    settings.options["byte_fallback"] = "false";
    settings.options["treat_whitespace_as_suffix"] = "false";
    settings.options["split_by_whitespace"] = "true";
    settings.options["normalizer_name"] = "";
    settings.options["add_dummy_prefix"] = "true";
    settings.options["remove_extra_whitespaces"] = "true";
    settings.options["escape_whitespaces"] = "true";

    WireReader model{reinterpret_cast<const uint8_t *>(serialized.data()),
                     reinterpret_cast<const uint8_t *>(serialized.data()) + serialized.size()};
    while (!model.done()) {
        uint64_t key = model.varint();
        uint32_t field = uint32_t(key >> 3), wire = uint32_t(key & 7);
        if (field == 1 && wire == 2) {
            WireReader piece = model.bytes();
            int32_t type = CSPM_PIECE_NORMAL;
            while (!piece.done()) {
                uint64_t piece_key = piece.varint();
                if ((piece_key >> 3) == 3 && (piece_key & 7) == 0) {
                    type = int32_t(piece.varint());
                } else {
                    piece.skip(uint32_t(piece_key & 7));
                }
            }
            settings.piece_types.push_back(type);
        } else if (field == 2 && wire == 2) {
            WireReader trainer = model.bytes();
            while (!trainer.done()) {
                uint64_t trainer_key = trainer.varint();
                uint32_t trainer_field = uint32_t(trainer_key >> 3), trainer_wire = uint32_t(trainer_key & 7);
                if (trainer_wire != 0) {
                    trainer.skip(trainer_wire);
                    continue;
                }
                uint64_t value = trainer.varint();
                if (trainer_field == 3) {
                    static const char *names[] = {"", "unigram", "bpe", "word", "char"};
                    settings.options["model_type"] = value < 5 ? names[value] : "unknown";
                } else if (trainer_field == 22) {
                    settings.options["split_by_whitespace"] = bool_text(value);
                } else if (trainer_field == 24) {
                    settings.options["treat_whitespace_as_suffix"] = bool_text(value);
                } else if (trainer_field == 35) {
                    settings.options["byte_fallback"] = bool_text(value);
                }
            }
        } else if (field == 3 && wire == 2) {
            WireReader normalizer = model.bytes();
            while (!normalizer.done()) {
                uint64_t normalizer_key = normalizer.varint();
                uint32_t normalizer_field = uint32_t(normalizer_key >> 3), normalizer_wire = uint32_t(normalizer_key & 7);
                if (normalizer_field == 1 && normalizer_wire == 2) {
                    WireReader name = normalizer.bytes();
                    settings.options["normalizer_name"] = std::string(reinterpret_cast<const char *>(name.cursor), name.end - name.cursor);
                } else if (normalizer_wire == 0 && normalizer_field >= 3 && normalizer_field <= 5) {
                    static const char *names[] = {"add_dummy_prefix", "remove_extra_whitespaces", "escape_whitespaces"};
                    settings.options[names[normalizer_field - 3]] = bool_text(normalizer.varint());
                } else {
                    normalizer.skip(normalizer_wire);
                }
            }
        } else {
            model.skip(wire);
        }
    }
    return settings;
}

} // namespace

struct cspm_processor_s {
    sentencepiece::SentencePieceProcessor processor;
    ModelSettings settings;
};

namespace {

char *copy_bytes(const char *data, size_t length) {
    char *copy = static_cast<char *>(std::malloc(length + 1));
    if (copy == nullptr) throw std::bad_alloc();
    if (length > 0) std::memcpy(copy, data, length);
    copy[length] = '\0';
    return copy;
}

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

const cspm_processor_s &borrow(cspm_processor handle) {
    if (handle == nullptr) throw std::invalid_argument("null sentencepiece processor");
    return *handle;
}

// Feeds the trainer every line of every input file, in order.
class FileLineIterator : public sentencepiece::SentenceIterator {
public:
    explicit FileLineIterator(std::vector<std::string> paths) : paths_(std::move(paths)) { Next(); }

    bool done() const override { return finished_; }
    const std::string &value() const override { return line_; }
    sentencepiece::util::Status status() const override { return status_; }

    void Next() override {
        while (true) {
            if (stream_.is_open() && std::getline(stream_, line_)) return;
            if (stream_.is_open()) {
                if (stream_.bad()) {
                    fail("read error in " + paths_[next_path_ - 1]);
                    return;
                }
                stream_.close();
            }
            if (next_path_ >= paths_.size()) {
                finished_ = true;
                return;
            }
            const std::string &path = paths_[next_path_++];
            stream_.open(path, std::ios::binary);
            if (!stream_.is_open()) {
                fail("cannot open training input " + path);
                return;
            }
        }
    }

private:
    void fail(const std::string &message) {
        status_ = sentencepiece::util::Status(sentencepiece::util::StatusCode::kNotFound, message);
        finished_ = true;
    }

    std::vector<std::string> paths_;
    size_t next_path_ = 0;
    std::ifstream stream_;
    std::string line_;
    bool finished_ = false;
    sentencepiece::util::Status status_;
};

} // namespace

extern "C" {

void cspm_free_string(char *message) { std::free(message); }

void cspm_free_buffer(void *buffer) { std::free(buffer); }

int cspm_processor_load(const char *path, cspm_processor *out, char **err) {
    return guarded(err, [&] {
        auto handle = std::make_unique<cspm_processor_s>();
        ok_or_throw(handle->processor.Load(path));
        handle->settings = read_settings(handle->processor.serialized_model_proto());
        if (handle->settings.piece_types.size() != size_t(handle->processor.GetPieceSize())) {
            throw std::runtime_error("model proto lists a different number of pieces than the processor");
        }
        *out = handle.release();
    });
}

void cspm_processor_free(cspm_processor processor) { delete processor; }

int cspm_processor_piece_size(cspm_processor processor, int32_t *out_size, char **err) {
    return guarded(err, [&] { *out_size = borrow(processor).processor.GetPieceSize(); });
}

int cspm_processor_piece(cspm_processor processor, int32_t id, char **out_piece, size_t *out_length,
                         float *out_score, int32_t *out_type, char **err) {
    return guarded(err, [&] {
        const auto &handle = borrow(processor);
        if (id < 0 || id >= handle.processor.GetPieceSize()) {
            throw std::out_of_range("piece id " + std::to_string(id) + " is out of range");
        }
        const std::string &piece = handle.processor.IdToPiece(id);
        *out_score = handle.processor.GetScore(id);
        *out_type = handle.settings.piece_types[size_t(id)];
        *out_length = piece.size();
        *out_piece = copy_bytes(piece.data(), piece.size());
    });
}

int cspm_processor_option(cspm_processor processor, const char *name, char **out_value, char **err) {
    return guarded(err, [&] {
        const auto &handle = borrow(processor);
        std::string key(name);
        std::string value;
        if (key == "unk_id") {
            value = std::to_string(handle.processor.unk_id());
        } else if (key == "bos_id") {
            value = std::to_string(handle.processor.bos_id());
        } else if (key == "eos_id") {
            value = std::to_string(handle.processor.eos_id());
        } else if (key == "pad_id") {
            value = std::to_string(handle.processor.pad_id());
        } else {
            auto found = handle.settings.options.find(key);
            if (found == handle.settings.options.end()) throw std::invalid_argument("unknown model option " + key);
            value = found->second;
        }
        *out_value = copy_bytes(value.data(), value.size());
    });
}

int cspm_processor_encode_ids(cspm_processor processor, const char *text, size_t length, int32_t **out_ids,
                              size_t *out_count, char **err) {
    return guarded(err, [&] {
        std::vector<int> ids;
        ok_or_throw(borrow(processor).processor.Encode(absl::string_view(text, length), &ids));
        auto *buffer = static_cast<int32_t *>(std::malloc(sizeof(int32_t) * (ids.size() + 1)));
        if (buffer == nullptr) throw std::bad_alloc();
        for (size_t i = 0; i < ids.size(); ++i) buffer[i] = int32_t(ids[i]);
        *out_count = ids.size();
        *out_ids = buffer;
    });
}

int cspm_processor_encode_pieces(cspm_processor processor, const char *text, size_t length, char **out_pieces,
                                 size_t *out_length, size_t *out_count, char **err) {
    return guarded(err, [&] {
        std::vector<std::string> pieces;
        ok_or_throw(borrow(processor).processor.Encode(absl::string_view(text, length), &pieces));
        std::string joined;
        for (const auto &piece : pieces) {
            joined += piece;
            joined.push_back('\0');
        }
        *out_count = pieces.size();
        *out_length = joined.size();
        *out_pieces = copy_bytes(joined.data(), joined.size());
    });
}

int cspm_processor_decode_ids(cspm_processor processor, const int32_t *ids, size_t count, char **out_text,
                              size_t *out_length, char **err) {
    return guarded(err, [&] {
        const auto &handle = borrow(processor);
        std::vector<int> input(ids, ids + count);
        for (int id : input) {
            if (id < 0 || id >= handle.processor.GetPieceSize()) {
                throw std::out_of_range("piece id " + std::to_string(id) + " is out of range");
            }
        }
        std::string text;
        ok_or_throw(handle.processor.Decode(input, &text));
        *out_length = text.size();
        *out_text = copy_bytes(text.data(), text.size());
    });
}

int cspm_train(const char *const *keys, const char *const *values, size_t option_count,
               const char *const *input_paths, size_t input_count, int32_t log_level, char **out_model,
               size_t *out_length, char **err) {
    return guarded(err, [&] {
        std::unordered_map<std::string, std::string> options;
        for (size_t i = 0; i < option_count; ++i) {
            if (std::string(keys[i]) == "random_seed") {
                sentencepiece::SetRandomGeneratorSeed(unsigned(std::stoul(values[i])));
            } else {
                options[keys[i]] = values[i];
            }
        }
        std::vector<std::string> paths(input_paths, input_paths + input_count);
        if (paths.empty()) throw std::invalid_argument("no training input files");
        sentencepiece::logging::SetMinLogLevel(log_level);
        FileLineIterator lines(paths);
        std::string model;
        ok_or_throw(sentencepiece::SentencePieceTrainer::Train(options, &lines, &model));
        *out_length = model.size();
        *out_model = copy_bytes(model.data(), model.size());
    });
}

} // extern "C"

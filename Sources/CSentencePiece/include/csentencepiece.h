/*
 * csentencepiece.h — the plain-C face of Loom's SentencePiece shim (implementation: csentencepiece.cpp).
 * Same conventions as ctorch.h: int status (0 ok, -1 error) + out-parameters; on error `*err`
 * receives a malloc'ed message the caller frees with cspm_free_string; one exception boundary per
 * call; handles are made last and freed only by cspm_processor_free.
 *
 * Ownership: every `char **` / `int32_t **` out-buffer a call fills is malloc'ed and belongs to the
 * caller, who frees it with cspm_free_string (text) or cspm_free_buffer (anything else).
 * The library is opened with dlopen (see Sources/Tokenizers/SentencePieceLibrary.swift), so every
 * function here must keep a signature Swift can call through a @convention(c) pointer: no structs.
 */
#ifndef CSENTENCEPIECE_H
#define CSENTENCEPIECE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSPM_OK 0
#define CSPM_ERROR (-1)

/* SentencePiece's piece types (sentencepiece_model.proto, SentencePiece.Type). */
#define CSPM_PIECE_NORMAL 1
#define CSPM_PIECE_UNKNOWN 2
#define CSPM_PIECE_CONTROL 3
#define CSPM_PIECE_USER_DEFINED 4
#define CSPM_PIECE_UNUSED 5
#define CSPM_PIECE_BYTE 6

typedef struct cspm_processor_s *cspm_processor;

void cspm_free_string(char *message);
void cspm_free_buffer(void *buffer);

/* Loads a serialized model (.model file). The caller owns `*out`. */
int cspm_processor_load(const char *path, cspm_processor *out, char **err);
/* Releases a processor. NULL is ignored. */
void cspm_processor_free(cspm_processor processor);
int cspm_processor_piece_size(cspm_processor processor, int32_t *out_size, char **err);

/* One vocabulary entry: its text (`*out_piece`, `*out_length` bytes, not NUL-terminated inside),
 * score and type (CSPM_PIECE_*). */
int cspm_processor_piece(cspm_processor processor, int32_t id, char **out_piece, size_t *out_length,
                         float *out_score, int32_t *out_type, char **err);

/* A setting stored in the model, as text: "model_type" (unigram|bpe|word|char), "byte_fallback",
 * "add_dummy_prefix", "remove_extra_whitespaces", "escape_whitespaces", "treat_whitespace_as_suffix",
 * "split_by_whitespace" (true|false), "normalizer_name", "unk_id", "bos_id", "eos_id", "pad_id". */
int cspm_processor_option(cspm_processor processor, const char *name, char **out_value, char **err);

/* Encodes UTF-8 text (`length` bytes) into ids; `*out_ids` holds `*out_count` ids. */
int cspm_processor_encode_ids(cspm_processor processor, const char *text, size_t length, int32_t **out_ids,
                              size_t *out_count, char **err);

/* Encodes UTF-8 text into pieces (the surface text for unknown characters): `*out_pieces` holds
 * `*out_count` pieces, each followed by a NUL byte, `*out_length` bytes in all. */
int cspm_processor_encode_pieces(cspm_processor processor, const char *text, size_t length, char **out_pieces,
                                 size_t *out_length, size_t *out_count, char **err);

/* Decodes ids into UTF-8 text of `*out_length` bytes. */
int cspm_processor_decode_ids(cspm_processor processor, const int32_t *ids, size_t count, char **out_text,
                              size_t *out_length, char **err);

/* Trains a model. `keys`/`values` are `option_count` trainer flags as SentencePiece names them
 * (vocab_size, model_type, character_coverage, ...), plus "random_seed" (SentencePiece's
 * process-wide random generator seed, for sentence sampling); the sentences are the lines of the
 * `input_count` files in `input_paths`. `log_level` is SentencePiece's minimum log level
 * (0 info … 2 error). The serialized model (the bytes of a .model file) comes back in
 * `*out_model`, `*out_length` bytes; nothing is written to disk. */
int cspm_train(const char *const *keys, const char *const *values, size_t option_count,
               const char *const *input_paths, size_t input_count, int32_t log_level, char **out_model,
               size_t *out_length, char **err);

#ifdef __cplusplus
}
#endif

#endif

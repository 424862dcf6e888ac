/*
 * csentencepiece.h — the plain-C face of Loom's SentencePiece shim (implementation: csentencepiece.cpp).
 * Same conventions as ctorch.h: int status (0 ok, -1 error) + out-parameters; on error `*err`
 * receives a malloc'ed message the caller frees with cspm_free_string; one exception boundary per
 * call; handles are made last and freed only by cspm_processor_free.
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

typedef struct cspm_processor_s *cspm_processor;

void cspm_free_string(char *message);

/* Loads a serialized model (.model file). The caller owns `*out`. */
int cspm_processor_load(const char *path, cspm_processor *out, char **err);
/* Releases a processor. NULL is ignored. */
void cspm_processor_free(cspm_processor processor);
int cspm_processor_piece_size(cspm_processor processor, int32_t *out_size, char **err);

#ifdef __cplusplus
}
#endif

#endif

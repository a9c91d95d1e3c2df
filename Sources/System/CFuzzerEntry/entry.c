#include "CFuzzerEntry.h"
#include <stddef.h>
#include <stdint.h>

// Weak, so the ordinary build (no libFuzzer, no fuzz entry point) links too.
extern int LLVMFuzzerRunDriver(int *argc, char ***argv,
                               int (*test)(const uint8_t *data, size_t size)) __attribute__((weak));
extern int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) __attribute__((weak));

int healthscore_fuzzer_run(int argc, char **argv) {
    if (LLVMFuzzerRunDriver == NULL || LLVMFuzzerTestOneInput == NULL) return 2;
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

// libFuzzer's driver entry point (compiler-rt FuzzerInterface.h). Defined only when the
// program is linked with `-sanitize=fuzzer`; `cis-fuzz` calls it only under `FUZZING`.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#ifndef COpenDKIM_SHIM_H
#define COpenDKIM_SHIM_H
#include <sys/types.h>
#include <stdbool.h>
#include <opendkim/dkim.h>

// dkim_options takes its value through a void pointer; these pass an unsigned int or a
// uint64 (DKIM_OPTS_FLAGS, DKIM_OPTS_MINKEYBITS, DKIM_OPTS_TIMEOUT) by address.
static inline DKIM_STAT copendkim_set_uint_option(DKIM_LIB *lib, int option, unsigned int value) {
    return dkim_options(lib, DKIM_OP_SETOPT, option, &value, sizeof value);
}

static inline DKIM_STAT copendkim_get_uint_option(DKIM_LIB *lib, int option, unsigned int *value) {
    return dkim_options(lib, DKIM_OP_GETOPT, option, value, sizeof *value);
}
#endif

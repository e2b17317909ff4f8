#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include "cmemorylimit.h"

// The executable's malloc, calloc and realloc take the place of glibc's for every library in
// the process (the dynamic linker binds them first). They are glibc's own, called through its
// exported entry points, and only note a failure: the heap, free and every other function
// stay glibc's. One flag read per call is their whole cost outside a parse worker.
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);

static volatile sig_atomic_t allocation_failed = 0;
static int memory_exit_status = 0;

void *malloc(size_t size) {
    void *pointer = __libc_malloc(size);
    if (pointer == NULL) allocation_failed = 1;
    return pointer;
}

void *calloc(size_t count, size_t size) {
    void *pointer = __libc_calloc(count, size);
    if (pointer == NULL) allocation_failed = 1;
    return pointer;
}

void *realloc(void *pointer, size_t size) {
    void *moved = __libc_realloc(pointer, size);
    // realloc(p, 0) frees p and returns NULL: not a failure.
    if (moved == NULL && size != 0) allocation_failed = 1;
    return moved;
}

int cmemorylimit_allocation_failed(void) {
    return allocation_failed;
}

static void on_crash(int signal_number) {
    if (allocation_failed) _exit(memory_exit_status);
    // SA_RESETHAND restored the default action: die of the same signal once this returns.
    raise(signal_number);
}

int cmemorylimit_install(unsigned long long bytes, int exit_status) {
    memory_exit_status = exit_status;
    struct rlimit limit = {.rlim_cur = (rlim_t)bytes, .rlim_max = (rlim_t)bytes};
    if (setrlimit(RLIMIT_DATA, &limit) != 0) return -1;
    static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
    for (size_t index = 0; index < sizeof crash_signals / sizeof crash_signals[0]; index++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_crash;
        action.sa_flags = SA_RESETHAND;
        sigemptyset(&action.sa_mask);
        if (sigaction(crash_signals[index], &action, NULL) != 0) return -1;
    }
    return 0;
}

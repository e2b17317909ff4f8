#ifndef CMEMORYLIMIT_H
#define CMEMORYLIMIT_H

/// Limits this process's data (the heap and every private writable mapping: RLIMIT_DATA,
/// which, unlike RLIMIT_AS, does not count the address space glibc reserves for its malloc
/// arenas) to `bytes`, and makes a crash that follows a failed allocation (GLib aborting in
/// g_malloc, the Swift runtime trapping, a C library using the NULL it got) exit with
/// `exit_status` instead of dying of its signal. Any other crash still dies of its signal.
/// Returns 0, or -1 with errno set.
int cmemorylimit_install(unsigned long long bytes, int exit_status);

/// Whether a malloc, calloc or realloc has returned NULL in this process (a library may have
/// carried on after it).
int cmemorylimit_allocation_failed(void);

#endif

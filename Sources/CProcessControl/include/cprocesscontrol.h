#ifndef CPROCESSCONTROL_H
#define CPROCESSCONTROL_H

/// `prctl(PR_SET_PDEATHSIG, SIGKILL)`: the kernel kills this process when the thread that
/// started it ends. `prctl` is variadic, which Swift does not import.
int cprocesscontrol_die_with_parent(void);

/// `pipe2(descriptors, O_CLOEXEC)`: no other child started meanwhile inherits either end
/// (Glibc declares `pipe2` only under _GNU_SOURCE).
int cprocesscontrol_pipe(int descriptors[2]);

#endif

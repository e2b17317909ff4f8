#ifndef CPROCESSCONTROL_H
#define CPROCESSCONTROL_H

/// `prctl(PR_SET_PDEATHSIG, SIGKILL)`: the kernel kills this process when the thread that
/// started it ends. `prctl` is variadic, which Swift does not import.
int cprocesscontrol_die_with_parent(void);

/// `pipe2(descriptors, O_CLOEXEC)`: no other child started meanwhile inherits either end
/// (Glibc declares `pipe2` only under _GNU_SOURCE).
int cprocesscontrol_pipe(int descriptors[2]);

/// Whether the child `pid` has ended, read with `waitid(WNOWAIT)`: the child is not reaped
/// (Foundation's `Process` reaps it), so its pid cannot be reused meanwhile. 1 when it ended
/// (`*signal` the signal that ended it, or 0 and `*status` its exit status), 0 while it runs,
/// -1 when there is no such child left to reap (reaped already) or on another error.
int cprocesscontrol_child_ended(int pid, int *status, int *signal);

#endif

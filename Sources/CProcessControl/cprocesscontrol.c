#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "cprocesscontrol.h"

int cprocesscontrol_die_with_parent(void) {
    return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

int cprocesscontrol_pipe(int descriptors[2]) {
    return pipe2(descriptors, O_CLOEXEC);
}

int cprocesscontrol_child_ended(int pid, int *status, int *signal) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
    if (info.si_pid == 0) return 0;
    if (info.si_code == CLD_EXITED) {
        *status = info.si_status;
        *signal = 0;
    } else {
        *status = 0;
        *signal = info.si_status;
    }
    return 1;
}

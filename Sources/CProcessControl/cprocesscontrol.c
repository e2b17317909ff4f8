#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <sys/prctl.h>
#include "cprocesscontrol.h"

int cprocesscontrol_die_with_parent(void) {
    return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

int cprocesscontrol_pipe(int descriptors[2]) {
    return pipe2(descriptors, O_CLOEXEC);
}

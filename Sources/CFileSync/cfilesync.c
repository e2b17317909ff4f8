#define _GNU_SOURCE
#include <sys/file.h>
#include <unistd.h>
#include "cfilesync.h"

int cfilesync_syncfs(int descriptor) {
    return syncfs(descriptor);
}

int cfilesync_flock(int descriptor, int operation) {
    return flock(descriptor, operation);
}

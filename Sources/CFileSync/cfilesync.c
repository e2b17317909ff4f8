#define _GNU_SOURCE
#include <unistd.h>
#include "cfilesync.h"

int cfilesync_syncfs(int descriptor) {
    return syncfs(descriptor);
}

#ifndef CFILESYNC_H
#define CFILESYNC_H

/// `syncfs(2)`: Glibc declares it only under _GNU_SOURCE, which Swift's Glibc module
/// does not define.
int cfilesync_syncfs(int descriptor);

/// `flock(2)`: in Swift the name resolves to the `struct flock` initializer.
int cfilesync_flock(int descriptor, int operation);

#endif

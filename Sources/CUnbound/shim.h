#ifndef CUnbound_SHIM_H
#define CUnbound_SHIM_H
#include <poll.h>
#include <arpa/nameser.h>
#include <unbound.h>
#endif

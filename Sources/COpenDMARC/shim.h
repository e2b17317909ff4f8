#ifndef COpenDMARC_SHIM_H
#define COpenDMARC_SHIM_H
#include <sys/types.h>
#include <sys/param.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <opendmarc/dmarc.h>

// Exported by libopendmarc (opendmarc_tld.c) but missing from dmarc.h: the organizational
// domain of `domain` by the public suffix list loaded at opendmarc_policy_library_init.
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);
#endif

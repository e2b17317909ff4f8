#ifndef CSPF2_SHIM_H
#define CSPF2_SHIM_H
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

// libspf2 ships no pkg-config file; the module map links libspf2 by name.

// Silences libspf2's warning, info and debug messages, which its default handlers print
// on standard output and standard error (SPF_warning_handler and siblings are globals).
static inline void cspf2_quiet_logging(void) {
    SPF_warning_handler = NULL;
    SPF_info_handler = NULL;
    SPF_debug_handler = NULL;
}

// Appends one TXT, PTR or MX answer (a NUL-terminated string) to `rr`: SPF_dns_rr_buf_realloc
// sizes the union slot, then the string is copied into it.
static inline int cspf2_rr_append_string(SPF_dns_rr_t *rr, const char *text) {
    size_t len = strlen(text) + 1;
    if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, len) != SPF_E_SUCCESS) return -1;
    memcpy(rr->rr[rr->num_rr]->txt, text, len);
    rr->num_rr++;
    return 0;
}

// Appends one A (4 bytes) or AAAA (16 bytes) answer to `rr`.
static inline int cspf2_rr_append_address(SPF_dns_rr_t *rr, const void *bytes, size_t len) {
    size_t size = len < sizeof(SPF_dns_rr_data_t) ? sizeof(SPF_dns_rr_data_t) : len;
    if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, size) != SPF_E_SUCCESS) return -1;
    memcpy(rr->rr[rr->num_rr], bytes, len);
    rr->num_rr++;
    return 0;
}

// The DNS layer's hook (our per-message lookup context).
static inline void *cspf2_dns_server_hook(SPF_dns_server_t *server) {
    return server->hook;
}

// ns_type values as ints, for the lookup callback's switch.
static inline int cspf2_ns_type_value(ns_type type) { return (int)type; }

// h_errno values for SPF_dns_rr_new_init (netdb.h declares them as macros).
static const int cspf2_netdb_success = NETDB_SUCCESS;
static const int cspf2_host_not_found = HOST_NOT_FOUND;
static const int cspf2_no_data = NO_DATA;
static const int cspf2_try_again = TRY_AGAIN;

#endif

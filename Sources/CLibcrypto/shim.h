#ifndef CLibcrypto_SHIM_H
#define CLibcrypto_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#endif

#ifndef CGMime_SHIM_H
#define CGMime_SHIM_H
#include <gmime/gmime.h>
#endif

#ifndef CLibical_SHIM_H
#define CLibical_SHIM_H
#include <libical/ical.h>
#endif

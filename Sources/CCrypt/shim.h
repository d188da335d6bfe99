#ifndef FAROS_CCRYPT_SHIM_H
#define FAROS_CCRYPT_SHIM_H
#include <crypt.h>
#endif

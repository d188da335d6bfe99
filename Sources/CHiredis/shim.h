#ifndef FAROS_CHIREDIS_SHIM_H
#define FAROS_CHIREDIS_SHIM_H
// Debian 12 ships hiredis 0.14.1. Only the binary-safe, non-variadic entry points are used
// (redisCommandArgv, redisAppendCommandArgv, redisGetReply, redisBufferRead), so no wrappers
// are needed here; the REDIS_* integer macros import into Swift as they are.
#include <hiredis/hiredis.h>
#endif

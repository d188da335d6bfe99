#ifndef FAROS_CLIBPQ_SHIM_H
#define FAROS_CLIBPQ_SHIM_H
// The include path comes from pkg-config (libpq's headers live in /usr/include/postgresql on Debian).
#include <libpq-fe.h>

// The PG_DIAG_* field codes are character-literal macros, which Swift does not import.
static inline int faros_pg_diag_sqlstate(void) { return PG_DIAG_SQLSTATE; }
static inline int faros_pg_diag_message_primary(void) { return PG_DIAG_MESSAGE_PRIMARY; }
static inline int faros_pg_diag_constraint_name(void) { return PG_DIAG_CONSTRAINT_NAME; }
#endif

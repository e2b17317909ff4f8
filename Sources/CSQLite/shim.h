#ifndef CSQLite_SHIM_H
#define CSQLite_SHIM_H
#include <sqlite3.h>

/// Binds text that SQLite copies at once (wraps `sqlite3_bind_text` with the
/// `SQLITE_TRANSIENT` destructor, a macro cast Swift cannot import).
static inline int csqlite_bind_text_transient(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}

#endif

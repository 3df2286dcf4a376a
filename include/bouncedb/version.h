/* bouncedb: version and symbol export. */
#ifndef BOUNCEDB_VERSION_H
#define BOUNCEDB_VERSION_H

#define BDB_VERSION_STRING "0.1.0"

/* The library is built with -fvisibility=hidden; only what the public
 * headers declare with BDB_API is exported. */
#if defined(BDB_COMPILATION)
#define BDB_API __attribute__ ((visibility ("default")))
#else
#define BDB_API
#endif

#endif

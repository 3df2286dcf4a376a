/* The floor for `bouncedb filter`: a bare LMDB lookup loop over the same
 * database, one mdb_get per line of stdin on the address table, no
 * normalisation, no decoding.  Prints the lines not found.
 * Usage: lmdb-floor DBDIR < list */
#include <stdio.h>
#include <string.h>
#include <lmdb.h>

int
main (int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	if (argc != 2 || mdb_env_create (&env) || mdb_env_set_maxdbs (env, 16) ||
	    mdb_env_open (env, argv[1], MDB_RDONLY, 0600) || mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) ||
	    mdb_dbi_open (txn, "address", 0, &dbi)) {
		fprintf (stderr, "usage: lmdb-floor DBDIR < list\n");
		return 2;
	}
	static char in[1 << 16], out[1 << 16];
	setvbuf (stdin, in, _IOFBF, sizeof in);
	setvbuf (stdout, out, _IOFBF, sizeof out);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline (&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		MDB_val k = { (size_t) n, line }, v;
		if (mdb_get (txn, dbi, &k, &v) != 0) {
			fputs (line, stdout);
			fputc ('\n', stdout);
		}
	}
	mdb_txn_abort (txn);
	mdb_env_close (env);
	return 0;
}

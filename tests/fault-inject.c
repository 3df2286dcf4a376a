/* A fault to order, for tests/cli/t-faults.sh: loaded with LD_PRELOAD
 * into bouncedb, it makes LMDB fail the way it fails for real, so the
 * commands' handling of the failure can be tested without a 2 GB key or a
 * full disk.  Not part of bouncedb.
 *
 *   BDB_FAULT_KEY=TEXT     mdb_put() of a key containing TEXT fails with
 *                          MDB_BAD_VALSIZE (what LMDB says of a key over
 *                          its limit): a failure caused by one message
 *   BDB_FAULT_COMMITS=N    after N commits, every mdb_txn_commit() aborts
 *                          the transaction and fails with ENOSPC
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <lmdb.h>

int
mdb_put (MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned int flags)
{
	static int (*real) (MDB_txn *, MDB_dbi, MDB_val *, MDB_val *, unsigned int);
	if (!real)
		real = (int (*) (MDB_txn *, MDB_dbi, MDB_val *, MDB_val *, unsigned int)) dlsym (RTLD_NEXT, "mdb_put");
	const char *poison = getenv ("BDB_FAULT_KEY");
	if (poison && *poison && key->mv_size >= strlen (poison) &&
	    memmem (key->mv_data, key->mv_size, poison, strlen (poison)))
		return MDB_BAD_VALSIZE;
	return real (txn, dbi, key, data, flags);
}

int
mdb_txn_commit (MDB_txn *txn)
{
	static int (*real) (MDB_txn *);
	static long commits;
	if (!real)
		real = (int (*) (MDB_txn *)) dlsym (RTLD_NEXT, "mdb_txn_commit");
	const char *limit = getenv ("BDB_FAULT_COMMITS");
	if (limit && *limit && commits >= atol (limit)) {
		mdb_txn_abort (txn);
		return ENOSPC;
	}
	commits++;
	return real (txn);
}

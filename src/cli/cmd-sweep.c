/* bouncedb sweep: store every bounce of Maildirs (and mboxes).
 *
 * Messages are read in batches; each batch is applied in one write
 * transaction, committed durably, and only then are its messages marked
 * processed (moved to cur/ with the S flag, moved away, or deleted).  A
 * crash before the commit loses nothing (the messages are still new); a
 * crash after it counts nothing twice (every applied message's fingerprint
 * is stored in the same transaction).  What becomes of each message is
 * the library's decision (bdb_policy_outcome()), the one ingest takes too:
 * messages that cannot be read or stored go to a quarantine Maildir, never
 * away, and one that the database refuses because of what it says is set
 * aside so that the rest of its batch is stored.  After a database failure
 * nothing more is stored, and what is left is counted for the summary.
 * Memory is bounded by the batch, not the Maildir: the directory is read
 * as a stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "cli.h"

typedef enum { DONE_SEEN, DONE_DELETE, DONE_MOVE, DONE_KEEP } DoneMode;

typedef struct {
	BdbMaildirEntry *entry;    /* NULL for mbox messages */
	GBytes *data;              /* an mbox message's bytes */
	GError *error;             /* from parsing */
	BdbReport *report;
	BdbVerdict *verdicts;
	gint64 arrival;
	BdbApplyStats stats;       /* what applying it did */
	gboolean applied;          /* stats are set */
	GError *apply_error;       /* applying it failed because of the message itself */
	BdbOutcome outcome;
	char *why;                 /* for a kept or left message */
} Item;

/* Parsing runs on a pool of threads while this thread stores the batch
 * before: batch k+1 is parsed while batch k is committed and its messages
 * are marked, so the writer's system calls overlap the parsing, and this
 * thread parses too whenever it would otherwise wait. */
typedef struct {
	GMutex lock;
	GCond work;                /* a batch to parse, or quit */
	GCond done;                /* the batch is parsed */
	GPtrArray *items;          /* the batch being parsed; NULL when idle */
	guint next;                /* its next item to parse */
	guint pending;             /* its items not yet parsed */
	gboolean quit;
	GThread *threads[16];
	guint n;
} Pool;


typedef struct {
	Cli *cli;
	BdbRules *rules;
	BdbPolicy policy;
	BdbParseOptions popts;
	BdbStore *store;
	gboolean dry_run;
	char *quarantine_opt;
	DoneMode done;
	char *done_dir;
	guint batch_size;
	guint threads;             /* parsing threads, this one included */
	gboolean quiet;            /* no progress bar, no notice per message */
	CliProgress *progress;
	guint64 progress_done;
	BdbOutcomeCounts counts;   /* the summary */
	guint64 unreadable;        /* messages left because they could not be read */
	int status;
	gboolean stopped;          /* the database failed: store nothing more, count what is left */
	gint64 started;            /* cli_now() at the start */
	GPtrArray *items;          /* Item *: the batch being filled */
	GPtrArray *writing;        /* Item *: the batch being stored */
	Item *applying;            /* the item write_batch() is applying */
	Pool pool;
} Sweep;

static void
item_free (Item *it)
{
	bdb_maildir_entry_free (it->entry);
	if (it->data)
		g_bytes_unref (it->data);
	g_clear_error (&it->error);
	bdb_report_free (it->report);
	g_free (it->verdicts);
	g_clear_error (&it->apply_error);
	g_free (it->why);
	g_free (it);
}

static void
fail_with (Sweep *sw, const char *what, const GError *error)
{
	cli_error (sw->cli, what, error);
	int code = cli_exit_code (error);
	if (sw->status == EX_OK)
		sw->status = code;
}

/* Count a message the sweep leaves as it is (the database failed before
 * its turn): the next sweep reads it. */
static void
count_left (Sweep *sw)
{
	bdb_outcome_count (&sw->counts, BDB_OUTCOME_RETRY, FALSE, NULL);
}

/* Queue one message for the batch; parsing happens in flush_batch(). */
static void
add_message (Sweep *sw, BdbMaildirEntry *entry, const char *data, gsize len)
{
	if (sw->stopped) {
		bdb_maildir_entry_free (entry);
		count_left (sw);
		return;
	}
	Item *it = g_new0 (Item, 1);
	it->entry = entry;
	it->data = entry ? NULL : g_bytes_new (data, len);
	/* A Maildir file arrived when it was written; a clock that was ahead
	 * (or a pinned BOUNCEDB_NOW) must not place it in the future, where
	 * a signed token would look not yet valid or already expired. */
	gint64 now = cli_now ();
	it->arrival = entry && entry->mtime > 0 && entry->mtime < now ? entry->mtime : now;
	g_ptr_array_add (sw->items, it);
}

/* Parse and classify one item.  Runs on any parsing thread: it touches
 * only the item, the read-only rules and options. */
static void
parse_item (Sweep *sw, Item *it)
{
	gsize len;
	const char *data = it->data ? g_bytes_get_data (it->data, &len) : NULL;
	it->report = it->entry ? bdb_report_parse_file (it->entry->path, &sw->popts, &it->error)
	                       : bdb_report_parse_bytes (data, len, &sw->popts, &it->error);
	guint n = it->report ? bdb_report_n_records (it->report) : 0;
	if (n) {
		it->verdicts = g_new0 (BdbVerdict, n);
		for (guint i = 0; i < n; i++)
			bdb_classify (sw->rules, bdb_report_get_record (it->report, i), &it->verdicts[i]);
	}
}

/* Parse items of the pool's batch until none is left to take; with
 * @wait, also until all are parsed (then the batch is handed back).
 * Called with the pool locked. */
static GPtrArray *
pool_run (Sweep *sw, gboolean wait)
{
	Pool *pool = &sw->pool;
	while (pool->items) {
		if (pool->next < pool->items->len) {
			Item *it = pool->items->pdata[pool->next++];
			g_mutex_unlock (&pool->lock);
			parse_item (sw, it);
			g_mutex_lock (&pool->lock);
			if (--pool->pending == 0)
				g_cond_broadcast (&pool->done);
		} else if (!wait) {
			break;
		} else if (pool->pending) {
			g_cond_wait (&pool->done, &pool->lock);
		} else {
			GPtrArray *parsed = pool->items;
			pool->items = NULL;
			return parsed;
		}
	}
	return NULL;
}

static gpointer
pool_worker (gpointer data)
{
	Sweep *sw = data;
	Pool *pool = &sw->pool;
	g_mutex_lock (&pool->lock);
	while (!pool->quit) {
		pool_run (sw, FALSE);
		if (!pool->quit)
			g_cond_wait (&pool->work, &pool->lock);
	}
	g_mutex_unlock (&pool->lock);
	return NULL;
}

static void
pool_start (Sweep *sw, guint threads)
{
	Pool *pool = &sw->pool;
	g_mutex_init (&pool->lock);
	g_cond_init (&pool->work);
	g_cond_init (&pool->done);
	pool->n = MIN (threads, G_N_ELEMENTS (pool->threads));
	for (guint t = 0; t < pool->n; t++)
		pool->threads[t] = g_thread_new ("parse", pool_worker, sw);
}

static void
pool_stop (Sweep *sw)
{
	Pool *pool = &sw->pool;
	g_mutex_lock (&pool->lock);
	pool->quit = TRUE;
	g_cond_broadcast (&pool->work);
	g_mutex_unlock (&pool->lock);
	for (guint t = 0; t < pool->n; t++)
		g_thread_join (pool->threads[t]);
	g_mutex_clear (&pool->lock);
	g_cond_clear (&pool->work);
	g_cond_clear (&pool->done);
}

/* Hand @items to the parsers (the pool must be idle). */
static void
pool_submit (Sweep *sw, GPtrArray *items)
{
	Pool *pool = &sw->pool;
	g_mutex_lock (&pool->lock);
	g_assert (pool->items == NULL);
	pool->items = items;
	pool->next = 0;
	pool->pending = items->len;
	g_cond_broadcast (&pool->work);
	g_mutex_unlock (&pool->lock);
}

/* The batch submitted last, once parsed (helping to parse it); NULL if
 * none is in flight. */
static GPtrArray *
pool_collect (Sweep *sw)
{
	Pool *pool = &sw->pool;
	g_mutex_lock (&pool->lock);
	GPtrArray *parsed = pool_run (sw, TRUE);
	g_mutex_unlock (&pool->lock);
	return parsed;
}

static gboolean
write_batch (BdbTxn *txn, gpointer data, GError **error)
{
	Sweep *sw = data;
	for (guint i = 0; i < sw->writing->len; i++) {
		Item *it = sw->writing->pdata[i];
		/* Reset on each run: the write is run again after a map resize. */
		memset (&it->stats, 0, sizeof it->stats);
		it->applied = FALSE;
		if (!it->report || !it->verdicts || it->apply_error)
			continue;
		sw->applying = it;
		if (!bdb_policy_apply (&sw->policy, txn, it->report, it->verdicts, it->arrival,
		                       &it->stats, error))
			return FALSE;
		it->applied = TRUE;
		/* Left in the Maildir (or in an mbox, which is never changed),
		 * it will be read again: its fingerprint must outlive prune for
		 * as long as it is there. */
		if ((sw->done == DONE_KEEP || !it->entry) &&
		    bdb_policy_outcome (it->report, NULL, &it->stats, NULL, NULL) == BDB_OUTCOME_STORED &&
		    !bdb_policy_keep (txn, it->report, sw->started, error))
			return FALSE;
	}
	sw->applying = NULL;
	return TRUE;
}

static gboolean
note_keep_sweep (BdbTxn *txn, gpointer data, GError **error)
{
	Sweep *sw = data;
	return bdb_policy_keep_sweep (txn, sw->started, error);
}

static char *
quarantine_dir (Sweep *sw, const BdbMaildirEntry *e)
{
	if (sw->quarantine_opt)
		return g_strdup (sw->quarantine_opt);
	/* A Maildir++ subfolder: IMAP clients show it as "Quarantine". */
	g_autofree char *sub = g_path_get_dirname (e->path);
	g_autofree char *maildir = g_path_get_dirname (sub);
	return g_build_filename (maildir, ".Quarantine", NULL);
}

/* After the commit (or the failure): act on each message's outcome, and
 * count it. */
static void
finish_batch (Sweep *sw, GPtrArray *items)
{
	for (guint i = 0; i < items->len; i++) {
		Item *it = items->pdata[i];
		GError *error = NULL;
		gboolean ok = TRUE;
		const char *where = it->entry ? it->entry->path : "mbox message";
		bdb_outcome_count (&sw->counts, it->outcome, it->report && bdb_report_n_records (it->report),
		                   it->applied ? &it->stats : NULL);
		/* Could not be read (a local error, which a retry may not meet):
		 * say why, and leave it.  A message a failed batch merely left is
		 * counted as left, whatever its own error. */
		if (it->outcome == BDB_OUTCOME_RETRY && it->error && !it->report &&
		    bdb_policy_outcome (NULL, it->error, NULL, NULL, NULL) == BDB_OUTCOME_RETRY) {
			sw->unreadable++;
			fail_with (sw, where, it->error);
			continue;
		}
		if (!it->entry || sw->dry_run)
			continue;
		switch (it->outcome) {
		case BDB_OUTCOME_QUARANTINE: {
			g_autofree char *q = quarantine_dir (sw, it->entry);
			ok = bdb_maildir_move (it->entry, q, &error);
			if (ok && !sw->quiet)
				cli_warn (sw->cli, "'%s': quarantined in %s: %s", it->entry->name, q, it->why);
			break;
		}
		case BDB_OUTCOME_NOT_BOUNCE:
			/* Nothing learned, nothing wrong: it stays in the Maildir
			 * whatever --processed says, marked seen so it is read once. */
			ok = bdb_maildir_mark_seen (it->entry, &error);
			break;
		case BDB_OUTCOME_STORED:
			switch (sw->done) {
			case DONE_SEEN:
				ok = bdb_maildir_mark_seen (it->entry, &error);
				break;
			case DONE_MOVE:
				ok = bdb_maildir_move (it->entry, sw->done_dir, &error);
				break;
			case DONE_DELETE:
				if (unlink (it->entry->path) != 0 && errno != ENOENT) {
					g_set_error (&error, BDB_ERROR, BDB_ERROR_IO, "cannot delete: %s", g_strerror (errno));
					ok = FALSE;
				}
				break;
			case DONE_KEEP:
				break;
			}
			break;
		case BDB_OUTCOME_RETRY:     /* the database failed: left for the next sweep */
		case BDB_OUTCOME_VANISHED:  /* someone else took it */
			break;
		}
		if (!ok) {
			fail_with (sw, it->entry->path, error);
			g_error_free (error);
		}
	}
}

/* Store a parsed batch: one transaction, committed durably, and only then
 * its messages marked.  A message that cannot be stored because of what
 * it says (an error bdb_policy_outcome() calls the message's own) is set
 * aside for the quarantine and the rest stored without it: one message
 * must not hold back its batch, run after run. */
static gboolean
store_batch (Sweep *sw, GPtrArray *items)
{
	sw->writing = items;
	GError *error = NULL;
	gboolean ok;
	for (;;) {
		sw->applying = NULL;
		ok = sw->dry_run ? bdb_store_rehearse (sw->store, write_batch, sw, &error)
		                 : bdb_store_write (sw->store, write_batch, sw, &error);
		if (ok || !sw->applying ||
		    bdb_policy_outcome (sw->applying->report, NULL, NULL, error, NULL) != BDB_OUTCOME_QUARANTINE)
			break;
		sw->applying->apply_error = error;
		error = NULL;
	}
	for (guint i = 0; i < items->len; i++) {
		Item *it = items->pdata[i];
		if (ok) {
			it->outcome = bdb_policy_outcome (it->report, it->error, it->applied ? &it->stats : NULL,
			                                  it->apply_error, &it->why);
		} else {
			/* Nothing of this batch is touched: the next sweep retries it. */
			it->applied = FALSE;
			it->outcome = BDB_OUTCOME_RETRY;
		}
	}
	if (!ok) {
		fail_with (sw, bdb_store_path (sw->store), error);
		g_error_free (error);
		sw->stopped = TRUE;
	}
	finish_batch (sw, items);
	sw->progress_done += items->len;
	cli_progress_update (sw->progress, sw->progress_done);
	sw->writing = NULL;
	return ok;
}

static GPtrArray *
new_batch (void)
{
	return g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
}

/* Hand the filled batch to the parsers and store the one before it. */
static void
flush_batch (Sweep *sw)
{
	GPtrArray *parsed = pool_collect (sw);
	if (sw->items->len && !sw->stopped) {
		pool_submit (sw, sw->items);
		sw->items = new_batch ();
	}
	if (parsed && !sw->stopped) {
		store_batch (sw, parsed);  /* counts it, stored or not */
		g_clear_pointer (&parsed, g_ptr_array_unref);
	}
	/* Once the database failed, what was queued or parsed behind the
	 * failed batch is left as it is, for the next sweep. */
	if (sw->stopped) {
		for (guint i = 0; parsed && i < parsed->len; i++)
			count_left (sw);
		for (guint i = 0; i < sw->items->len; i++)
			count_left (sw);
		g_ptr_array_set_size (sw->items, 0);
	}
	if (parsed)
		g_ptr_array_unref (parsed);
}

/* Store all that is queued: at the end of each Maildir, before its lock
 * goes. */
static void
drain (Sweep *sw)
{
	flush_batch (sw);
	flush_batch (sw);
}

static void
sweep_maildir (Sweep *sw, const char *maildir)
{
	GError *error = NULL;
	g_autoptr (BdbMaildirScan) scan = bdb_maildir_scan_new (maildir, &error);
	if (!scan) {
		fail_with (sw, maildir, error);
		g_error_free (error);
		return;  /* the other Maildirs still get their sweep */
	}
	BdbMaildirEntry *e;
	while ((e = bdb_maildir_scan_next (scan, &error))) {
		add_message (sw, e, NULL, 0);
		if (sw->items->len >= sw->batch_size)
			flush_batch (sw);
	}
	if (error) {
		fail_with (sw, maildir, error);
		g_error_free (error);
	}
	drain (sw);
}

static void
sweep_mbox (Sweep *sw, const char *path)
{
	GError *error = NULL;
	g_autoptr (BdbMbox) mbox = bdb_mbox_open (path, &error);
	if (!mbox) {
		fail_with (sw, path, error);
		g_error_free (error);
		return;
	}
	const char *data;
	gsize len;
	while (bdb_mbox_next (mbox, &data, &len, &error)) {
		add_message (sw, NULL, data, len);
		if (sw->items->len >= sw->batch_size)
			flush_batch (sw);
	}
	if (error) {
		fail_with (sw, path, error);
		g_error_free (error);
	}
	drain (sw);
}

/* One sweep per Maildir at a time: a lock in the database directory keyed
 * by the Maildir's real path (the Maildir itself stays untouched). */
static int
lock_maildir (const char *db, const char *maildir, gboolean wait, GError **error)
{
	g_autofree char *real = realpath (maildir, NULL);
	g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA1, real ? real : maildir, -1);
	hash[16] = '\0';
	g_autofree char *name = g_strdup_printf ("sweep-%s.lock", hash);
	g_autofree char *path = g_build_filename (db, name, NULL);
	int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "cannot open lock %s: %s", path, g_strerror (errno));
		return -1;
	}
	if (flock (fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close (fd);
		if (e == EWOULDBLOCK)
			return -2;
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "cannot lock %s: %s", path, g_strerror (e));
		return -1;
	}
	return fd;
}

static void
print_summary (const Sweep *sw, gboolean json, double secs)
{
	const BdbOutcomeCounts *c = &sw->counts;
	const BdbApplyStats *a = &c->applied;
	double rate = secs > 0 ? (double) c->messages / secs : 0;
	if (json) {
		g_autoptr (CliJson) b = cli_json_new ();
		cli_json_begin_object (b);
#define NUM(name, v) do { cli_json_member (b, name); cli_json_int (b, (gint64) (v)); } while (0)
		NUM ("messages", c->messages);
		NUM ("reports", c->reports);
		NUM ("stored", c->stored);
		NUM ("not_reports", c->not_bounces);
		NUM ("quarantined", c->quarantined);
		NUM ("left", c->left);
		NUM ("failed", sw->unreadable);
		NUM ("vanished", c->vanished);
		NUM ("duplicates", a->duplicates);
		NUM ("records", a->records);
		NUM ("suppressed", a->suppressed);
		NUM ("confirmed", a->confirmed);
		NUM ("soft", a->soft);
		NUM ("inactive", a->inactive);
		NUM ("complaints", a->complaints);
		NUM ("sender", a->sender);
		NUM ("success", a->success);
		NUM ("delays", a->delays);
		NUM ("ignored", a->ignored);
		NUM ("invalid", a->invalid);
		NUM ("stale", a->stale);
		NUM ("domains", a->domains);
		NUM ("forged", a->forged);
		NUM ("repeated", a->repeated);
#undef NUM
		cli_json_member_bool (b, "dry_run", sw->dry_run);
		cli_json_member_double (b, "seconds", secs);
		cli_json_member_double (b, "messages_per_second", rate);
		cli_json_end_object (b);
		cli_json_print (b, stdout);
		return;
	}
	printf ("%s%" G_GUINT64_FORMAT " messages: %" G_GUINT64_FORMAT " stored (%u already seen), %"
	        G_GUINT64_FORMAT " not bounces, %" G_GUINT64_FORMAT " quarantined, %" G_GUINT64_FORMAT
	        " left for the next sweep; %u suppressed, %u soft counted, %u complaints, %u sender-side; "
	        "%.2f s, %.0f messages/s\n",
	        sw->dry_run ? "dry run: " : "", c->messages, c->stored, a->duplicates, c->not_bounces,
	        c->quarantined, c->left, a->suppressed, a->soft, a->complaints, a->sender, secs, rate);
}

/* The dry run's scratch database: a directory of plain files. */
static void
remove_flat_dir (const char *dir)
{
	GDir *d = g_dir_open (dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name (d))) {
		g_autofree char *p = g_build_filename (dir, n, NULL);
		unlink (p);
	}
	if (d)
		g_dir_close (d);
	rmdir (dir);
}

static gboolean
parse_done (const char *text, DoneMode *mode, char **dir)
{
	if (!text || strcmp (text, "seen") == 0)
		*mode = DONE_SEEN;
	else if (strcmp (text, "delete") == 0)
		*mode = DONE_DELETE;
	else if (strcmp (text, "keep") == 0)
		*mode = DONE_KEEP;
	else if (g_str_has_prefix (text, "move:") && text[5]) {
		*mode = DONE_MOVE;
		*dir = g_strdup (text + 5);
	} else
		return FALSE;
	return TRUE;
}

int
cmd_sweep (Cli *cli, int argc, char **argv)
{
	g_autofree char *processed = NULL;
	char *quarantine = NULL;  /* owned by sw.quarantine_opt below */
	char **mboxes = NULL;
	gboolean dry_run = FALSE, json = FALSE, wait = FALSE, quiet = FALSE;
	gint batch = 0, threads = 0;
	GOptionEntry entries[] = {
		{ "mbox", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &mboxes, "Also read this mbox (repeatable; it is not modified)", "FILE" },
		{ "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Messages per transaction (default 500)", "N" },
		{ "processed", 'p', 0, G_OPTION_ARG_STRING, &processed,
		  "What to do with stored messages: seen (move to cur/ with the S flag; default), delete, keep, move:MAILDIR", "HOW" },
		{ "quarantine", 'Q', 0, G_OPTION_ARG_FILENAME, &quarantine,
		  "Maildir for unreadable messages (default: MAILDIR/.Quarantine)", "MAILDIR" },
		{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Change nothing; report what would happen", NULL },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print the summary as JSON", NULL },
		{ "wait", 'w', 0, G_OPTION_ARG_NONE, &wait, "Wait for another sweep of the same Maildir instead of skipping", NULL },
		{ "threads", 0, 0, G_OPTION_ARG_INT, &threads,
		  "Threads that parse, this one included (default: [sweep] threads, else one per processor)", "N" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress bar, no notice per quarantined message", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Reads new/ and the messages of cur/ not yet marked seen.  Stored messages\n"
	                            "are marked processed only after the database has committed them, so the\n"
	                            "sweep can be interrupted at any moment and run again.\n"
	                            "\n"
	                            "Examples:\n"
	                            "  bouncedb sweep ~/Maildir/.Bounces\n"
	                            "  bouncedb sweep --db /var/lib/bouncedb --processed delete /srv/mail/bounces\n"
	                            "  bouncedb sweep --dry-run --json --mbox old-bounces.mbox",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;

	Sweep sw = { 0 };
	sw.cli = cli;
	sw.started = cli_now ();
	sw.dry_run = dry_run;
	sw.quarantine_opt = quarantine;
	g_autofree char *conf_processed = g_key_file_get_string (cli->config, "sweep", "processed", NULL);
	if (!parse_done (processed ? processed : conf_processed, &sw.done, &sw.done_dir)) {
		cli_warn (cli, "--processed: '%s' is not seen, delete, keep or move:MAILDIR",
		              processed ? processed : conf_processed);
		return EX_USAGE;
	}
	if (batch < 0 || threads < 0) {
		cli_warn (cli, "--batch and --threads take a positive number");
		return EX_USAGE;
	}
	sw.quiet = quiet;
	sw.threads = threads ? (guint) threads
	           : (guint) g_key_file_get_integer (cli->config, "sweep", "threads", NULL);
	if (sw.threads == 0)
		sw.threads = MAX (1, g_get_num_processors ());
	sw.batch_size = batch ? (guint) batch
	              : (guint) g_key_file_get_integer (cli->config, "sweep", "batch", NULL);
	if (sw.batch_size == 0)
		sw.batch_size = 500;
	if (!quarantine) {
		g_autofree char *q = g_key_file_get_string (cli->config, "sweep", "quarantine", NULL);
		sw.quarantine_opt = g_steal_pointer (&q);
	}
	if (argc < 2 && !mboxes) {
		cli_warn (cli, "nothing to sweep: give MAILDIR... or --mbox FILE");
		return EX_USAGE;
	}
	/* Before anything is created: a typo must not leave a new database. */
	for (int i = 1; i < argc; i++) {
		if (!g_file_test (argv[i], G_FILE_TEST_EXISTS)) {
			g_autofree char *safe = cli_safe (argv[i]);
			cli_warn (cli, "'%s': no such file or directory", safe);
			return EX_NOINPUT;
		}
	}
	for (char **m = mboxes; m && *m; m++) {
		if (!g_file_test (*m, G_FILE_TEST_EXISTS)) {
			g_autofree char *safe = cli_safe (*m);
			cli_warn (cli, "'%s': no such file", safe);
			g_strfreev (mboxes);
			return EX_NOINPUT;
		}
	}

	GError *error = NULL;
	sw.rules = cli_rules (cli, &error);
	if (!sw.rules || !cli_policy (cli, &sw.policy, &error)) {
		return cli_fail (cli, cli->config_path, &error);
	}
	/* sw.popts.keep_headers borrows these names: they live as long as sw. */
	g_auto (GStrv) keep_headers G_GNUC_UNUSED = cli_parse_options_from_config (cli, &sw.popts);

	g_autofree char *tmpdb = NULL;
	g_autofree char *data_mdb = g_build_filename (cli_db_path (cli), "data.mdb", NULL);
	if (dry_run && !g_file_test (data_mdb, G_FILE_TEST_EXISTS)) {
		/* A dry run creates nothing: rehearse against an empty database. */
		tmpdb = g_dir_make_tmp ("bouncedb-dry-XXXXXX", NULL);
		g_free (cli->db_dir);
		cli->db_dir = g_strdup (tmpdb);
	}
	if ((status = cli_open (cli)) != EX_OK) {
		bdb_rules_free (sw.rules);
		g_strfreev (mboxes);
		return status;
	}
	const char *db = cli_db_path (cli);
	sw.store = cli->store;
	sw.items = new_batch ();
	pool_start (&sw, sw.threads - 1);  /* this thread parses too */

	guint64 total = 0;
	for (int i = 1; i < argc; i++)
		total += bdb_maildir_count (argv[i]);
	sw.progress = quiet ? NULL : cli_progress_new ("sweep", total);
	gint64 start = g_get_monotonic_time ();

	for (int i = 1; i < argc; i++) {
		int lock = lock_maildir (db, argv[i], wait, &error);
		if (lock == -2) {
			cli_warn (cli, "'%s': another sweep is running; skipped (--wait to wait)", argv[i]);
			continue;
		}
		if (lock < 0) {
			fail_with (&sw, argv[i], error);
			g_clear_error (&error);
			continue;
		}
		sweep_maildir (&sw, argv[i]);
		close (lock);
	}
	for (char **m = mboxes; m && *m; m++)
		sweep_mbox (&sw, *m);
	if ((sw.done == DONE_KEEP || mboxes) && !sw.stopped && !sw.dry_run &&
	    !bdb_store_write (sw.store, note_keep_sweep, &sw, &error)) {
		fail_with (&sw, db, error);
		g_clear_error (&error);
	}

	cli_progress_free (sw.progress);
	double secs = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
	print_summary (&sw, json, secs);

	pool_stop (&sw);
	g_ptr_array_unref (sw.items);
	cli_close (cli);
	if (tmpdb)
		remove_flat_dir (tmpdb);
	bdb_rules_free (sw.rules);
	g_free (sw.done_dir);
	g_free (sw.quarantine_opt);
	g_strfreev (mboxes);
	return cli_finish (cli, sw.status);
}

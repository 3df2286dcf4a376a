/* bouncedb hooks: tell other programs (a list manager) of each change, at
 * least once.
 *
 * Each hook of [hooks] (hook-config.c) has a cursor in the database,
 * "hook/NAME": the last change it has taken.  `hooks run` reads the
 * changes after it, runs the hook's command once per change it wants
 * (the change's JSON, as `events --json` prints it, on standard input),
 * and moves the cursor past a change only in a transaction committed
 * after the command exited 0.  A crash between the two delivers the
 * change again; nothing can skip it.  A command that fails or runs out
 * of time is retried, from that change, after a backoff (30 s doubling
 * to an hour), and its error and the next attempt are kept beside the
 * cursor (store.h, BdbCursorState).
 *
 * The runner never holds the writer lock or a transaction while a
 * command runs: it reads a batch in a read transaction, lets it go, and
 * each cursor move is a write of a few bytes.  So ingest and sweep never
 * wait for a hook.  Two runners (a --follow service and a cron line) never
 * run one hook at the same time: each hook has a lock file in the database
 * directory, taken without waiting; a runner that finds it taken leaves
 * that hook to the other.  Between rounds a follower closes the store, so
 * `prune --compact` can have the database to itself.
 *
 * A cursor holds the feed back from `prune --feed` until the hook has
 * taken it.  `bouncedb hooks` shows each hook's backlog, error and next
 * attempt, and the cursors of hooks no longer configured, which go on
 * holding the feed until `hooks --forget NAME`.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "cli.h"

#define BATCH 256
#define BACKOFF_FIRST 30
#define BACKOFF_MAX 3600

/* ---- bouncedb hooks: where each hook stands ---------------------------- */

typedef struct {
	char *name;           /* the hook's name (the cursor without "hook/") */
	guint64 cursor;
	gboolean has_cursor;
	gboolean configured;
} Standing;

static void
standing_free (gpointer data)
{
	Standing *s = data;
	g_free (s->name);
	g_free (s);
}

static Standing *
standing_for (GPtrArray *all, const char *name)
{
	for (guint i = 0; i < all->len; i++) {
		Standing *s = all->pdata[i];
		if (strcmp (s->name, name) == 0)
			return s;
	}
	Standing *s = g_new0 (Standing, 1);
	s->name = g_strdup (name);
	g_ptr_array_add (all, s);
	return s;
}

static gboolean
collect_cursor (const char *name, guint64 seq, gpointer data)
{
	if (g_str_has_prefix (name, "hook/")) {
		Standing *s = standing_for (data, name + 5);
		s->cursor = seq;
		s->has_cursor = TRUE;
	}
	return TRUE;
}

static void
show_one (Cli *cli, const Standing *s, guint64 last, const BdbCursorState *st, gboolean json)
{
	guint64 backlog = last > s->cursor ? last - s->cursor : 0;
	g_autofree char *next = cli_format_time (st->next_attempt);
	g_autofree char *success = cli_format_time (st->last_success);
	if (json) {
		g_autoptr (CliJson) b = cli_json_new ();
		cli_json_begin_object (b);
		cli_json_member_string (b, "hook", s->name);
		cli_json_member_bool (b, "configured", s->configured);
		cli_json_member_int (b, "cursor", (gint64) s->cursor);
		cli_json_member_int (b, "backlog", (gint64) backlog);
		cli_json_member_int (b, "failures", st->failures);
		cli_json_member (b, "failed_seq");
		if (st->failures)
			cli_json_int (b, (gint64) st->failed_seq);
		else
			cli_json_null (b);
		cli_json_member_string (b, "last_error", st->failures ? st->last_error : NULL);
		cli_json_member_string (b, "next_attempt", st->failures ? next : NULL);
		cli_json_member_string (b, "last_success", st->last_success ? success : NULL);
		cli_json_end_object (b);
		cli_json_print (b, stdout);
		return;
	}
	g_autofree char *name = cli_safe (s->name);
	printf ("%-16s cursor %-8" G_GUINT64_FORMAT " backlog %-8" G_GUINT64_FORMAT, name, s->cursor, backlog);
	if (!s->configured)
		printf (" not in the configuration: holds the feed back from prune"
		        " (bouncedb hooks --forget %s)\n", name);
	else if (st->failures) {
		g_autofree char *err = cli_safe (st->last_error ? st->last_error : "-");
		printf (" failing: %u attempt%s on change %" G_GUINT64_FORMAT ", next at %s\n"
		        "%-16s last error: %s\n", st->failures, st->failures == 1 ? "" : "s",
		        st->failed_seq, next, "", err);
	} else if (!s->has_cursor)
		printf (" not run yet\n");
	else
		printf (" ok%s%s\n", st->last_success ? ", last delivery " : "", st->last_success ? success : "");
}

static int
show (Cli *cli, GPtrArray *hooks, gboolean json)
{
	int status = cli_open (cli);
	if (status != EX_OK)
		return status;
	GError *error = NULL;
	g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (standing_free);
	for (guint i = 0; i < hooks->len; i++)
		standing_for (all, ((CliHook *) hooks->pdata[i])->name)->configured = TRUE;
	guint64 last = 0;
	if (!bdb_txn_foreach_cursor (cli->txn, collect_cursor, all, &error) ||
	    !bdb_txn_last_change (cli->txn, &last, &error))
		return cli_fail (cli, cli_db_path (cli), &error);
	if (all->len == 0 && !json)
		printf ("no hooks: see [hooks] in bouncedb.conf(5)\n");
	for (guint i = 0; i < all->len; i++) {
		Standing *s = all->pdata[i];
		g_autofree char *cursor = g_strconcat ("hook/", s->name, NULL);
		BdbCursorState st;
		gboolean found;
		if (!bdb_txn_get_cursor_state (cli->txn, cursor, &st, &found, &error))
			return cli_fail (cli, cli_db_path (cli), &error);
		show_one (cli, s, last, &st, json);
		bdb_cursor_state_clear (&st);
	}
	return cli_finish (cli, EX_OK);
}

/* ---- locks ------------------------------------------------------------- */

/* The hook's lock, taken without waiting: -1 when another runner has it
 * (*@busy) or it cannot be made (a warning). */
static int
lock_hook (Cli *cli, const char *name, gboolean *busy)
{
	g_autofree char *file = g_strdup_printf ("hook-%s.lock", name);
	g_autofree char *path = g_build_filename (cli_db_path (cli), file, NULL);
	*busy = FALSE;
	int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		cli_warn (cli, "%s: cannot open its lock file '%s': %s", name, path, g_strerror (errno));
		return -1;
	}
	if (flock (fd, LOCK_EX | LOCK_NB) < 0) {
		*busy = errno == EWOULDBLOCK;
		if (!*busy)
			cli_warn (cli, "%s: cannot lock '%s': %s", name, path, g_strerror (errno));
		close (fd);
		return -1;
	}
	return fd;
}

/* ---- bouncedb hooks --forget NAME -------------------------------------- */

static gboolean
forget_txn (BdbTxn *txn, gpointer data, GError **error)
{
	g_autofree char *cursor = g_strconcat ("hook/", (const char *) data, NULL);
	return bdb_txn_delete_cursor (txn, cursor, error);
}

static int
forget (Cli *cli, GPtrArray *hooks, const char *name)
{
	for (guint i = 0; i < hooks->len; i++) {
		if (strcmp (((CliHook *) hooks->pdata[i])->name, name) == 0) {
			cli_warn (cli, "'%s' is still in [hooks]: remove it from the configuration first", name);
			return EX_USAGE;
		}
	}
	if (!cli_hook_name_valid (name)) {
		g_autofree char *safe = cli_safe (name);
		cli_warn (cli, "'%s' is not a hook's name", safe);
		return EX_USAGE;
	}
	GError *error = NULL;
	cli->store = cli_open_store (cli, cli_db_path (cli), FALSE, &error);
	if (!cli->store)
		return cli_fail (cli, cli_db_path (cli), &error);
	gboolean busy;
	int fd = lock_hook (cli, name, &busy);
	if (fd < 0) {
		if (busy)
			cli_warn (cli, "a runner is delivering to '%s' now: try again", name);
		return EX_TEMPFAIL;
	}
	gboolean ok = bdb_store_write (cli->store, forget_txn, (gpointer) name, &error);
	close (fd);
	if (!ok)
		return cli_fail (cli, cli_db_path (cli), &error);
	printf ("forgot hook %s: prune may drop the changes it held\n", name);
	return cli_finish (cli, EX_OK);
}

/* ---- bouncedb hooks run ------------------------------------------------ */

typedef struct {
	guint64 seq;
	char *json;          /* NULL: the hook does not want it */
} Pending;

typedef struct {
	const CliHook *hook;
	const char *db_id;   /* for the change's JSON */
	guint64 cursor;
	BdbCursorState state;
	GArray *batch;       /* Pending */
} Round;

static gboolean
take_change (const BdbChange *c, gpointer data)
{
	Round *r = data;
	Pending p = { c->seq, NULL };
	if (cli_hook_wants (r->hook, c)) {
		g_autoptr (CliJson) b = cli_json_new ();
		cli_json_begin_object (b);
		cli_change_members (b, c, r->db_id);
		cli_json_end_object (b);
		GString *text = g_string_new (NULL);
		cli_json_move (b, text);
		p.json = g_string_free (text, FALSE);
	}
	g_array_append_val (r->batch, p);
	return r->batch->len < BATCH;
}

static void
pending_clear (gpointer data)
{
	g_free (((Pending *) data)->json);
}

/* Where the hook stands and the changes after it, from one snapshot. */
static gboolean
read_batch (BdbStore *store, Round *r, GError **error)
{
	BdbTxn *txn = bdb_store_read (store, error);
	if (!txn)
		return FALSE;
	gboolean found;
	g_array_set_size (r->batch, 0);
	bdb_cursor_state_clear (&r->state);
	gboolean ok = bdb_txn_get_cursor (txn, r->hook->cursor, &r->cursor, error) &&
	              bdb_txn_get_cursor_state (txn, r->hook->cursor, &r->state, &found, error) &&
	              bdb_txn_foreach_change (txn, r->cursor, take_change, r, error);
	bdb_txn_abort (txn);
	return ok;
}

typedef struct {
	const char *cursor;
	guint64 seq;
	const BdbCursorState *state;
} Move;

static gboolean
move_txn (BdbTxn *txn, gpointer data, GError **error)
{
	const Move *m = data;
	guint64 now;
	/* Never backwards, whatever happened meanwhile. */
	if (!bdb_txn_get_cursor (txn, m->cursor, &now, error))
		return FALSE;
	return bdb_txn_set_cursor (txn, m->cursor, MAX (now, m->seq), error) &&
	       bdb_txn_set_cursor_state (txn, m->cursor, m->state, error);
}

static gboolean
commit (BdbStore *store, Round *r, guint64 seq, GError **error)
{
	Move m = { r->hook->cursor, seq, &r->state };
	if (!bdb_store_write (store, move_txn, &m, error))
		return FALSE;
	r->cursor = seq;
	return TRUE;
}

typedef struct {
	guint delivered, skipped;
	gboolean failed;       /* an attempt failed in this run */
	gboolean waiting;      /* backing off: not tried */
	gboolean busy;         /* another runner has it */
} Outcome;

/* What a command that worked said on its standard error (an adapter's
 * "not a member", a change it was refused): passed on, line by line. */
static void
say_stderr (Cli *cli, const CliHook *hook, guint64 seq, const GString *text)
{
	if (!text || !text->len)
		return;
	g_auto (GStrv) lines = g_strsplit (text->str, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (!**l)
			continue;
		g_autofree char *safe = cli_safe (*l);
		cli_warn (cli, "%s: change %" G_GUINT64_FORMAT ": %s", hook->name, seq, safe);
	}
}

/* Run one hook over everything after its cursor, or until it fails.
 * FALSE with @error on a database error. */
static gboolean
run_hook (Cli *cli, BdbStore *store, const CliHook *hook, gint64 now, gboolean retry_now,
          Outcome *out, GError **error)
{
	const char *id = bdb_store_id (store);
	Round r = { hook, id, 0, { 0 }, g_array_new (FALSE, FALSE, sizeof (Pending)) };
	g_array_set_clear_func (r.batch, pending_clear);
	gboolean ok = TRUE;
	for (;;) {
		if (!(ok = read_batch (store, &r, error)))
			break;
		if (r.state.failures && r.state.next_attempt > now && !retry_now) {
			out->waiting = TRUE;
			break;
		}
		if (r.batch->len == 0)
			break;
		guint64 passed = r.cursor;  /* taken, or not wanted */
		gboolean stop = FALSE;
		for (guint i = 0; i < r.batch->len && ok && !stop; i++) {
			Pending *p = &g_array_index (r.batch, Pending, i);
			if (!p->json) {
				passed = p->seq;
				out->skipped++;
				continue;
			}
			char seq[24];
			g_snprintf (seq, sizeof seq, "%" G_GUINT64_FORMAT, p->seq);
			const char *env[] = { "BOUNCEDB_HOOK", hook->name, "BOUNCEDB_SEQ", seq,
			                      "BOUNCEDB_DB_ID", id, "BOUNCEDB_DB", cli_db_path (cli), NULL };
			CliRun run;
			GError *e = NULL;
			fflush (stdout);  /* the command writes there too */
			gboolean ran = cli_run_command (hook->command, p->json, strlen (p->json), env,
			                                hook->timeout_ms, &run, &e);
			gint64 when = cli_now ();
			r.state.last_attempt = when;
			if (ran && cli_run_ok (&run)) {
				passed = p->seq;
				out->delivered++;
				r.state.failures = 0;
				r.state.failed_seq = 0;
				r.state.next_attempt = 0;
				r.state.last_success = when;
				g_clear_pointer (&r.state.last_error, g_free);
				ok = commit (store, &r, passed, error);
				say_stderr (cli, hook, p->seq, run.output);
			} else {
				char *why = ran ? cli_run_describe (&run, hook->timeout_ms) : g_strdup (e->message);
				g_clear_error (&e);
				guint shift = MIN (r.state.failures, 7u);
				r.state.failures++;
				r.state.failed_seq = p->seq;
				r.state.next_attempt = when + MIN ((gint64) BACKOFF_FIRST << shift, (gint64) BACKOFF_MAX);
				g_free (r.state.last_error);
				r.state.last_error = why;
				out->failed = TRUE;
				g_autofree char *next = cli_format_time (r.state.next_attempt);
				cli_warn (cli, "%s: change %" G_GUINT64_FORMAT ": %s (attempt %u; next at %s)", hook->name,
				          p->seq, why, r.state.failures, next);
				/* What it passed over before the failure is taken. */
				ok = commit (store, &r, passed, error);
				stop = TRUE;
			}
			cli_run_clear (&run);
			if (cli_watch_stopping ())
				stop = TRUE;
		}
		if (ok && !stop && passed > r.cursor)
			ok = commit (store, &r, passed, error);
		if (!ok || stop)
			break;
	}
	bdb_cursor_state_clear (&r.state);
	g_array_unref (r.batch);
	return ok;
}

/* The store, opened for one round: a follower keeps it closed between
 * rounds.  Never creates a database (it would belong to whoever runs
 * this, not to the user ingest runs as). */
static BdbStore *
open_for_round (Cli *cli, int *status)
{
	g_autofree char *data = g_build_filename (cli_db_path (cli), "data.mdb", NULL);
	if (!g_file_test (data, G_FILE_TEST_EXISTS)) {
		cli_warn (cli, "no database in '%s' (run a sweep or ingest first, or give --db DIR)", cli_db_path (cli));
		*status = EX_NOINPUT;
		return NULL;
	}
	GError *error = NULL;
	BdbStore *store = cli_open_store (cli, cli_db_path (cli), FALSE, &error);
	if (!store)
		*status = cli_fail (cli, cli_db_path (cli), &error);
	return store;
}

/* One round over every hook.  *@wake: when the earliest backing-off hook
 * may be tried again (0: none). */
static int
round_all (Cli *cli, GPtrArray *hooks, gboolean quiet, gboolean retry_now, gint64 *wake)
{
	int status = EX_OK;
	BdbStore *store = open_for_round (cli, &status);
	if (!store)
		return status;
	*wake = 0;
	for (guint i = 0; i < hooks->len && !cli_watch_stopping (); i++) {
		const CliHook *h = hooks->pdata[i];
		Outcome o = { 0 };
		int fd = lock_hook (cli, h->name, &o.busy);
		if (fd >= 0) {
			GError *error = NULL;
			gboolean ok = run_hook (cli, store, h, cli_now (), retry_now, &o, &error);
			close (fd);
			if (!ok) {
				status = cli_fail (cli, cli_db_path (cli), &error);
				break;
			}
		}
		if (o.failed || o.waiting) {
			BdbTxn *txn = bdb_store_read (store, NULL);
			BdbCursorState st;
			gboolean found = FALSE;
			if (txn && bdb_txn_get_cursor_state (txn, h->cursor, &st, &found, NULL) && found) {
				if (st.failures && (*wake == 0 || st.next_attempt < *wake))
					*wake = st.next_attempt;
				bdb_cursor_state_clear (&st);
			}
			if (txn)
				bdb_txn_abort (txn);
		}
		if (o.failed)
			status = EX_TEMPFAIL;
		if (quiet)
			continue;
		if (o.busy)
			printf ("%s: another runner has it\n", h->name);
		else if (o.delivered || o.skipped || o.failed)
			printf ("%s: %u delivered, %u not wanted%s\n", h->name, o.delivered, o.skipped,
			        o.failed ? ", then failed (see above)" : "");
		else if (o.waiting)
			printf ("%s: failing, waiting for its next attempt (bouncedb hooks)\n", h->name);
	}
	bdb_store_close (store);
	return status;
}

static int
run (Cli *cli, GPtrArray *hooks, gboolean follow, gboolean retry_now)
{
	if (hooks->len == 0) {
		cli_warn (cli, "no hooks in [hooks] of %s", cli->config_path ? cli->config_path : "the configuration");
		return EX_CONFIG;
	}
	gint64 wake = 0;
	if (!follow)
		return cli_finish (cli, round_all (cli, hooks, FALSE, retry_now, &wake));
	/* A follower: a round at each commit, or when a failing hook is due;
	 * a failure is said on stderr and retried, never the end of it. */
	CliWatch w;
	cli_watch_init (&w, cli_db_path (cli));
	int status = EX_OK;
	for (;;) {
		status = round_all (cli, hooks, TRUE, retry_now, &wake);
		retry_now = FALSE;
		if (status != EX_OK && status != EX_TEMPFAIL)
			break;
		status = EX_OK;
		gint64 ms = CLI_WATCH_FALLBACK_MS;
		if (wake)
			ms = CLAMP ((wake - cli_now ()) * 1000, 0, (gint64) CLI_WATCH_FALLBACK_MS);
		if (!cli_watch_wait_ms (&w, (int) ms))
			break;
	}
	cli_watch_clear (&w);
	return cli_finish (cli, status);
}

int
cmd_hooks (Cli *cli, int argc, char **argv)
{
	gboolean json = FALSE, follow = FALSE, retry_now = FALSE;
	g_autofree char *only = NULL, *forget_name = NULL;
	GOptionEntry entries[] = {
		{ "follow", 'f', 0, G_OPTION_ARG_NONE, &follow, "run: keep running, woken by each commit", NULL },
		{ "hook", 0, 0, G_OPTION_ARG_STRING, &only, "run: only this hook", "NAME" },
		{ "retry-now", 0, 0, G_OPTION_ARG_NONE, &retry_now, "run: try failing hooks now, not at their next attempt", NULL },
		{ "forget", 0, 0, G_OPTION_ARG_STRING, &forget_name,
		  "Drop the cursor of a hook removed from the configuration", "NAME" },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "One JSON object per hook", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli,
	                                "Each hook of [hooks] in bouncedb.conf is a command run once for each change\n"
	                                "it wants, with the change's JSON (as 'events --json' prints it) on its\n"
	                                "standard input.  A change is taken once the command exits 0; a failing\n"
	                                "command is retried from that change, after 30 s, doubling up to an hour.\n"
	                                "Without 'run': each hook's cursor, backlog, last error and next attempt.\n"
	                                "\n"
	                                "Examples:\n"
	                                "  bouncedb hooks run --follow          # a service (contrib/systemd)\n"
	                                "  bouncedb hooks run >/dev/null        # from cron\n"
	                                "  bouncedb hooks --forget oldcrm",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	gboolean running = argc == 2 && strcmp (argv[1], "run") == 0;
	if (argc > 2 || (argc == 2 && !running) || ((follow || only || retry_now) && !running) ||
	    (forget_name && (running || json))) {
		cli_warn (cli, "usage: bouncedb hooks [--json] | hooks run [--follow] [--hook NAME] | hooks --forget NAME");
		return EX_USAGE;
	}
	GError *error = NULL;
	g_autoptr (GPtrArray) hooks = cli_hooks (cli, &error);
	if (!hooks) {
		cli_error (cli, cli->config_path, error);
		g_error_free (error);
		return EX_CONFIG;
	}
	if (forget_name)
		return forget (cli, hooks, forget_name);
	if (!running)
		return show (cli, hooks, json);
	if (only) {
		guint keep = hooks->len;
		for (guint i = 0; i < hooks->len; i++)
			if (strcmp (((CliHook *) hooks->pdata[i])->name, only) == 0)
				keep = i;
		if (keep == hooks->len) {
			g_autofree char *safe = cli_safe (only);
			cli_warn (cli, "no hook '%s' in [hooks]", safe);
			return EX_USAGE;
		}
		CliHook *h = g_ptr_array_steal_index (hooks, keep);
		g_ptr_array_set_size (hooks, 0);
		g_ptr_array_add (hooks, h);
	}
	return run (cli, hooks, follow, retry_now);
}

/* bouncedb apply: take the changes other databases made.
 *
 * The input is what `bouncedb events --json` prints on another host (a
 * file, a pipe from a log such as Kafka, or a Redis stream, redis.c).
 * Each change is joined with what this database holds (merge.c): the same
 * change twice, or changes in any order, leave the same database, so a
 * log that delivers at least once is enough.  Changes this database made
 * itself are skipped when they come back.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "state-json.h"
#include "redis.h"

#define BATCH 500

typedef struct {
	Cli *cli;
	BdbPolicy policy;
	const char *self;          /* this database's id */
	GPtrArray *lines;          /* the batch: one change's JSON per entry */
	const char *source;        /* for messages */
	guint64 read, applied, changed, own, bad;
	guint64 line;
} Apply;

static gboolean
apply_batch (BdbTxn *txn, gpointer data, GError **error)
{
	Apply *a = data;
	guint64 changed = 0, own = 0, applied = 0;
	g_autoptr (JsonParser) parser = json_parser_new ();
	CliChangeRead r = { 0 };
	gboolean ok = TRUE;
	for (guint i = 0; ok && i < a->lines->len; i++) {
		const char *text = a->lines->pdata[i];
		g_autofree char *why = NULL;
		GError *perr = NULL;
		if (!json_parser_load_from_data (parser, text, -1, &perr) ||
		    !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
			why = g_strdup (perr ? perr->message : "not a JSON object");
			g_clear_error (&perr);
		} else if (cli_change_from_json (json_node_get_object (json_parser_get_root (parser)), &r, &why)) {
			if (g_strcmp0 (r.change.origin, a->self) == 0) {
				own++;
				continue;
			}
			gboolean c;
			ok = bdb_policy_apply_change (&a->policy, txn, &r.change, &c, error);
			applied++;
			changed += c;
			continue;
		}
		/* A line that is not a change stops everything: the log is not
		 * what we were told it is, and guessing would lose changes. */
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "%s: change %u of the batch: %s", a->source, i + 1, why);
		ok = FALSE;
	}
	cli_change_read_clear (&r);
	if (ok) {
		/* Counted once the transaction may commit (it runs again after a
		 * map resize). */
		a->applied += applied;
		a->changed += changed;
		a->own += own;
	}
	return ok;
}

/* Commit the batch; empty it. */
static gboolean
flush (Apply *a, GError **error)
{
	if (a->lines->len == 0)
		return TRUE;
	guint64 before_applied = a->applied, before_changed = a->changed, before_own = a->own;
	gboolean ok = bdb_store_write (a->cli->store, apply_batch, a, error);
	if (!ok) {
		a->applied = before_applied;
		a->changed = before_changed;
		a->own = before_own;
	}
	g_ptr_array_set_size (a->lines, 0);
	return ok;
}

/* Is there more input ready right now? */
static gboolean
input_ready (int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return poll (&p, 1, 0) > 0;
}

static int
apply_stream (Apply *a, FILE *in, gboolean follow)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	GError *error = NULL;
	while ((len = getline (&line, &cap, in)) >= 0) {
		a->line++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		g_ptr_array_add (a->lines, g_strdup (line));
		a->read++;
		/* A follower commits as soon as the input pauses: another host
		 * should not wait for a full batch to see a suppression. */
		if (a->lines->len >= BATCH || (follow && !input_ready (fileno (in)))) {
			if (!flush (a, &error))
				break;
		}
	}
	free (line);
	if (!error)
		flush (a, &error);
	if (error)
		return cli_fail (a->cli, a->source, &error);
	if (ferror (in)) {
		cli_warn (a->cli, "reading %s failed: %s", a->source, g_strerror (errno));
		return EX_IOERR;
	}
	return EX_OK;
}

int
cmd_apply (Cli *cli, int argc, char **argv)
{
	gboolean follow = FALSE, quiet = FALSE;
	g_autofree char *redis = NULL, *stream = NULL, *group = NULL, *consumer = NULL;
	GOptionEntry entries[] = {
		{ "follow", 'f', 0, G_OPTION_ARG_NONE, &follow,
		  "Keep reading (a pipe, a stream) and commit as changes come", NULL },
		{ "redis", 0, 0, G_OPTION_ARG_STRING, &redis, "Read from a Redis stream at URL (redis://HOST:PORT or unix:PATH)", "URL" },
		{ "stream", 0, 0, G_OPTION_ARG_STRING, &stream, "The stream's name (with --redis)", "NAME" },
		{ "group", 0, 0, G_OPTION_ARG_STRING, &group,
		  "The consumer group: one per database that applies the stream (with --redis)", "NAME" },
		{ "consumer", 0, 0, G_OPTION_ARG_STRING, &consumer, "The consumer's name in the group (default: the group's)", "NAME" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print no summary", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli,
	                                "The input is what 'bouncedb events --json' prints on another host.  Each\n"
	                                "change is merged with what this database holds: the same change twice, or\n"
	                                "the same changes in another order, give the same database\n"
	                                "(doc/scale-out.md).  Changes made here are skipped when they come back.\n"
	                                "\n"
	                                "Examples:\n"
	                                "  ssh mx2 bouncedb events --json --since 0 | bouncedb apply\n"
	                                "  bouncedb apply --redis redis://127.0.0.1:6379 --stream bounces --group mx1 --follow",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (redis ? argc > 1 || !stream || !group : argc > 2) {
		cli_warn (cli, redis ? "--redis needs --stream and --group, and no FILE"
		                     : "give at most one FILE (default: standard input)");
		return EX_USAGE;
	}
	Apply a = { 0 };
	a.cli = cli;
	GError *error = NULL;
	if (!cli_policy (cli, &a.policy, &error))
		return cli_fail (cli, cli->config_path, &error);
	FILE *in = stdin;
	a.source = "standard input";
	if (!redis && argc == 2 && strcmp (argv[1], "-") != 0) {
		in = fopen (argv[1], "re");
		if (!in) {
			int e = errno;
			g_autofree char *safe = cli_safe (argv[1]);
			cli_warn (cli, "cannot open '%s': %s", safe, g_strerror (e));
			return e == ENOENT ? EX_NOINPUT : EX_IOERR;
		}
		a.source = argv[1];
	}
	if ((status = cli_open (cli)) != EX_OK) {
		if (in != stdin)
			fclose (in);
		return status;
	}
	a.self = bdb_store_id (cli->store);
	a.lines = g_ptr_array_new_with_free_func (g_free);
	if (redis) {
		a.source = stream;
		status = cli_redis_apply (cli, redis, stream, group, consumer ? consumer : group, follow,
		                          (CliRedisBatchFunc) flush, a.lines, &a);
	} else {
		status = apply_stream (&a, in, follow);
	}
	if (in != stdin)
		fclose (in);
	g_ptr_array_unref (a.lines);
	if (!quiet)
		fprintf (stderr, "bouncedb: apply: %" G_GUINT64_FORMAT " changes taken, %" G_GUINT64_FORMAT
		         " changed this database, %" G_GUINT64_FORMAT " were its own\n",
		         a.applied, a.changed, a.own);
	return cli_finish (cli, status);
}

/* bouncedb publish: send this database's own changes to a log that other
 * hosts read (a Redis stream, or standard output for kcat and the like).
 *
 * Each destination has a cursor in the database (`publish/NAME`): the
 * changes after it are sent, then the cursor moves, in a transaction of
 * its own.  A crash between the two sends some changes again, which the
 * receivers' merge makes harmless (at least once).  Changes this database
 * took from others (apply) are not sent on: each host publishes only what
 * it saw itself, so nothing goes round.
 */
#include <errno.h>
#include <string.h>
#include "cli.h"
#include "redis.h"

#define BATCH 500

typedef struct {
	Cli *cli;
	const char *id;
	GPtrArray *lines;
	guint64 last;        /* the last change looked at */
	guint64 sent;
} Publish;

static gboolean
take (const BdbChange *c, gpointer data)
{
	Publish *p = data;
	if (!c->origin) {
		g_autoptr (CliJson) b = cli_json_new ();
		cli_json_begin_object (b);
		cli_change_members (b, c, p->id);
		cli_json_end_object (b);
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream (&buf, &len);
		cli_json_print (b, mem);
		fclose (mem);
		if (len && buf[len - 1] == '\n')
			buf[len - 1] = '\0';
		g_ptr_array_add (p->lines, buf);
	}
	p->last = c->seq;
	return p->lines->len < BATCH;
}

typedef struct {
	const char *name;
	guint64 seq;
} Cursor;

static gboolean
set_cursor (BdbTxn *txn, gpointer data, GError **error)
{
	const Cursor *c = data;
	return bdb_txn_set_cursor (txn, c->name, c->seq, error);
}

/* Send everything after the cursor; FALSE with @error. */
static gboolean
publish_pending (Publish *p, const char *cursor, const char *redis, const char *stream, GError **error)
{
	for (;;) {
		BdbTxn *txn = bdb_store_read (p->cli->store, error);
		if (!txn)
			return FALSE;
		guint64 from;
		gboolean ok = bdb_txn_get_cursor (txn, cursor, &from, error);
		p->last = from;
		g_ptr_array_set_size (p->lines, 0);
		if (ok)
			ok = bdb_txn_foreach_change (txn, from, take, p, error);
		bdb_txn_abort (txn);
		if (!ok)
			return FALSE;
		if (p->last == from)
			return TRUE;  /* nothing new */
		if (redis) {
			if (!cli_redis_publish (redis, stream, p->lines, error))
				return FALSE;
		} else {
			for (guint i = 0; i < p->lines->len; i++)
				printf ("%s\n", (const char *) p->lines->pdata[i]);
			if (fflush (stdout) != 0 || ferror (stdout)) {
				g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "writing standard output: %s", g_strerror (errno));
				return FALSE;
			}
		}
		p->sent += p->lines->len;
		Cursor c = { cursor, p->last };
		if (!bdb_store_write (p->cli->store, set_cursor, &c, error))
			return FALSE;
	}
}

int
cmd_publish (Cli *cli, int argc, char **argv)
{
	gboolean follow = FALSE;
	g_autofree char *redis = NULL, *stream = NULL, *name = NULL;
	GOptionEntry entries[] = {
		{ "redis", 0, 0, G_OPTION_ARG_STRING, &redis, "Add the changes to a Redis stream at URL (redis://HOST:PORT or unix:PATH)", "URL" },
		{ "stream", 0, 0, G_OPTION_ARG_STRING, &stream, "The stream's name (with --redis)", "NAME" },
		{ "name", 0, 0, G_OPTION_ARG_STRING, &name,
		  "The destination's name, for its cursor (default: the stream's, or 'stdout')", "NAME" },
		{ "follow", 'f', 0, G_OPTION_ARG_NONE, &follow, "Keep publishing changes as they commit", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli,
	                                "Sends the changes this database made itself (not those it took with\n"
	                                "apply), from where this destination's cursor stands; the cursor moves after\n"
	                                "they are sent.  Without --redis the changes go to standard output, one JSON\n"
	                                "object per line (events --json), for kcat or any other log's client.\n"
	                                "\n"
	                                "Examples:\n"
	                                "  bouncedb publish --redis redis://127.0.0.1:6379 --stream bounces-mx1 --follow\n"
	                                "  bouncedb publish --name kafka --follow | kcat -P -b broker:9092 -t bounces",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc > 1 || (redis && !stream)) {
		cli_warn (cli, argc > 1 ? "takes no arguments" : "--redis needs --stream");
		return EX_USAGE;
	}
	if ((status = cli_open (cli)) != EX_OK)
		return status;
	g_autofree char *cursor = g_strconcat ("publish/", name ? name : stream ? stream : "stdout", NULL);
	Publish p = { cli, bdb_store_id (cli->store), g_ptr_array_new_with_free_func (free), 0, 0 };
	GError *error = NULL;
	CliWatch w = { -1 };
	if (follow)
		cli_watch_init (&w, cli_db_path (cli));
	for (;;) {
		if (!publish_pending (&p, cursor, redis, stream, &error)) {
			status = cli_fail (cli, redis ? redis : "standard output", &error);
			break;
		}
		if (!follow || !cli_watch_wait (&w))
			break;
	}
	cli_watch_clear (&w);
	g_ptr_array_unref (p.lines);
	if (!follow && redis)
		fprintf (stderr, "bouncedb: publish: %" G_GUINT64_FORMAT " changes sent\n", p.sent);
	return cli_finish (cli, status);
}

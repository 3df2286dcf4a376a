/* bouncedb events: the change feed, in order, and as it grows.
 *
 * Every change the database commits (an address suppressed, a soft bounce
 * counted, a removal, a sender-side incident...) has a sequence number;
 * a list manager or a script remembers the last one it took and asks for
 * what came after (`--since SEQ`).  With --follow it keeps printing as
 * new changes commit: woken by inotify on the database file, with a poll
 * every few seconds in case a change went unnoticed (another file system,
 * a missed event), never a busy loop.
 */
#include <errno.h>
#include <string.h>
#include "cli.h"

typedef struct {
	Cli *cli;
	gboolean json;
	guint64 last;       /* the last sequence number printed */
	guint64 printed;
} Events;

static const char *
change_reason (const BdbChange *c)
{
	if (c->suppression)
		return c->suppression->reason;
	if (c->soft)
		return c->soft->last_reason[0] ? c->soft->last_reason : NULL;
	return NULL;
}

void
cli_change_members (CliJson *b, const BdbChange *c, const char *database)
{
	cli_json_member_string (b, "database", database);
	cli_json_member_int (b, "seq", (gint64) c->seq);
	g_autofree char *when = cli_format_time (c->time);
	cli_json_member_string (b, "time", when);
	cli_json_member_string (b, "change", c->change);
	cli_json_member_string (b, "table", c->table);
	gboolean domain = strcmp (c->table, "domain") == 0;
	gboolean tally = strcmp (c->table, "tally") == 0;
	cli_json_member_string (b, domain ? "domain" : tally ? "name" : "address", c->key);
	cli_json_member_string (b, "reason", change_reason (c));
	cli_json_member_string (b, "disposition", c->disposition);
	cli_json_member_string (b, "rule", c->suppression ? c->suppression->rule : NULL);
	cli_json_member_string (b, "report_message_id", c->report_message_id);
	cli_json_member_string (b, "campaign", c->campaign);
	cli_json_member_string (b, "list_id", c->list_id);
	cli_json_member_string (b, "origin", c->origin);
	if (c->origin) {
		cli_json_member_int (b, "origin_seq", (gint64) c->origin_seq);
	} else {
		cli_json_member (b, "origin_seq");
		cli_json_null (b);
	}
	if (c->has_fingerprint) {
		char hex[65];
		for (int i = 0; i < 32; i++)
			g_snprintf (hex + 2 * i, 3, "%02x", c->fingerprint[i]);
		cli_json_member_string (b, "fingerprint", hex);
	} else {
		cli_json_member (b, "fingerprint");
		cli_json_null (b);
	}
	/* The new state, as export writes it (null once deleted). */
	cli_json_member (b, "state");
	if (c->suppression) {
		cli_json_begin_object (b);
		cli_suppression_members (b, c->suppression, domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS);
		cli_json_end_object (b);
	} else if (c->soft) {
		cli_json_begin_object (b);
		cli_soft_members (b, c->key, c->soft);
		cli_json_end_object (b);
	} else if (tally && !c->deleted) {
		cli_json_begin_object (b);
		cli_json_member_int (b, "count", (gint64) c->tally_count);
		cli_json_member_int (b, "last", c->tally_last);
		cli_json_end_object (b);
	} else {
		cli_json_null (b);
	}
}

static gboolean
print_change (const BdbChange *c, gpointer data)
{
	Events *ev = data;
	ev->last = c->seq;
	ev->printed++;
	if (ev->json) {
		g_autoptr (CliJson) b = cli_json_new ();
		cli_json_begin_object (b);
		cli_change_members (b, c, bdb_store_id (ev->cli->store));
		cli_json_end_object (b);
		cli_json_print (b, stdout);
	} else {
		g_autofree char *when = cli_format_time (c->time);
		g_autofree char *key = cli_safe (c->key);
		g_autofree char *reason = cli_safe (change_reason (c) ? change_reason (c) : "-");
		printf ("%" G_GUINT64_FORMAT "\t%s\t%-10s %-40s %-16s %s\n", c->seq, when, c->change, key, reason,
		        c->disposition ? c->disposition : "-");
	}
	return !ferror (stdout);
}

/* Print what committed after ev->last, in a new read transaction. */
static int
print_new (Events *ev, BdbTxn *txn)
{
	GError *error = NULL;
	if (!bdb_txn_foreach_change (txn, ev->last, print_change, ev, &error))
		return cli_fail (ev->cli, cli_db_path (ev->cli), &error);
	if (fflush (stdout) != 0 || ferror (stdout))
		return errno == EPIPE ? EX_OK : cli_finish (ev->cli, EX_IOERR);
	return EX_OK;
}

static int
follow (Events *ev)
{
	CliWatch w;
	cli_watch_init (&w, cli_db_path (ev->cli));
	int status = EX_OK;
	while (status == EX_OK && cli_watch_wait (&w)) {
		GError *error = NULL;
		BdbTxn *txn = bdb_store_read (ev->cli->store, &error);
		if (!txn) {
			status = cli_fail (ev->cli, cli_db_path (ev->cli), &error);
			break;
		}
		status = print_new (ev, txn);
		bdb_txn_abort (txn);
		if (ferror (stdout))
			break;  /* the reader went away */
	}
	cli_watch_clear (&w);
	return status;
}

int
cmd_events (Cli *cli, int argc, char **argv)
{
	gint64 since = 0;
	gboolean json = FALSE, follow_opt = FALSE;
	GOptionEntry entries[] = {
		{ "since", 0, 0, G_OPTION_ARG_INT64, &since, "Only changes after this sequence number", "SEQ" },
		{ "follow", 'f', 0, G_OPTION_ARG_NONE, &follow_opt, "Keep printing changes as they commit", NULL },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "One JSON object per change (JSON Lines)", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli,
	                                "Each change has a sequence number, one more than the last, in the order\n"
	                                "changes committed: remember the last one you took and ask for what came\n"
	                                "after.  The JSON of a change carries the new state of the address (as\n"
	                                "export writes it), the report's Message-ID and the campaign and List-Id\n"
	                                "of the returned message.\n"
	                                "\n"
	                                "Examples:\n"
	                                "  bouncedb events --since 1200 --json\n"
	                                "  bouncedb events --follow --json | my-list-manager-sync",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc > 1 || since < 0) {
		cli_warn (cli, "takes no arguments; --since takes a sequence number");
		return EX_USAGE;
	}
	if ((status = cli_open (cli)) != EX_OK)
		return status;
	Events ev = { cli, json, (guint64) since, 0 };
	status = print_new (&ev, cli->txn);
	/* The snapshot was only for the first batch: a follower must see
	 * every later commit, and keeps no transaction open while it waits. */
	g_clear_pointer (&cli->txn, bdb_txn_abort);
	if (status == EX_OK && follow_opt)
		status = follow (&ev);
	return cli_finish (cli, status);
}

/* bouncedb show: everything the database knows about one address (or
 * domain): its suppression with the evidence, the domain's, the soft
 * counter and the recent events. */
#include <string.h>
#include "cli.h"

typedef struct {
	guint n;
} EventOut;

static gboolean
print_event (const char *address, const BdbEvent *e, gpointer data)
{
	EventOut *o = data;
	o->n++;
	g_autofree char *t = cli_format_time (e->time);
	g_autofree char *diag = cli_safe (e->diagnostic ? e->diagnostic : "");
	printf ("  %s  %-9s %-14s %-7s %s\n", t, e->disposition, *e->reason ? e->reason : "-",
	        *e->status ? e->status : "-", diag);
	return TRUE;
}

static void
text_suppression (const char *title, const BdbSuppression *s, gint64 now)
{
	const char *state = s->state == BDB_STATE_REMOVED ? "removed (remembered)"
	                  : bdb_suppression_active (s, now) ? "suppressed" : "expired";
	printf ("%s\n", title);
#define LINE(label, value) do { if ((value) && *(value)) { g_autofree char *v_ = cli_safe (value); printf ("  %-18s %s\n", label, v_); } } while (0)
	LINE ("state", state);
	LINE ("kind", bdb_suppression_kind_name (s->kind));
	LINE ("reason", s->reason);
	LINE ("source", s->source);
	LINE ("status", s->status);
	LINE ("reply code", s->reply_code);
	LINE ("diagnostic", s->diagnostic);
	LINE ("decided by rule", s->rule);
	LINE ("reporting mta", s->reporting_mta);
	LINE ("remote mta", s->remote_mta);
	LINE ("report message-id", s->report_message_id);
	LINE ("original msg-id", s->original_message_id);
	LINE ("note", s->note);
	g_autofree char *first = cli_format_time (s->first_seen);
	g_autofree char *last = cli_format_time (s->last_seen);
	g_autofree char *exp = s->expires ? cli_format_time (s->expires) : g_strdup ("never");
	g_autofree char *count = g_strdup_printf ("%u", s->count);
	LINE ("first seen", first);
	LINE ("last seen", last);
	LINE ("count", count);
	LINE ("expires", exp);
	if (s->removed_at) {
		g_autofree char *rm = cli_format_time (s->removed_at);
		LINE ("removed at", rm);
	}
#undef LINE
}

int
cmd_show (Cli *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Example:\n  bouncedb show alice@example.com\n  bouncedb show --json example.com",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc != 2) {
		cli_warn (cli, "give one ADDRESS or DOMAIN");
		return EX_USAGE;
	}
	GError *error = NULL;
	gboolean is_domain;
	g_autofree char *key = cli_show_key (cli->input_flags, argv[1], &is_domain, &error);
	if (!key) {
		g_autofree char *what = cli_safe (argv[1]);
		cli_warn (cli, "'%s' is not a valid address or domain: %s", what, error->message);
		g_error_free (error);
		return EX_DATAERR;
	}
	if ((status = cli_open (cli)) != EX_OK)
		return status;
	BdbTxn *txn = cli->txn;
	gint64 now = cli_now ();
	CliShow show;
	if (!cli_show_load (txn, key, is_domain, now, &show, &error))
		return cli_fail (cli, key, &error);

	if (json) {
		g_autoptr (CliJson) b = cli_json_new ();
		if (!cli_show_json (b, txn, &show, &error)) {
			cli_error (cli, key, error);
			g_clear_error (&error);
		}
		cli_json_print (b, stdout);
	} else {
		g_autofree char *shown = cli_safe (key);
		printf ("%s: %s\n", shown, show.suppressed ? "SUPPRESSED" : "may be mailed");
		if (show.own)
			text_suppression (is_domain ? "domain suppression:" : "suppression:", show.own, now);
		if (show.dom)
			text_suppression ("domain suppression:", show.dom, now);
		if (show.have_soft) {
			printf ("soft-bounce counter: %u day(s)", show.soft.n_days);
			for (guint i = 0; i < show.soft.n_days; i++) {
				g_autofree char *d = cli_format_time ((gint64) show.soft.days[i] * 86400);
				d[10] = '\0';
				printf ("%s%s", i ? ", " : ": ", d);
			}
			printf (" (last: %s)\n", show.soft.last_reason);
		}
		if (!is_domain) {
			printf ("recent events:\n");
			EventOut o = { 0 };
			if (!bdb_txn_foreach_event (txn, key, print_event, &o, &error)) {
				cli_error (cli, key, error);
				g_clear_error (&error);
			}
			if (!o.n)
				printf ("  none\n");
		}
	}
	cli_show_clear (&show);
	return cli_finish (cli, status);
}

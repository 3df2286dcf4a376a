/* bouncedb show: everything the database knows about one address (or
 * domain): its suppression with the evidence, the domain's, the soft
 * counter and the recent events. */
#include <string.h>
#include "cli.h"

typedef struct {
	CliJson *b;   /* NULL: text */
	guint n;
} EventOut;

static gboolean
print_event (const char *address, const BdbEvent *e, gpointer data)
{
	EventOut *o = data;
	o->n++;
	if (o->b) {
		CliJson *b = o->b;
		cli_json_begin_object (b);
		g_autofree char *t = cli_format_time (e->time);
		cli_json_member_string (b, "time", t);
#define STR(k, v) do { cli_json_member (b, k); cli_json_string (b, (v) ? (v) : ""); } while (0)
		STR ("disposition", e->disposition);
		STR ("reason", e->reason);
		STR ("kind", e->kind);
		STR ("status", e->status);
		STR ("reply_code", e->reply_code);
		STR ("rule", e->rule);
		STR ("diagnostic", e->diagnostic);
		STR ("report_message_id", e->report_message_id);
#undef STR
		cli_json_end_object (b);
		return TRUE;
	}
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
		{ NULL },
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
	gboolean is_domain = strchr (argv[1], '@') == NULL;
	g_autofree char *key = NULL;
	if (is_domain) {
		g_autofree char *probe = g_strconcat ("x@", argv[1], NULL);
		g_autofree char *norm = cli_normalize_input (cli, probe, &error);
		key = norm ? g_strdup (bdb_address_domain (norm)) : NULL;
	} else {
		key = cli_normalize_input (cli, argv[1], &error);
	}
	if (!key) {
		g_autofree char *what = cli_safe (argv[1]);
		cli_warn (cli, "'%s' is not a valid address or domain: %s", what, error->message);
		g_error_free (error);
		return EX_DATAERR;
	}
	if ((status = cli_open (cli)) != EX_OK)
		return status;
	BdbTxn *txn = cli->txn;
	g_autoptr (BdbSuppression) own = NULL, dom = NULL;
	BdbSoftCounter soft;
	gboolean have_soft = FALSE;
	const char *domain = is_domain ? key : bdb_address_domain (key);
	if (!bdb_txn_get_suppression (txn, is_domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS, key, &own, &error) ||
	    (!is_domain && !bdb_txn_get_suppression (txn, BDB_TABLE_DOMAIN, domain, &dom, &error)) ||
	    (!is_domain && !bdb_txn_get_soft (txn, key, &soft, &have_soft, &error))) {
		return cli_fail (cli, key, &error);
	}
	gint64 now = cli_now ();
	gboolean suppressed = (own && bdb_suppression_active (own, now)) || (dom && bdb_suppression_active (dom, now));

	if (json) {
		g_autoptr (CliJson) b = cli_json_new ();
		cli_json_begin_object (b);
		cli_json_member_string (b, is_domain ? "domain" : "address", key);
		cli_json_member_string (b, "state", suppressed ? "suppressed" : "ok");
		cli_json_member (b, "suppression");
		if (own) {
			cli_json_begin_object (b);
			cli_suppression_members (b, own, is_domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS);
			cli_local_members (b, own->seq, own->changed_at);
			cli_json_end_object (b);
		} else {
			cli_json_null (b);
		}
		if (!is_domain) {
			cli_json_member (b, "domain_suppression");
			if (dom) {
				cli_json_begin_object (b);
				cli_suppression_members (b, dom, BDB_TABLE_DOMAIN);
				cli_local_members (b, dom->seq, dom->changed_at);
				cli_json_end_object (b);
			} else {
				cli_json_null (b);
			}
			cli_json_member (b, "soft_counter");
			if (have_soft) {
				cli_json_begin_object (b);
				cli_json_member (b, "days");
				cli_json_begin_array (b);
				for (guint i = 0; i < soft.n_days; i++) {
					g_autofree char *d = cli_format_time ((gint64) soft.days[i] * 86400);
					d[10] = '\0';
					cli_json_string (b, d);
				}
				cli_json_end_array (b);
				cli_json_member_string (b, "last_reason", soft.last_reason);
				g_autofree char *ls = cli_format_time (soft.last_seen);
				cli_json_member_string (b, "last_seen", ls);
				cli_local_members (b, soft.seq, soft.changed_at);
				cli_json_end_object (b);
			} else {
				cli_json_null (b);
			}
			cli_json_member (b, "events");
			cli_json_begin_array (b);
			EventOut o = { b, 0 };
			if (!bdb_txn_foreach_event (txn, key, print_event, &o, &error)) {
				cli_error (cli, key, error);
				g_clear_error (&error);
			}
			cli_json_end_array (b);
		}
		cli_json_end_object (b);
		cli_json_print (b, stdout);
	} else {
		g_autofree char *shown = cli_safe (key);
		printf ("%s: %s\n", shown, suppressed ? "SUPPRESSED" : "may be mailed");
		if (own)
			text_suppression (is_domain ? "domain suppression:" : "suppression:", own, now);
		if (dom)
			text_suppression ("domain suppression:", dom, now);
		if (have_soft) {
			printf ("soft-bounce counter: %u day(s)", soft.n_days);
			for (guint i = 0; i < soft.n_days; i++) {
				g_autofree char *d = cli_format_time ((gint64) soft.days[i] * 86400);
				d[10] = '\0';
				printf ("%s%s", i ? ", " : ": ", d);
			}
			printf (" (last: %s)\n", soft.last_reason);
		}
		if (!is_domain) {
			printf ("recent events:\n");
			EventOut o = { NULL, 0 };
			if (!bdb_txn_foreach_event (txn, key, print_event, &o, &error)) {
				cli_error (cli, key, error);
				g_clear_error (&error);
			}
			if (!o.n)
				printf ("  none\n");
		}
	}
	return cli_finish (cli, status);
}

/* bouncedb show: everything the database knows about one address (or
 * domain): its suppression with the evidence, the domain's, the soft
 * counter and the recent events. */
#include <string.h>
#include "cli.h"

typedef struct {
	BdbJson *b;   /* NULL: text */
	guint n;
} EventOut;

static gboolean
print_event (const char *address, const BdbEvent *e, gpointer data)
{
	EventOut *o = data;
	o->n++;
	if (o->b) {
		BdbJson *b = o->b;
		bdb_json_begin_object (b);
		g_autofree char *t = bdb_cli_format_time (e->time);
		bdb_json_member_string (b, "time", t);
#define STR(k, v) do { bdb_json_member (b, k); bdb_json_string (b, (v) ? (v) : ""); } while (0)
		STR ("disposition", e->disposition);
		STR ("reason", e->reason);
		STR ("kind", e->kind);
		STR ("status", e->status);
		STR ("reply_code", e->reply_code);
		STR ("rule", e->rule);
		STR ("diagnostic", e->diagnostic);
		STR ("report_message_id", e->report_message_id);
#undef STR
		bdb_json_end_object (b);
		return TRUE;
	}
	g_autofree char *t = bdb_cli_format_time (e->time);
	g_autofree char *diag = bdb_cli_safe (e->diagnostic ? e->diagnostic : "");
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
#define LINE(label, value) do { if ((value) && *(value)) { g_autofree char *v_ = bdb_cli_safe (value); printf ("  %-18s %s\n", label, v_); } } while (0)
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
	g_autofree char *first = bdb_cli_format_time (s->first_seen);
	g_autofree char *last = bdb_cli_format_time (s->last_seen);
	g_autofree char *exp = s->expires ? bdb_cli_format_time (s->expires) : g_strdup ("never");
	g_autofree char *count = g_strdup_printf ("%u", s->count);
	LINE ("first seen", first);
	LINE ("last seen", last);
	LINE ("count", count);
	LINE ("expires", exp);
	if (s->removed_at) {
		g_autofree char *rm = bdb_cli_format_time (s->removed_at);
		LINE ("removed at", rm);
	}
#undef LINE
}

int
bdb_cmd_show (BdbCli *cli, int argc, char **argv)
{
	g_autofree char *db_opt = NULL;
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "db", 'd', 0, G_OPTION_ARG_FILENAME, &db_opt, "Database directory", "DIR" },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
		{ NULL },
	};
	if (!bdb_cli_parse_options (cli, "ADDRESS | DOMAIN", "Show everything known about an address or a domain.",
	                            "Example:\n  bouncedb show alice@example.com\n  bouncedb show --json example.com",
	                            entries, &argc, &argv))
		return EX_USAGE;
	if (argc != 2) {
		bdb_cli_warn (cli, "give one ADDRESS or DOMAIN");
		return EX_USAGE;
	}
	GError *error = NULL;
	gboolean is_domain = strchr (argv[1], '@') == NULL;
	g_autofree char *key = NULL;
	if (is_domain) {
		g_autofree char *probe = g_strconcat ("x@", argv[1], NULL);
		g_autofree char *norm = bdb_cli_normalize_input (cli, probe, &error);
		key = norm ? g_strdup (bdb_address_domain (norm)) : NULL;
	} else {
		key = bdb_cli_normalize_input (cli, argv[1], &error);
	}
	if (!key) {
		g_autofree char *what = bdb_cli_safe (argv[1]);
		bdb_cli_warn (cli, "'%s' is not a valid address or domain: %s", what, error->message);
		g_error_free (error);
		return EX_DATAERR;
	}
	int status = EX_OK;
	g_autoptr (BdbStore) store = bdb_cli_open_for_reading (cli, db_opt, NULL, &status);
	if (!store)
		return status;
	BdbTxn *txn = bdb_store_read (store, &error);
	g_autoptr (BdbSuppression) own = NULL, dom = NULL;
	BdbSoftCounter soft;
	gboolean have_soft = FALSE;
	const char *domain = is_domain ? key : bdb_address_domain (key);
	if (!txn ||
	    !bdb_txn_get_suppression (txn, is_domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS, key, &own, &error) ||
	    (!is_domain && !bdb_txn_get_suppression (txn, BDB_TABLE_DOMAIN, domain, &dom, &error)) ||
	    (!is_domain && !bdb_txn_get_soft (txn, key, &soft, &have_soft, &error))) {
		bdb_cli_error (cli, key, error);
		status = bdb_exit_code (error);
		g_error_free (error);
		bdb_txn_abort (txn);
		return status;
	}
	gint64 now = bdb_cli_now ();
	gboolean suppressed = (own && bdb_suppression_active (own, now)) || (dom && bdb_suppression_active (dom, now));

	if (json) {
		g_autoptr (BdbJson) b = bdb_json_new ();
		bdb_json_begin_object (b);
		bdb_json_member_string (b, is_domain ? "domain" : "address", key);
		bdb_json_member_string (b, "state", suppressed ? "suppressed" : "ok");
		bdb_json_member (b, "suppression");
		if (own) {
			bdb_json_begin_object (b);
			bdb_cli_suppression_members (b, own, is_domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS);
			bdb_json_end_object (b);
		} else {
			bdb_json_null (b);
		}
		if (!is_domain) {
			bdb_json_member (b, "domain_suppression");
			if (dom) {
				bdb_json_begin_object (b);
				bdb_cli_suppression_members (b, dom, BDB_TABLE_DOMAIN);
				bdb_json_end_object (b);
			} else {
				bdb_json_null (b);
			}
			bdb_json_member (b, "soft_counter");
			if (have_soft) {
				bdb_json_begin_object (b);
				bdb_json_member (b, "days");
				bdb_json_begin_array (b);
				for (guint i = 0; i < soft.n_days; i++) {
					g_autofree char *d = bdb_cli_format_time ((gint64) soft.days[i] * 86400);
					d[10] = '\0';
					bdb_json_string (b, d);
				}
				bdb_json_end_array (b);
				bdb_json_member_string (b, "last_reason", soft.last_reason);
				g_autofree char *ls = bdb_cli_format_time (soft.last_seen);
				bdb_json_member_string (b, "last_seen", ls);
				bdb_json_end_object (b);
			} else {
				bdb_json_null (b);
			}
			bdb_json_member (b, "events");
			bdb_json_begin_array (b);
			EventOut o = { b, 0 };
			if (!bdb_txn_foreach_event (txn, key, print_event, &o, &error)) {
				bdb_cli_error (cli, key, error);
				g_clear_error (&error);
			}
			bdb_json_end_array (b);
		}
		bdb_json_end_object (b);
		bdb_json_print (b, stdout);
	} else {
		g_autofree char *shown = bdb_cli_safe (key);
		printf ("%s: %s\n", shown, suppressed ? "SUPPRESSED" : "may be mailed");
		if (own)
			text_suppression (is_domain ? "domain suppression:" : "suppression:", own, now);
		if (dom)
			text_suppression ("domain suppression:", dom, now);
		if (have_soft) {
			printf ("soft-bounce counter: %u day(s)", soft.n_days);
			for (guint i = 0; i < soft.n_days; i++) {
				g_autofree char *d = bdb_cli_format_time ((gint64) soft.days[i] * 86400);
				d[10] = '\0';
				printf ("%s%s", i ? ", " : ": ", d);
			}
			printf (" (last: %s)\n", soft.last_reason);
		}
		if (!is_domain) {
			printf ("recent events:\n");
			EventOut o = { NULL, 0 };
			if (!bdb_txn_foreach_event (txn, key, print_event, &o, &error)) {
				bdb_cli_error (cli, key, error);
				g_clear_error (&error);
			}
			if (!o.n)
				printf ("  none\n");
		}
	}
	bdb_txn_abort (txn);
	return bdb_cli_finish (cli, status);
}

/* bouncedb stats: what the bounces say, over a period.
 *
 * Counts come from the event history (a bounded history per address, so
 * long periods are a sample: see bouncedb(1)) and the suppression tables.
 * The sender-side table is the "is it us?" view: our own problems
 * (blocklists, authentication, reputation) per receiving domain.
 */
#include <string.h>
#include "cli.h"

typedef struct {
	gint64 since;
	guint64 events;
	GHashTable *by_reason, *by_disposition, *by_status, *by_diag, *sender;
	GHashTable *domains;   /* domain -> DomainCount */
	guint64 supp_by_kind[8];
	guint64 active, removed, domain_supp;
	gint64 now;
} Stats;

typedef struct {
	guint64 total, hard, soft, sender;
} DomainCount;

static void
bump (GHashTable *t, const char *key)
{
	gpointer v = g_hash_table_lookup (t, key);
	g_hash_table_replace (t, g_strdup (key), GSIZE_TO_POINTER (GPOINTER_TO_SIZE (v) + 1));
}

/* A diagnostic with addresses and numbers blurred, so that the same
 * rejection for many recipients counts as one line. */
static char *
diag_shape (const char *d)
{
	GString *s = g_string_new (NULL);
	for (const char *p = d; *p && s->len < 100; p++) {
		if (*p == '<' && strchr (p, '>') && memchr (p, '@', (gsize) (strchr (p, '>') - p))) {
			g_string_append (s, "<…>");
			p = strchr (p, '>');
		} else if (g_ascii_isdigit (*p) && s->len > 8) {
			if (!s->len || s->str[s->len - 1] != '#')
				g_string_append_c (s, '#');
		} else {
			g_string_append_c (s, *p);
		}
	}
	return g_string_free (s, FALSE);
}

static gboolean
count_event (const char *address, const BdbEvent *e, gpointer data)
{
	Stats *st = data;
	if (e->time < st->since)
		return TRUE;
	st->events++;
	bump (st->by_reason, *e->reason ? e->reason : "-");
	bump (st->by_disposition, *e->disposition ? e->disposition : "-");
	if (*e->status)
		bump (st->by_status, e->status);
	if (e->diagnostic && *e->diagnostic) {
		g_autofree char *shape = diag_shape (e->diagnostic);
		bump (st->by_diag, shape);
	}
	const char *domain = bdb_address_domain (address);
	if (!domain)
		return TRUE;
	DomainCount *dc = g_hash_table_lookup (st->domains, domain);
	if (!dc) {
		dc = g_new0 (DomainCount, 1);
		g_hash_table_insert (st->domains, g_strdup (domain), dc);
	}
	dc->total++;
	if (strcmp (e->disposition, "suppress") == 0 || strcmp (e->disposition, "complaint") == 0)
		dc->hard++;
	else if (strcmp (e->disposition, "soft") == 0)
		dc->soft++;
	else if (strcmp (e->disposition, "sender") == 0) {
		dc->sender++;
		g_autofree char *k = g_strdup_printf ("%s %s", domain, e->reason);
		bump (st->sender, k);
	}
	return TRUE;
}

static gboolean
count_supp (const BdbSuppression *s, gpointer data)
{
	Stats *st = data;
	if (s->state == BDB_STATE_REMOVED) {
		st->removed++;
		return TRUE;
	}
	if (!bdb_suppression_active (s, st->now))
		return TRUE;
	st->active++;
	if ((guint) s->kind < G_N_ELEMENTS (st->supp_by_kind))
		st->supp_by_kind[s->kind]++;
	return TRUE;
}

static gboolean
count_domain (const BdbSuppression *s, gpointer data)
{
	Stats *st = data;
	if (bdb_suppression_active (s, st->now))
		st->domain_supp++;
	return TRUE;
}

typedef struct {
	const char *key;
	guint64 n;
} Pair;

static gint
by_count (gconstpointer a, gconstpointer b)
{
	const Pair *x = a, *y = b;
	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp (x->key, y->key);
}

static GArray *
sorted (GHashTable *t)
{
	GArray *a = g_array_new (FALSE, FALSE, sizeof (Pair));
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init (&it, t);
	while (g_hash_table_iter_next (&it, &k, &v)) {
		Pair p = { k, GPOINTER_TO_SIZE (v) };
		g_array_append_val (a, p);
	}
	g_array_sort (a, by_count);
	return a;
}

static void
emit_table (CliJson *b, const char *title, const char *key, GHashTable *t, guint top)
{
	g_autoptr (GArray) a = sorted (t);
	if (b) {
		cli_json_member (b, key);
		cli_json_begin_array (b);
		for (guint i = 0; i < a->len && i < top; i++) {
			Pair *p = &g_array_index (a, Pair, i);
			cli_json_begin_object (b);
			cli_json_member_string (b, "key", p->key);
			cli_json_member_int (b, "count", (gint64) p->n);
			cli_json_end_object (b);
		}
		cli_json_end_array (b);
		return;
	}
	printf ("\n%s:\n", title);
	if (!a->len)
		printf ("  none\n");
	for (guint i = 0; i < a->len && i < top; i++) {
		Pair *p = &g_array_index (a, Pair, i);
		g_autofree char *k = cli_safe (p->key);
		printf ("  %8" G_GUINT64_FORMAT "  %s\n", p->n, k);
	}
}

typedef struct {
	const char *domain;
	DomainCount *c;
} DomainRow;

static gint
domain_by_total (gconstpointer a, gconstpointer b)
{
	const DomainRow *x = a, *y = b;
	return x->c->total < y->c->total ? 1 : x->c->total > y->c->total ? -1 : strcmp (x->domain, y->domain);
}

int
cmd_stats (Cli *cli, int argc, char **argv)
{
	g_autofree char *since = NULL;
	gboolean json = FALSE;
	gint top = 10;
	GOptionEntry entries[] = {
		{ "since", 0, 0, G_OPTION_ARG_STRING, &since, "Only events on or after T (2026-11-01, 30d, @SECONDS)", "T" },
		{ "top", 0, 0, G_OPTION_ARG_INT, &top, "Rows per table (default 10)", "N" },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "One JSON object", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Examples:\n  bouncedb stats --since 7d\n  bouncedb stats --json --top 20",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	Stats st = { 0 };
	st.now = cli_now ();
	if (since && !cli_parse_time (since, st.now, -1, &st.since)) {
		cli_warn (cli, "bad time '%s'", since);
		return EX_USAGE;
	}
	if (top <= 0)
		top = 10;
	if ((status = cli_open (cli)) != EX_OK)
		return status;
	st.by_reason = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	st.by_disposition = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	st.by_status = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	st.by_diag = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	st.sender = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	st.domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
	GError *error = NULL;
	BdbTxn *txn = cli->txn;
	gboolean ok = bdb_txn_foreach_event (txn, NULL, count_event, &st, &error) &&
	              bdb_txn_foreach_suppression (txn, BDB_TABLE_ADDRESS, NULL, count_supp, &st, &error) &&
	              bdb_txn_foreach_suppression (txn, BDB_TABLE_DOMAIN, NULL, count_domain, &st, &error);
	if (!ok) {
		status = cli_fail (cli, cli_db_path (cli), &error);
	} else {
		g_autoptr (GArray) rows = g_array_new (FALSE, FALSE, sizeof (DomainRow));
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init (&it, st.domains);
		while (g_hash_table_iter_next (&it, &k, &v)) {
			DomainRow r = { k, v };
			g_array_append_val (rows, r);
		}
		g_array_sort (rows, domain_by_total);
		g_autoptr (CliJson) b = json ? cli_json_new () : NULL;
		if (b) {
			cli_json_begin_object (b);
			cli_json_member_int (b, "events", (gint64) st.events);
			cli_json_member (b, "suppressed");
			cli_json_begin_object (b);
			cli_json_member_int (b, "addresses", (gint64) st.active);
			cli_json_member_int (b, "domains", (gint64) st.domain_supp);
			cli_json_member_int (b, "removed", (gint64) st.removed);
			for (guint i = 1; i < G_N_ELEMENTS (st.supp_by_kind); i++) {
				if (!st.supp_by_kind[i])
					continue;
				cli_json_member_int (b, bdb_suppression_kind_name ((BdbSuppressionKind) i), (gint64) st.supp_by_kind[i]);
			}
			cli_json_end_object (b);
		} else {
			g_autofree char *from = st.since ? cli_format_time (st.since) : g_strdup ("the start");
			printf ("events since %s: %" G_GUINT64_FORMAT "\n", from, st.events);
			printf ("suppressed now: %" G_GUINT64_FORMAT " addresses, %" G_GUINT64_FORMAT
			        " domains (%" G_GUINT64_FORMAT " removals remembered)\n",
			        st.active, st.domain_supp, st.removed);
			for (guint i = 1; i < G_N_ELEMENTS (st.supp_by_kind); i++)
				if (st.supp_by_kind[i])
					printf ("  %-10s %" G_GUINT64_FORMAT "\n",
					        bdb_suppression_kind_name ((BdbSuppressionKind) i), st.supp_by_kind[i]);
		}
		emit_table (b, "by reason", "by_reason", st.by_reason, G_MAXUINT);
		emit_table (b, "by disposition", "by_disposition", st.by_disposition, G_MAXUINT);
		if (b) {
			cli_json_member (b, "by_domain");
			cli_json_begin_array (b);
		} else {
			printf ("\nby recipient domain (hard%% = suppressed or complaint, soft%%, sender-side%%):\n");
		}
		for (guint i = 0; i < rows->len && i < (guint) top; i++) {
			DomainRow *r = &g_array_index (rows, DomainRow, i);
			double t = (double) r->c->total;
			if (b) {
				cli_json_begin_object (b);
				cli_json_member_string (b, "domain", r->domain);
#define N(name, v) do { cli_json_member (b, name); cli_json_int (b, (gint64) (v)); } while (0)
				N ("events", r->c->total);
				N ("hard", r->c->hard);
				N ("soft", r->c->soft);
				N ("sender", r->c->sender);
#undef N
				cli_json_end_object (b);
			} else {
				g_autofree char *d = cli_safe (r->domain);
				printf ("  %-32s %8" G_GUINT64_FORMAT " events  hard %5.1f%%  soft %5.1f%%  sender %5.1f%%\n",
				        d, r->c->total, 100.0 * (double) r->c->hard / t, 100.0 * (double) r->c->soft / t,
				        100.0 * (double) r->c->sender / t);
			}
		}
		if (b)
			cli_json_end_array (b);
		else if (!rows->len)
			printf ("  none\n");
		emit_table (b, "top status codes", "top_status", st.by_status, (guint) top);
		emit_table (b, "top diagnostics", "top_diagnostics", st.by_diag, (guint) top);
		emit_table (b, "sender-side incidents (receiving domain, reason)", "sender_side", st.sender, (guint) top);
		if (b) {
			cli_json_end_object (b);
			cli_json_print (b, stdout);
		}
	}
	g_hash_table_unref (st.by_reason);
	g_hash_table_unref (st.by_disposition);
	g_hash_table_unref (st.by_status);
	g_hash_table_unref (st.by_diag);
	g_hash_table_unref (st.sender);
	g_hash_table_unref (st.domains);
	return cli_finish (cli, status);
}

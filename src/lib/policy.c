/* Applying classified reports to the database: the suppression policy.
 *
 * Every decision here follows from the verdict's disposition:
 *   suppress   the address is dead: suppressed at once
 *   complaint  the recipient complained: suppressed at once
 *   soft       one soft bounce per address per day is counted; after
 *              soft_threshold of them spanning soft_span_days within
 *              soft_window_days the address is suppressed as inactive
 *   sender     our problem: tallied per receiving domain, never held
 *              against the recipient
 *   success    the address works: its soft counter is cleared
 *   delay, ignore   history only
 * Times come from the report (Last-Attempt-Date, Arrival-Date, Date) and
 * fall back to the arrival time; a report dated after its arrival is
 * forged or misconfigured and gets the arrival time.
 */
#include <string.h>
#include <bouncedb/address.h>
#include <bouncedb/error.h>
#include <bouncedb/policy.h>

#define DAY (24 * 60 * 60)

void
bdb_policy_init (BdbPolicy *p)
{
	memset (p, 0, sizeof *p);
	p->soft_threshold = 5;
	p->soft_window_days = 30;
	p->soft_span_days = 3;
	p->domain_threshold = 3;
	p->inactive_expiry = 180 * (gint64) DAY;
	p->domain_expiry = 90 * (gint64) DAY;
	p->events_per_address = 20;
	p->token_max_age_days = 7;
	/* A domain can come back to life; a mailbox that was deleted rarely
	 * does, and a complaint is forever. */
	p->expiry[BDB_REASON_HOSTUNKNOWN] = 90 * (gint64) DAY;
	p->expiry[BDB_REASON_NOTACCEPT] = 90 * (gint64) DAY;
}

static BdbAddressFlags
address_flags (const BdbPolicy *p)
{
	return p->keep_local_case ? BDB_ADDRESS_KEEP_LOCAL_CASE : 0;
}

char *
bdb_policy_record_address (const BdbPolicy *policy, const BdbRecord *record, GError **error)
{
	const char *orcpt = bdb_record_get (record, BDB_FIELD_ORIGINAL_RECIPIENT);
	if (orcpt) {
		char *a = bdb_address_normalize (orcpt, address_flags (policy), NULL);
		if (a)
			return a;
	}
	const char *rcpt = bdb_record_get (record, BDB_FIELD_RECIPIENT);
	if (!rcpt) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "record has no recipient");
		return NULL;
	}
	return bdb_address_normalize (rcpt, address_flags (policy), error);
}

static gint64
merge_expiry (gint64 a, gint64 b)
{
	return a == 0 || b == 0 ? 0 : MAX (a, b);
}

static gint64
expiry_for (const BdbPolicy *p, BdbSuppressionKind kind, BdbReason reason, gint64 t)
{
	gint64 span = kind == BDB_SUPPRESSION_INACTIVE ? p->inactive_expiry
	            : kind == BDB_SUPPRESSION_DOMAIN ? p->domain_expiry
	            : p->expiry[reason];
	return span > 0 ? t + span : 0;
}

static void
set_str (char **dst, const char *src)
{
	g_free (*dst);
	*dst = src && *src ? g_strdup (src) : NULL;
}

/* Copy a record's evidence into a suppression. */
static void
take_evidence (BdbSuppression *s, const BdbRecord *rec, const BdbVerdict *v)
{
	const BdbReport *report = bdb_record_report (rec);
	set_str (&s->reason, bdb_reason_name (v->reason));
	set_str (&s->source, bdb_report_kind (report) == BDB_KIND_ARF ? "arf" : "dsn");
	set_str (&s->status, bdb_record_get (rec, BDB_FIELD_STATUS));
	set_str (&s->reply_code, bdb_record_get (rec, BDB_FIELD_REPLY_CODE));
	set_str (&s->diagnostic, bdb_record_get (rec, BDB_FIELD_DIAGNOSTIC));
	set_str (&s->rule, v->rule ? bdb_rule_id (v->rule) : NULL);
	set_str (&s->reporting_mta, bdb_record_get (rec, BDB_FIELD_REPORTING_MTA));
	set_str (&s->remote_mta, bdb_record_get (rec, BDB_FIELD_REMOTE_MTA));
	set_str (&s->report_message_id, bdb_record_get (rec, BDB_FIELD_MESSAGE_ID));
	set_str (&s->original_message_id, bdb_record_get (rec, BDB_FIELD_ORIGINAL_MESSAGE_ID));
}

/* Is @rec at @t newer evidence than what @s holds?  Later wins; at the
 * same second the greater report Message-ID, then status, then diagnostic,
 * so that the result does not depend on the order reports are applied in
 * (concurrent ingests and sweeps apply them in any order). */
static gboolean
newer_evidence (const BdbSuppression *s, const BdbRecord *rec, gint64 t)
{
	if (t != s->last_seen)
		return t > s->last_seen;
	int c = g_strcmp0 (bdb_record_get (rec, BDB_FIELD_MESSAGE_ID), s->report_message_id);
	if (!c)
		c = g_strcmp0 (bdb_record_get (rec, BDB_FIELD_STATUS), s->status);
	if (!c)
		c = g_strcmp0 (bdb_record_get (rec, BDB_FIELD_DIAGNOSTIC), s->diagnostic);
	return c >= 0;
}

/* Suppress @key in @table on the evidence of @rec (or with @note when
 * @rec is NULL): a new entry, or one more confirmation of an existing one
 * whose evidence the newer report replaces. */
static gboolean
suppress (const BdbPolicy *p, BdbTxn *txn, BdbTable table, const char *key,
          BdbSuppressionKind kind, const BdbRecord *rec, const BdbVerdict *v, const char *note,
          gint64 t, BdbSuppression *existing, gboolean *created, GError **error)
{
	g_autoptr (BdbSuppression) fresh = NULL;
	BdbSuppression *s = existing;
	gint64 expires = expiry_for (p, kind, v->reason, t);

	*created = !existing || existing->state != BDB_STATE_SUPPRESSED;
	if (*created) {
		s = fresh = bdb_suppression_new (key);
		/* A removal is remembered across a new suppression: merged with
		 * another database's older evidence it still wins (merge.c). */
		s->removed_at = existing ? existing->removed_at : 0;
		s->kind = kind;
		s->first_seen = s->last_seen = t;
		s->count = 1;
		s->expires = expires;
		take_evidence (s, rec, v);
	} else {
		s->count++;
		s->first_seen = MIN (s->first_seen, t);
		if (newer_evidence (s, rec, t)) {
			s->last_seen = t;
			s->kind = kind;
			take_evidence (s, rec, v);
		}
		s->expires = merge_expiry (s->expires, expires);
	}
	if (note)
		set_str (&s->note, note);
	return bdb_txn_put_suppression (txn, table, s, error);
}

/* The records of one report refused as forged.  They leave one event,
 * not one each: a forged report may name a thousand addresses, and each
 * event is up to half a kilobyte (20 such reports grew a database by
 * 12 MB).  The event goes to the first address refused and names the
 * others, up to FORGED_NAMES bytes. */
#define FORGED_NAMES 320
typedef struct {
	guint n;
	char *first;                /* owned: the first address refused */
	const BdbRecord *rec;       /* its record, verdict and time */
	const BdbVerdict *v;
	gint64 t;
	GString *names;             /* the addresses refused, as far as they fit */
	guint named;
} ForgedLog;

typedef struct {
	const BdbPolicy *p;
	BdbTxn *txn;
	BdbApplyStats *stats;
	const BdbRecord *rec;
	const BdbVerdict *v;
	const char *addr;
	gint64 t;
	BdbSuppression *existing;   /* owned */
	gboolean forged;            /* no valid signed envelope sender for it */
	ForgedLog *log;
} Apply;

/* Does some envelope sender of the report carry a fresh token signed for
 * @addr?  The token names the one recipient the list sent to; nothing
 * else in the report (Original-Recipient, the text) is proof of anything. */
static gboolean
address_signed (const BdbPolicy *p, const BdbReport *report, const char *addr, gint64 arrival)
{
	gint64 today = arrival / DAY;
	for (guint i = 0; bdb_report_get_sender_candidate (report, i); i++) {
		const char *cand = bdb_report_get_sender_candidate (report, i);
		if (bdb_verify_envelope (p->verifier, cand, addr, today, p->token_max_age_days) == BDB_TOKEN_VALID)
			return TRUE;
	}
	return FALSE;
}

/* The address a record may touch when reports must be signed: the
 * address it is kept under (@addr, its Original-Recipient when it has
 * one) when the token is signed for it; else its Final-Recipient when that
 * is the signed one, since the list sent there and the Original-Recipient
 * names somebody else.  NULL when the token covers neither: the record is
 * forged.  g_free() it. */
static char *
signed_address (const BdbPolicy *p, const BdbRecord *rec, const char *addr, gint64 arrival)
{
	const BdbReport *report = bdb_record_report (rec);
	if (address_signed (p, report, addr, arrival))
		return g_strdup (addr);
	const char *rcpt = bdb_record_get (rec, BDB_FIELD_RECIPIENT);
	g_autofree char *final = rcpt ? bdb_address_normalize (rcpt, address_flags (p), NULL) : NULL;
	if (final && strcmp (final, addr) != 0 && address_signed (p, report, final, arrival))
		return g_steal_pointer (&final);
	return NULL;
}

static gboolean
apply_soft (Apply *a, GError **error)
{
	BdbSoftCounter c;
	gboolean found;
	if (!bdb_txn_get_soft (a->txn, a->addr, &c, &found, error))
		return FALSE;
	if (!found)
		memset (&c, 0, sizeof c);
	guint before = c.n_days;
	/* One more day, as a counter of one day joined with it: the same
	 * function merges counters from other databases (merge.c). */
	BdbSoftCounter one = { .n_days = 1, .days = { (guint32) (a->t / DAY) }, .last_seen = a->t };
	g_strlcpy (one.last_reason, bdb_reason_name (a->v->reason), sizeof one.last_reason);
	bdb_soft_join (&c, &one, a->p->soft_window_days ? a->p->soft_window_days : 30);
	if (c.n_days != before || !found)
		a->stats->soft++;

	gboolean inactive = a->p->soft_threshold > 0 && c.n_days >= a->p->soft_threshold &&
	                    c.days[c.n_days - 1] - c.days[0] >= a->p->soft_span_days;
	if (!inactive)
		return bdb_txn_put_soft (a->txn, a->addr, &c, error);

	g_autofree char *note = g_strdup_printf ("%u soft bounces over %u days, last: %s",
	                                         c.n_days, c.days[c.n_days - 1] - c.days[0] + 1,
	                                         c.last_reason);
	gboolean created;
	if (!suppress (a->p, a->txn, BDB_TABLE_ADDRESS, a->addr, BDB_SUPPRESSION_INACTIVE, a->rec,
	               a->v, note, a->t, a->existing, &created, error))
		return FALSE;
	if (created) {
		a->stats->suppressed++;
		a->stats->inactive++;
	}
	return bdb_txn_clear_soft (a->txn, a->addr, c.days[c.n_days - 1], error);
}

static gboolean
collect_tally (const char *name, guint64 count, gint64 last, gpointer data)
{
	g_ptr_array_add (data, g_strdup (name));
	return TRUE;
}

/* What the hostunknown tallies of one domain add up to: the distinct
 * recipients, the records, the earliest and latest time, and the
 * recipient with the latest record (the greatest name of equals). */
typedef struct {
	guint distinct;
	guint64 records;
	gint64 first, last;
	char *newest;               /* owned: its tally name */
} DomainTally;

static gboolean
sum_domain_tally (const char *name, guint64 count, gint64 first, gint64 last, gpointer data)
{
	DomainTally *d = data;
	d->first = d->distinct ? MIN (d->first, first) : first;
	d->distinct++;
	d->records += count;
	if (!d->newest || last > d->last || (last == d->last && strcmp (name, d->newest) > 0)) {
		g_free (d->newest);
		d->newest = g_strdup (name);
	}
	d->last = MAX (d->last, last);
	return TRUE;
}

/* The domain row's evidence: that of the newest recipient's own row when
 * it holds the record its tally last counted (a dead host); failing that
 * (its row holds newer evidence of another kind, or its name was too long
 * to keep), the present record's, for a new row. */
static gboolean
domain_evidence (Apply *a, BdbSuppression *s, const DomainTally *d, const char *prefix,
                 gboolean created, GError **error)
{
	const char *addr = d->newest + strlen (prefix);
	g_autoptr (BdbSuppression) row = NULL;
	if (!bdb_txn_get_suppression (a->txn, BDB_TABLE_ADDRESS, addr, &row, error))
		return FALSE;
	BdbReason r;
	if (row && row->last_seen == d->last && row->reason && bdb_reason_from_name (row->reason, &r) &&
	    (r == BDB_REASON_HOSTUNKNOWN || r == BDB_REASON_NOTACCEPT)) {
		set_str (&s->reason, row->reason);
		set_str (&s->source, row->source);
		set_str (&s->status, row->status);
		set_str (&s->reply_code, row->reply_code);
		set_str (&s->diagnostic, row->diagnostic);
		set_str (&s->rule, row->rule);
		set_str (&s->reporting_mta, row->reporting_mta);
		set_str (&s->remote_mta, row->remote_mta);
		set_str (&s->report_message_id, row->report_message_id);
		set_str (&s->original_message_id, row->original_message_id);
	} else if (created) {
		take_evidence (s, a->rec, a->v);
	}
	return TRUE;
}

/* The domain's row, from its tallies @d (see apply_domain()). */
static gboolean
domain_row (Apply *a, const char *domain, const char *prefix, guint threshold, const DomainTally *d,
            GError **error)
{
	g_autoptr (BdbSuppression) existing = NULL;
	if (!bdb_txn_get_suppression (a->txn, BDB_TABLE_DOMAIN, domain, &existing, error))
		return FALSE;
	if (existing && existing->state == BDB_STATE_REMOVED && existing->removed_at >= a->t)
		return TRUE;
	/* Once suppressed, every later record confirms it, below the
	 * threshold too (a null MX may have suppressed it alone). */
	gboolean live = existing && existing->state == BDB_STATE_SUPPRESSED;
	if (!live && d->distinct < threshold)
		return TRUE;

	g_autoptr (BdbSuppression) fresh = NULL;
	BdbSuppression *s = live ? existing : (fresh = bdb_suppression_new (domain));
	if (!live) {
		s->kind = BDB_SUPPRESSION_DOMAIN;
		s->first_seen = d->first;
		s->last_seen = d->last;
		s->expires = expiry_for (a->p, BDB_SUPPRESSION_DOMAIN, a->v->reason, d->last);
	} else {
		s->first_seen = MIN (s->first_seen, d->first);
		s->last_seen = MAX (s->last_seen, d->last);
		s->expires = merge_expiry (s->expires, expiry_for (a->p, BDB_SUPPRESSION_DOMAIN, a->v->reason, d->last));
	}
	s->count = (guint32) MIN (d->records, G_MAXUINT32);
	if (!domain_evidence (a, s, d, prefix, !live, error))
		return FALSE;
	g_autofree char *note = g_strdup_printf ("%u distinct recipients failed with %s", d->distinct,
	                                         s->reason ? s->reason : bdb_reason_name (a->v->reason));
	set_str (&s->note, note);
	if (!live)
		a->stats->domains++;
	return bdb_txn_put_suppression (a->txn, BDB_TABLE_DOMAIN, s, error);
}

/* Several distinct dead recipients at one domain (or one null MX) make
 * the domain itself suppressed.  The row is made from the domain's
 * tallies, which every such record adds to, not from the record that
 * happens to cross the threshold: its count, times, expiry and evidence
 * are then the same whatever order the reports arrive in. */
static gboolean
apply_domain (Apply *a, GError **error)
{
	const char *domain = bdb_address_domain (a->addr);
	if (!domain || a->p->domain_threshold == 0)
		return TRUE;
	/* A null MX speaks for the whole domain at once, unless reports must
	 * be signed: a token vouches for one recipient, not for a domain. */
	guint threshold = a->v->reason == BDB_REASON_NOTACCEPT && !a->p->verifier ? 1 : a->p->domain_threshold;
	g_autofree char *name = g_strdup_printf ("hostunknown|%s|%s", domain, a->addr);
	if (!bdb_txn_tally_add (a->txn, name, 1, a->t, error))
		return FALSE;
	g_autofree char *prefix = g_strdup_printf ("hostunknown|%s|", domain);
	DomainTally d = { 0 };
	gboolean ok = bdb_txn_foreach_tally_span (a->txn, prefix, sum_domain_tally, &d, error) &&
	              domain_row (a, domain, prefix, threshold, &d, error);
	g_free (d.newest);
	return ok;
}

/* The event a record leaves in the history of its address: what the
 * verdict was, and the evidence.  The strings are borrowed from the
 * record and the rules. */
static void
record_event (BdbEvent *e, const BdbRecord *rec, const BdbVerdict *v, gint64 t)
{
	memset (e, 0, sizeof *e);
	e->time = t;
	g_strlcpy (e->disposition, bdb_disposition_name (v->disposition), sizeof e->disposition);
	g_strlcpy (e->reason, bdb_reason_name (v->reason), sizeof e->reason);
	const char *kind = bdb_record_get (rec, BDB_FIELD_KIND);
	g_strlcpy (e->kind, kind ? kind : "dsn", sizeof e->kind);
	const char *status = bdb_record_get (rec, BDB_FIELD_STATUS);
	g_strlcpy (e->status, status ? status : "", sizeof e->status);
	const char *reply = bdb_record_get (rec, BDB_FIELD_REPLY_CODE);
	g_strlcpy (e->reply_code, reply ? reply : "", sizeof e->reply_code);
	e->rule = v->rule ? bdb_rule_id (v->rule) : NULL;
	e->diagnostic = bdb_record_get (rec, BDB_FIELD_DIAGNOSTIC);
	e->report_message_id = bdb_record_get (rec, BDB_FIELD_MESSAGE_ID);
}

static void
forged_note (ForgedLog *log, const Apply *a)
{
	if (log->n++ == 0) {
		log->first = g_strdup (a->addr);
		log->rec = a->rec;
		log->v = a->v;
		log->t = a->t;
		log->names = g_string_new (a->addr);
		log->named = 1;
	} else if (log->names->len + 2 + strlen (a->addr) <= FORGED_NAMES) {
		g_string_append_printf (log->names, ", %s", a->addr);
		log->named++;
	}
}

/* The one event of a report's forged records, under the first address. */
static gboolean
forged_event (const BdbPolicy *p, BdbTxn *txn, ForgedLog *log, GError **error)
{
	if (!log->n)
		return TRUE;
	BdbEvent e;
	record_event (&e, log->rec, log->v, log->t);
	g_strlcpy (e.disposition, "forged", sizeof e.disposition);
	g_autofree char *more = log->n > log->named
	                        ? g_strdup_printf (" and %u more", log->n - log->named) : g_strdup ("");
	g_autofree char *summary = g_strdup_printf ("refused, no valid signed envelope sender: %u "
	                                            "recipient(s) of this report, %s%s",
	                                            log->n, log->names->str, more);
	e.diagnostic = summary;
	return bdb_txn_add_event (txn, log->first, &e, p->events_per_address, error);
}

static gboolean
apply_record (Apply *a, GError **error)
{
	BdbApplyStats *st = a->stats;
	const BdbVerdict *v = a->v;
	gboolean created = FALSE;

	if (a->forged) {  /* no effect; one event for the report (forged_event) */
		st->forged++;
		forged_note (a->log, a);
		return TRUE;
	}
	if (!bdb_txn_get_suppression (a->txn, BDB_TABLE_ADDRESS, a->addr, &a->existing, error))
		return FALSE;
	gboolean stale = a->existing && a->existing->state == BDB_STATE_REMOVED &&
	                 a->existing->removed_at >= a->t;

	BdbEvent e;
	record_event (&e, a->rec, v, a->t);
	if (!bdb_txn_add_event (a->txn, a->addr, &e, a->p->events_per_address, error))
		return FALSE;

	if (stale) {
		st->stale++;
		return TRUE;
	}

	switch (v->disposition) {
	case BDB_DISPOSITION_SUPPRESS:
	case BDB_DISPOSITION_COMPLAINT: {
		BdbSuppressionKind k = v->disposition == BDB_DISPOSITION_COMPLAINT
		                       ? BDB_SUPPRESSION_COMPLAINT : BDB_SUPPRESSION_HARD;
		if (!suppress (a->p, a->txn, BDB_TABLE_ADDRESS, a->addr, k, a->rec, v, NULL, a->t,
		               a->existing, &created, error))
			return FALSE;
		if (created)
			st->suppressed++;
		else
			st->confirmed++;
		if (v->disposition == BDB_DISPOSITION_COMPLAINT)
			st->complaints++;
		if (!bdb_txn_clear_soft (a->txn, a->addr, (guint32) (a->t / DAY), error))
			return FALSE;
		if (v->reason == BDB_REASON_HOSTUNKNOWN || v->reason == BDB_REASON_NOTACCEPT)
			return apply_domain (a, error);
		return TRUE;
	}
	case BDB_DISPOSITION_SOFT:
		if (a->existing && bdb_suppression_active (a->existing, a->t)) {
			st->confirmed++;
			return TRUE;
		}
		return apply_soft (a, error);
	case BDB_DISPOSITION_SENDER: {
		st->sender++;
		const char *domain = bdb_address_domain (a->addr);
		g_autofree char *name = g_strdup_printf ("sender|%s|%s", domain ? domain : "",
		                                         bdb_reason_name (v->reason));
		return bdb_txn_tally_add (a->txn, name, 1, a->t, error);
	}
	case BDB_DISPOSITION_SUCCESS:
		st->success++;
		return bdb_txn_clear_soft (a->txn, a->addr, (guint32) (a->t / DAY), error);
	case BDB_DISPOSITION_DELAY:
		st->delays++;
		return TRUE;
	case BDB_DISPOSITION_IGNORE:
	case BDB_DISPOSITION_COUNT:
		st->ignored++;
		return TRUE;
	}
	return TRUE;
}

/* The campaign the returned message belongs to: the first of the
 * configured headers it has, else its Feedback-ID (which senders fill
 * with campaign and customer ids). */
static const char *
campaign_of (const BdbPolicy *p, const BdbReport *report)
{
	for (const char *const *h = p->campaign_headers; h && *h; h++) {
		const char *v = bdb_report_header (report, *h);
		if (v)
			return v;
	}
	return bdb_report_get (report, BDB_FIELD_FEEDBACK_ID);
}

/* Apply one record to @addr, the address it is kept under. */
static gboolean
apply_one (const BdbPolicy *policy, BdbTxn *txn, const BdbReport *report, const BdbRecord *rec,
           const BdbVerdict *verdict, const char *addr, gint64 arrival, BdbApplyStats *stats,
           ForgedLog *log, GError **error)
{
	gint64 t = bdb_record_time (rec);
	if (t <= 0 || t > arrival + DAY)
		t = arrival;
	Apply a = { policy, txn, stats, rec, verdict, addr, t, NULL, FALSE, log };
	/* What the changes this record makes are for, in the feed. */
	BdbChangeContext ctx = {
		arrival, bdb_disposition_name (verdict->disposition),
		bdb_report_get (report, BDB_FIELD_MESSAGE_ID), campaign_of (policy, report),
		bdb_report_get (report, BDB_FIELD_LIST_ID), bdb_report_fingerprint (report), NULL, 0,
	};
	bdb_txn_set_change (txn, &ctx);
	g_autofree char *verified = policy->verifier ? signed_address (policy, rec, addr, arrival) : NULL;
	/* Refused: kept in @addr's history as forged, with no effect. */
	a.forged = policy->verifier && g_strcmp0 (verified, addr) != 0;
	gboolean ok = apply_record (&a, error);
	bdb_suppression_free (a.existing);
	if (ok && a.forged && verified) {
		/* The record is genuine for its Final-Recipient only. */
		Apply b = { policy, txn, stats, rec, verdict, verified, t, NULL, FALSE, log };
		ok = apply_record (&b, error);
		bdb_suppression_free (b.existing);
	}
	return ok;
}

/* How much a record says about its address: of several records for one
 * address in one report, the strongest is the one that counts. */
static int
strength (BdbDisposition d)
{
	switch (d) {
	case BDB_DISPOSITION_SUPPRESS:
	case BDB_DISPOSITION_COMPLAINT:
		return 4;
	case BDB_DISPOSITION_SOFT:
		return 3;
	case BDB_DISPOSITION_SENDER:
		return 2;
	case BDB_DISPOSITION_SUCCESS:
	case BDB_DISPOSITION_DELAY:
		return 1;
	case BDB_DISPOSITION_IGNORE:
	case BDB_DISPOSITION_COUNT:
		break;
	}
	return 0;
}

/* The address of each record (NULL: invalid), and which records count: a
 * report is one piece of evidence, so of the records that name one
 * address only the strongest (the first of equals) is applied.  Five
 * back-dated soft bounces for one address in one report made it inactive
 * at once, defeating soft_span_days. */
static void
pick_records (const BdbPolicy *policy, const BdbReport *report, const BdbVerdict *verdicts,
              char **addrs, gboolean *counts)
{
	guint n = bdb_report_n_records (report);
	g_autoptr (GHashTable) best = g_hash_table_new (g_str_hash, g_str_equal);  /* address -> index + 1 */
	for (guint i = 0; i < n; i++) {
		addrs[i] = bdb_policy_record_address (policy, bdb_report_get_record (report, i), NULL);
		if (!addrs[i])
			continue;
		gpointer prev = g_hash_table_lookup (best, addrs[i]);
		guint j = GPOINTER_TO_UINT (prev);
		if (!prev || strength (verdicts[i].disposition) > strength (verdicts[j - 1].disposition)) {
			if (prev)
				counts[j - 1] = FALSE;
			counts[i] = TRUE;
			g_hash_table_insert (best, addrs[i], GUINT_TO_POINTER (i + 1));
		}
	}
}

gboolean
bdb_policy_apply (const BdbPolicy *policy, BdbTxn *txn, const BdbReport *report,
                  const BdbVerdict *verdicts, gint64 arrival, BdbApplyStats *stats, GError **error)
{
	gboolean seen;
	if (!bdb_txn_seen (txn, bdb_report_fingerprint (report), &seen, error))
		return FALSE;
	if (seen) {
		stats->duplicates++;
		return TRUE;
	}
	guint n = bdb_report_n_records (report);
	g_autofree char **addrs = g_new0 (char *, n + 1);
	g_autofree gboolean *counts = g_new0 (gboolean, n);
	pick_records (policy, report, verdicts, addrs, counts);
	gboolean ok = TRUE;
	guint invalid = 0;
	ForgedLog log = { 0 };
	for (guint i = 0; ok && i < n; i++) {
		stats->records++;
		if (!addrs[i])
			invalid++;
		else if (!counts[i])
			stats->repeated++;
		else
			ok = apply_one (policy, txn, report, bdb_report_get_record (report, i), &verdicts[i],
			                addrs[i], arrival, stats, &log, error);
	}
	bdb_txn_set_change (txn, NULL);  /* its strings are the report's */
	ok = ok && forged_event (policy, txn, &log, error);
	g_free (log.first);
	if (log.names)
		g_string_free (log.names, TRUE);
	for (guint i = 0; i < n; i++)
		g_free (addrs[i]);
	if (!ok)
		return FALSE;
	stats->invalid += invalid;
	stats->messages++;
	/* A report none of whose records named a usable address taught
	 * nothing: it is kept for a person (bdb_policy_outcome), and stays
	 * unknown so that it is kept again, never taken for stored, if it is
	 * read a second time. */
	if (invalid == n)
		return TRUE;
	return bdb_txn_mark_seen (txn, bdb_report_fingerprint (report), arrival, error);
}

gboolean
bdb_policy_add (const BdbPolicy *policy, BdbTxn *txn, const char *address, const char *reason,
                const char *note, gint64 expires, gint64 now, GError **error)
{
	gboolean is_domain = strchr (address, '@') == NULL;
	BdbTable table = is_domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS;
	bdb_txn_set_change (txn, &(BdbChangeContext) { .time = now, .disposition = "manual" });
	g_autoptr (BdbSuppression) s = NULL;
	if (!bdb_txn_get_suppression (txn, table, address, &s, error))
		return FALSE;
	if (!s || s->state != BDB_STATE_SUPPRESSED) {
		gint64 removed = s ? s->removed_at : 0;
		bdb_suppression_free (s);
		s = bdb_suppression_new (address);
		s->first_seen = now;
		s->count = 0;
		s->removed_at = removed;
	}
	s->state = BDB_STATE_SUPPRESSED;
	s->kind = is_domain ? BDB_SUPPRESSION_DOMAIN : BDB_SUPPRESSION_MANUAL;
	/* Later than any removal it overrides, also within the same second
	 * (removal wins a tie when databases merge). */
	s->last_seen = MAX (now, s->removed_at + 1);
	s->count++;
	s->expires = expires;
	set_str (&s->reason, reason);
	set_str (&s->source, "manual");
	set_str (&s->note, note);
	BdbEvent e = { 0 };
	e.time = now;
	g_strlcpy (e.disposition, "suppress", sizeof e.disposition);
	g_strlcpy (e.reason, reason ? reason : "", sizeof e.reason);
	g_strlcpy (e.kind, "manual", sizeof e.kind);
	e.diagnostic = note;
	return bdb_txn_put_suppression (txn, table, s, error) &&
	       (is_domain || bdb_txn_add_event (txn, address, &e, policy->events_per_address, error));
}

gboolean
bdb_policy_remove (const BdbPolicy *policy, BdbTxn *txn, const char *address, gint64 now,
                   gboolean *was_suppressed, GError **error)
{
	gboolean is_domain = strchr (address, '@') == NULL;
	BdbTable table = is_domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS;
	g_autoptr (BdbSuppression) s = NULL;
	*was_suppressed = FALSE;
	bdb_txn_set_change (txn, &(BdbChangeContext) { .time = now, .disposition = "manual" });
	if (!bdb_txn_get_suppression (txn, table, address, &s, error))
		return FALSE;
	if (s)
		*was_suppressed = bdb_suppression_active (s, now);
	else
		s = bdb_suppression_new (address);
	/* The tombstone keeps the old evidence for `show`. */
	s->state = BDB_STATE_REMOVED;
	s->removed_at = now;
	s->expires = 0;
	if (!bdb_txn_put_suppression (txn, table, s, error))
		return FALSE;
	if (is_domain) {
		/* Start the count of dead recipients afresh. */
		g_autofree char *prefix = g_strdup_printf ("hostunknown|%s|", address);
		g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
		if (!bdb_txn_foreach_tally (txn, prefix, collect_tally, names, error))
			return FALSE;
		for (guint i = 0; i < names->len; i++)
			if (!bdb_txn_delete_tally (txn, names->pdata[i], error))
				return FALSE;
		return TRUE;
	}
	BdbEvent e = { 0 };
	e.time = now;
	g_strlcpy (e.disposition, "removed", sizeof e.disposition);
	g_strlcpy (e.kind, "manual", sizeof e.kind);
	return bdb_txn_clear_soft (txn, address, (guint32) (now / DAY), error) &&
	       bdb_txn_add_event (txn, address, &e, policy->events_per_address, error);
}

gboolean
bdb_policy_merge (const BdbPolicy *policy, BdbTxn *txn, BdbTable table,
                  const BdbSuppression *in, GError **error)
{
	g_autoptr (BdbSuppression) cur = NULL;
	if (!bdb_txn_get_suppression (txn, table, in->key, &cur, error))
		return FALSE;
	if (!cur)
		return bdb_txn_put_suppression (txn, table, in, error);
	g_autoptr (BdbSuppression) out = bdb_suppression_copy (cur);
	bdb_suppression_join (out, in);
	return bdb_suppression_equal (out, cur) || bdb_txn_put_suppression (txn, table, out, error);
}

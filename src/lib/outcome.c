/* What becomes of a message once it has been read and applied: the one
 * decision sweep and ingest share (policy.h).
 *
 * They used to decide apart and disagreed: when every recipient of a
 * report was invalid, ingest kept the message while sweep marked it
 * processed, or deleted it with --processed delete.  The rule here is that
 * the safe answer wins.  Only a message whose content is in the database
 * may be marked processed; one that taught nothing is kept for a person;
 * and a failure is the message's own (quarantine it: it would fail the
 * same way on every retry, holding up a pipe or a batch forever) only when
 * the error says the input was at fault.  Everything else is local, and
 * the message stays where it is.
 */
#include <bouncedb/error.h>
#include <bouncedb/policy.h>

/* Does @error come from the message rather than from this machine? */
static gboolean
input_error (const GError *error)
{
	if (error->domain != BDB_ERROR)
		return FALSE;
	switch ((BdbErrorCode) error->code) {
	case BDB_ERROR_INVALID:
	case BDB_ERROR_LIMIT:
	case BDB_ERROR_PARSE:
	case BDB_ERROR_FORGED:
		return TRUE;
	default:
		return FALSE;
	}
}

static BdbOutcome
decide (BdbOutcome outcome, char **why, char *reason)
{
	if (why)
		*why = reason;
	else
		g_free (reason);
	return outcome;
}

BdbOutcome
bdb_policy_outcome (const BdbReport *report, const GError *read_error,
                    const BdbApplyStats *applied, const GError *apply_error, char **why)
{
	if (why)
		*why = NULL;
	if (!report) {
		if (!read_error)
			return decide (BDB_OUTCOME_RETRY, why, g_strdup ("not read"));
		if (g_error_matches (read_error, BDB_ERROR, BDB_ERROR_NOT_FOUND))
			return decide (BDB_OUTCOME_VANISHED, why, g_strdup (read_error->message));
		return decide (input_error (read_error) ? BDB_OUTCOME_QUARANTINE : BDB_OUTCOME_RETRY,
		               why, g_strdup (read_error->message));
	}
	if (bdb_report_n_records (report) == 0) {
		const char *problem = bdb_report_problem (report);
		if (problem)
			return decide (BDB_OUTCOME_QUARANTINE, why, g_strdup (problem));
		return decide (BDB_OUTCOME_NOT_BOUNCE, why, g_strdup ("not a bounce report"));
	}
	if (apply_error) {
		if (input_error (apply_error))
			return decide (BDB_OUTCOME_QUARANTINE, why,
			               g_strdup_printf ("cannot be stored: %s", apply_error->message));
		return decide (BDB_OUTCOME_RETRY, why, g_strdup (apply_error->message));
	}
	if (!applied || applied->duplicates)
		return BDB_OUTCOME_STORED;
	if (applied->forged)
		return decide (BDB_OUTCOME_QUARANTINE, why,
		               g_strdup_printf ("%u record(s) without a valid signed envelope sender, "
		                                "not applied (forged or replayed?)", applied->forged));
	if (applied->invalid == applied->records)
		return decide (BDB_OUTCOME_QUARANTINE, why,
		               g_strdup ("no recipient address could be normalised"));
	return BDB_OUTCOME_STORED;
}

const char *
bdb_outcome_name (BdbOutcome outcome)
{
	static const char *const names[] = {
		[BDB_OUTCOME_STORED] = "stored",
		[BDB_OUTCOME_NOT_BOUNCE] = "not-bounce",
		[BDB_OUTCOME_QUARANTINE] = "quarantine",
		[BDB_OUTCOME_RETRY] = "retry",
		[BDB_OUTCOME_VANISHED] = "vanished",
	};
	return (guint) outcome < G_N_ELEMENTS (names) && names[outcome] ? names[outcome] : "unknown";
}

void
bdb_apply_stats_add (BdbApplyStats *to, const BdbApplyStats *from)
{
	to->messages += from->messages;
	to->duplicates += from->duplicates;
	to->records += from->records;
	to->suppressed += from->suppressed;
	to->confirmed += from->confirmed;
	to->complaints += from->complaints;
	to->soft += from->soft;
	to->inactive += from->inactive;
	to->sender += from->sender;
	to->success += from->success;
	to->delays += from->delays;
	to->ignored += from->ignored;
	to->invalid += from->invalid;
	to->stale += from->stale;
	to->domains += from->domains;
	to->forged += from->forged;
	to->repeated += from->repeated;
}

void
bdb_outcome_count (BdbOutcomeCounts *c, BdbOutcome outcome, gboolean report,
                   const BdbApplyStats *applied)
{
	c->messages++;
	if (report)
		c->reports++;
	switch (outcome) {
	case BDB_OUTCOME_STORED: c->stored++; break;
	case BDB_OUTCOME_NOT_BOUNCE: c->not_bounces++; break;
	case BDB_OUTCOME_QUARANTINE: c->quarantined++; break;
	case BDB_OUTCOME_RETRY: c->left++; break;
	case BDB_OUTCOME_VANISHED: c->vanished++; break;
	}
	if (applied)
		bdb_apply_stats_add (&c->applied, applied);
}

/* Classification: from a record to a verdict.
 *
 * The rules (rules.c, rules.txt) pick the reason.  What a reason means
 * for the store is fixed in one table keyed by reason (reason.c): its
 * usual disposition and scope.  Two facts of the record then adjust it: the
 * Action (a delayed message is not a bounce; a delivered one is good
 * news) and the class of the failure (only a permanent failure kills an
 * address: "452 4.1.1" is a retry, not a dead mailbox).
 */
#include <string.h>
#include "reason-private.h"
#include "rules-private.h"
#include "diag.h"

/* RFC 5965 feedback types that are not a complaint by the recipient. */
static const struct {
	const char *type;
	BdbDisposition disposition;
	BdbScope scope;
} feedback_types[] = {
	{ "not-spam", BDB_DISPOSITION_IGNORE, BDB_SCOPE_RECIPIENT },
	{ "auth-failure", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER },
	{ "virus", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER },
};

static void
parse_status (const char *s, int out[3])
{
	out[0] = out[1] = out[2] = -1;
	if (!s || !bdb_status_is_valid (s))
		return;
	char *end;
	out[0] = (int) g_ascii_strtoll (s, &end, 10);
	out[1] = (int) g_ascii_strtoll (end + 1, &end, 10);
	out[2] = (int) g_ascii_strtoll (end + 1, &end, 10);
}

/* Lowercase ASCII into @buf, or into a new allocation when it does not
 * fit; returns what to read and sets *@heap to what to free. */
static const char *
lower_into (const char *s, char *buf, gsize size, char **heap)
{
	*heap = NULL;
	if (!s)
		return "";
	/* GRegex matches UTF-8 only: PCRE2's JIT code reads past a broken
	 * sequence (a crash found by tests/fuzz/fuzz_lines).  Imported rows
	 * may be Latin-1, and a cut-off MTA name may end mid-character. */
	g_autofree char *valid = NULL;
	if (!g_utf8_validate (s, -1, NULL))
		s = valid = g_utf8_make_valid (s, -1);
	gsize n = strlen (s);
	char *out = n < size ? buf : (*heap = g_malloc (n + 1));
	for (gsize i = 0; i < n; i++)
		out[i] = g_ascii_tolower (s[i]);
	out[n] = '\0';
	return out;
}

/* The verdict for what a record offers. */
static void
decide (const BdbRules *rules, BdbRuleInput *inp, BdbVerdict *verdict)
{
	BdbRuleInput in = *inp;
	if (in.status[0] > 0)
		in.klass = in.status[0];
	else if (*in.reply)
		in.klass = in.reply[0] - '0';
	else if (strcmp (in.action, "failed") == 0)
		in.klass = 5;
	else if (strcmp (in.action, "delayed") == 0)
		in.klass = 4;
	else if (strcmp (in.action, "delivered") == 0 || strcmp (in.action, "relayed") == 0 ||
	         strcmp (in.action, "expanded") == 0)
		in.klass = 2;
	else
		in.klass = 0;

	const BdbRule *rule = bdb_rules_match (rules, &in);
	BdbReason reason = rule ? bdb_rule_reason (rule) : BDB_REASON_UNDEFINED;
	const BdbReasonInfo *info = bdb_reason_info (reason);

	verdict->reason = reason;
	verdict->rule = rule;
	verdict->evidence = rule ? bdb_rule_evidence (rule) : BDB_FIELD_ACTION;
	verdict->scope = info->scope;
	verdict->disposition = info->disposition;
	/* Dead means permanent: a 5xx, or for "user unknown" an MTA that gave
	 * up (Action: failed) after retrying it (Postfix with soft_bounce
	 * sends 450 4.1.1).  A domain must fail permanently: receivers report
	 * passing DNS trouble as "failed" with 4.x.x after their retries. */
	gboolean failed = strcmp (in.action, "failed") == 0;
	gboolean permanent = in.klass == 5 || (failed && reason == BDB_REASON_USERUNKNOWN);
	verdict->hard = info->dead && permanent;

	if (info->disposition == BDB_DISPOSITION_SUPPRESS && !verdict->hard)
		verdict->disposition = BDB_DISPOSITION_SOFT;
	if (reason == BDB_REASON_FEEDBACK) {
		for (gsize i = 0; i < G_N_ELEMENTS (feedback_types); i++) {
			if (strcmp (in.feedback, feedback_types[i].type) == 0) {
				verdict->disposition = feedback_types[i].disposition;
				verdict->scope = feedback_types[i].scope;
			}
		}
	}
	if (strcmp (in.action, "delayed") == 0) {
		verdict->disposition = BDB_DISPOSITION_DELAY;
		verdict->hard = FALSE;
	} else if (reason == BDB_REASON_DELIVERED || in.klass == 2) {
		verdict->disposition = BDB_DISPOSITION_SUCCESS;
		verdict->hard = FALSE;
	}

}

void
bdb_classify (const BdbRules *rules, const BdbRecord *record, BdbVerdict *verdict)
{
	const BdbReport *report = bdb_record_report (record);
	BdbRuleInput in;
	char text_buf[2048], mta_buf[512], action_buf[32], fb_buf[32], dtype_buf[32];
	char *text_heap, *mta_heap, *action_heap, *fb_heap, *dtype_heap;

	in.kind = bdb_report_kind (report);
	in.action = lower_into (bdb_record_get (record, BDB_FIELD_ACTION), action_buf, sizeof action_buf, &action_heap);
	parse_status (bdb_record_get (record, BDB_FIELD_STATUS), in.status);
	const char *reply = bdb_record_get (record, BDB_FIELD_REPLY_CODE);
	in.reply = reply ? reply : "";
	const char *cmd = bdb_record_get (record, BDB_FIELD_SMTP_COMMAND);
	in.command = cmd ? cmd : "";
	in.feedback = lower_into (bdb_record_get (record, BDB_FIELD_FEEDBACK_TYPE), fb_buf, sizeof fb_buf, &fb_heap);
	in.dtype = lower_into (bdb_record_get (record, BDB_FIELD_DIAGNOSTIC_TYPE), dtype_buf, sizeof dtype_buf, &dtype_heap);
	in.text = lower_into (bdb_record_get (record, BDB_FIELD_DIAGNOSTIC), text_buf, sizeof text_buf, &text_heap);

	/* The remote MTA, and the reporting one after it: some rules are
	 * about who answered rather than what they said. */
	const char *remote = bdb_record_get (record, BDB_FIELD_REMOTE_MTA);
	const char *reporting = bdb_record_get (record, BDB_FIELD_REPORTING_MTA);
	char both[512];
	g_snprintf (both, sizeof both, "%s %s", remote ? remote : "", reporting ? reporting : "");
	in.mta = lower_into (both, mta_buf, sizeof mta_buf, &mta_heap);

	decide (rules, &in, verdict);

	g_free (text_heap);
	g_free (mta_heap);
	g_free (action_heap);
	g_free (fb_heap);
	g_free (dtype_heap);
}

void
bdb_classify_fields (const BdbRules *rules, BdbKind kind, const char *action, const char *status,
                     const char *reply_code, const char *diagnostic, BdbVerdict *verdict)
{
	BdbRuleInput in;
	char text_buf[2048], action_buf[32];
	char *text_heap, *action_heap;
	char code[16];

	in.kind = kind;
	in.action = lower_into (action, action_buf, sizeof action_buf, &action_heap);
	/* A code in the text refines a missing or generic status, as for reports. */
	if ((!status || !bdb_status_is_valid (status)) && bdb_find_enhanced_code (diagnostic, code))
		status = code;
	parse_status (status, in.status);
	char reply[4];
	in.reply = reply_code && *reply_code ? reply_code
	         : bdb_find_reply_code (diagnostic, reply) ? reply : "";
	const char *cmd = bdb_find_smtp_command (diagnostic);
	in.command = cmd ? cmd : "";
	in.feedback = "";
	in.dtype = "";
	in.mta = "";
	in.text = lower_into (diagnostic, text_buf, sizeof text_buf, &text_heap);
	decide (rules, &in, verdict);
	g_free (text_heap);
	g_free (action_heap);
}

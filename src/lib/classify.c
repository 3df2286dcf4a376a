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

/* The class of the failure: from the status, else the reply code, else
 * the Action. */
static void
set_class (BdbRuleInput *in)
{
	if (in->status[0] > 0)
		in->klass = in->status[0];
	else if (*in->reply)
		in->klass = in->reply[0] - '0';
	else if (strcmp (in->action, "failed") == 0)
		in->klass = 5;
	else if (strcmp (in->action, "delayed") == 0)
		in->klass = 4;
	else if (strcmp (in->action, "delivered") == 0 || strcmp (in->action, "relayed") == 0 ||
	         strcmp (in->action, "expanded") == 0)
		in->klass = 2;
	else
		in->klass = 0;
}

/* The verdict for what a record offers. */
static void
decide (const BdbRules *rules, BdbRuleInput *inp, BdbVerdict *verdict)
{
	BdbRuleInput in = *inp;
	set_class (&in);

	const BdbRule *rule = bdb_rules_match (rules, &in);
	BdbReason reason = rule ? bdb_rule_reason (rule) : BDB_REASON_UNDEFINED;
	const BdbReasonInfo *info = bdb_reason_info (reason);

	verdict->reason = reason;
	verdict->rule = rule;
	verdict->evidence = rule ? bdb_rule_evidence (rule) : BDB_FIELD_ACTION;
	verdict->scope = info->scope;
	verdict->disposition = info->disposition;
	/* Dead means permanent: a 5xx, or an MTA that gave up (Action:
	 * failed) after retrying a dead address or domain (Postfix with
	 * soft_bounce sends 450 4.1.1; Gmail reports an NXDOMAIN answer or a
	 * null MX as 4.0.0).  Passing DNS trouble (SERVFAIL, a timeout, a
	 * malformed reply) is never hostunknown: the rules read it as
	 * networkerror, whatever the code. */
	gboolean failed = strcmp (in.action, "failed") == 0;
	gboolean permanent = in.klass == 5 ||
	                     (failed && (reason == BDB_REASON_USERUNKNOWN || reason == BDB_REASON_HOSTUNKNOWN ||
	                                 reason == BDB_REASON_NOTACCEPT));
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
	/* Postfix's notice about a refusal by `bouncedb serve` (its transport
	 * map's error:, or a relay's report of serve's 550 at RCPT) is our
	 * own answer coming back: the address was suppressed already, and
	 * counting the notice would bounce it a second time. */
	if (strstr (in.text, BDB_REFUSAL_MARKER)) {
		verdict->disposition = BDB_DISPOSITION_IGNORE;
		verdict->hard = FALSE;
	} else if (strcmp (in.action, "delayed") == 0) {
		verdict->disposition = BDB_DISPOSITION_DELAY;
		verdict->hard = FALSE;
	} else if (reason == BDB_REASON_DELIVERED || in.klass == 2) {
		verdict->disposition = BDB_DISPOSITION_SUCCESS;
		verdict->hard = FALSE;
	}

}

/* What a record offers the rules, in buffers that live as long as it. */
typedef struct {
	BdbRuleInput in;
	char text_buf[2048], mta_buf[512], action_buf[32], fb_buf[32], dtype_buf[32], rcpt_buf[256];
	char *heap[6];
} RecordInput;

static void
record_input_init (RecordInput *ri, const BdbRecord *record)
{
	BdbRuleInput *in = &ri->in;
	const BdbReport *report = bdb_record_report (record);
	in->kind = bdb_report_kind (report);
	in->action = lower_into (bdb_record_get (record, BDB_FIELD_ACTION), ri->action_buf, sizeof ri->action_buf, &ri->heap[0]);
	parse_status (bdb_record_get (record, BDB_FIELD_STATUS), in->status);
	const char *reply = bdb_record_get (record, BDB_FIELD_REPLY_CODE);
	in->reply = reply ? reply : "";
	const char *cmd = bdb_record_get (record, BDB_FIELD_SMTP_COMMAND);
	in->command = cmd ? cmd : "";
	in->feedback = lower_into (bdb_record_get (record, BDB_FIELD_FEEDBACK_TYPE), ri->fb_buf, sizeof ri->fb_buf, &ri->heap[1]);
	in->dtype = lower_into (bdb_record_get (record, BDB_FIELD_DIAGNOSTIC_TYPE), ri->dtype_buf, sizeof ri->dtype_buf, &ri->heap[2]);
	in->text = lower_into (bdb_record_get (record, BDB_FIELD_DIAGNOSTIC), ri->text_buf, sizeof ri->text_buf, &ri->heap[3]);
	in->rcpt = lower_into (bdb_record_get (record, BDB_FIELD_RECIPIENT), ri->rcpt_buf, sizeof ri->rcpt_buf, &ri->heap[4]);

	/* The remote MTA, and the reporting one after it: some rules are
	 * about who answered rather than what they said. */
	const char *remote = bdb_record_get (record, BDB_FIELD_REMOTE_MTA);
	const char *reporting = bdb_record_get (record, BDB_FIELD_REPORTING_MTA);
	char both[512];
	g_snprintf (both, sizeof both, "%s %s", remote ? remote : "", reporting ? reporting : "");
	in->mta = lower_into (both, ri->mta_buf, sizeof ri->mta_buf, &ri->heap[5]);
}

static void
record_input_clear (RecordInput *ri)
{
	for (gsize i = 0; i < G_N_ELEMENTS (ri->heap); i++)
		g_free (ri->heap[i]);
}

void
bdb_classify (const BdbRules *rules, const BdbRecord *record, BdbVerdict *verdict)
{
	RecordInput ri;
	record_input_init (&ri, record);
	decide (rules, &ri.in, verdict);
	record_input_clear (&ri);
}

char *
bdb_classify_evidence (const BdbRules *rules, const BdbRecord *record, const BdbVerdict *verdict)
{
	if (!verdict->rule)
		return NULL;
	RecordInput ri;
	record_input_init (&ri, record);
	set_class (&ri.in);
	char *words = bdb_rule_describe (rules, verdict->rule, &ri.in);
	record_input_clear (&ri);
	return words;
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
	in.rcpt = "";
	in.text = lower_into (diagnostic, text_buf, sizeof text_buf, &text_heap);
	decide (rules, &in, verdict);
	g_free (text_heap);
	g_free (action_heap);
}

/* What one imported entry becomes: the entry readers of import (csv and
 * json) hand each entry here, and the command's passes (cmd-import.c)
 * decide what is done with it.  An ESP's entry is a suppression when the
 * ESP says it is permanent (a hard bounce, a complaint, an opt-out, a
 * manual suppression); a soft one is skipped and counted. */
#include <stdarg.h>
#include <string.h>
#include "import.h"

void
import_error (GError **error, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	g_autofree char *msg = g_strdup_vprintf (fmt, ap);
	va_end (ap);
	g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "%s: %s", where, msg);
}

gboolean
import_parse_when (const char *text, gint64 *out)
{
	if (!text || !*text) {
		*out = 0;
		return TRUE;
	}
	char *end;
	gint64 v = g_ascii_strtoll (text, &end, 10);
	if ((*end == '\0' || *end == '.') && end != text) {
		*out = v > 100000000000 ? v / 1000 : v;  /* milliseconds in some exports */
		return TRUE;
	}
	if (cli_parse_time (text, 0, -1, out))
		return TRUE;
	*out = bdb_parse_date (text);  /* RFC 2822 dates */
	return *out > 0;
}

/* ---- what an ESP's words mean ---- */

char *
import_fold (const char *word)
{
	GString *k = g_string_new (NULL);
	for (const char *p = word; *p; p++)
		if (g_ascii_isalnum (*p))
			g_string_append_c (k, g_ascii_tolower (*p));
	return g_string_free (k, FALSE);
}

static const struct {
	const char *word;
	ImportClass klass;
	const char *reason;   /* NULL: from the diagnostic, else the class's */
} words[] = {
	{ "bounce", IMPORT_HARD, NULL }, { "bounced", IMPORT_HARD, NULL }, { "hardbounce", IMPORT_HARD, NULL },
	{ "hard", IMPORT_HARD, NULL }, { "permanent", IMPORT_HARD, NULL }, { "invalid", IMPORT_HARD, "userunknown" },
	{ "invalidemail", IMPORT_HARD, "userunknown" }, { "bademailaddress", IMPORT_HARD, "userunknown" },
	/* SES's bounce subtypes: no such mailbox, or suppressed for having bounced. */
	{ "noemail", IMPORT_HARD, "userunknown" }, { "suppressed", IMPORT_HARD, "userunknown" },
	{ "onaccountsuppressionlist", IMPORT_HARD, "userunknown" },
	{ "complaint", IMPORT_COMPLAINT, NULL }, { "spamcomplaint", IMPORT_COMPLAINT, NULL },
	{ "spamreport", IMPORT_COMPLAINT, NULL }, { "spam", IMPORT_COMPLAINT, NULL }, { "abuse", IMPORT_COMPLAINT, NULL },
	{ "unsubscribe", IMPORT_UNSUBSCRIBE, NULL }, { "unsubscribed", IMPORT_UNSUBSCRIBE, NULL },
	{ "globalunsubscribe", IMPORT_UNSUBSCRIBE, NULL }, { "groupunsubscribe", IMPORT_UNSUBSCRIBE, NULL },
	{ "manual", IMPORT_MANUAL, NULL }, { "manualsuppression", IMPORT_MANUAL, NULL },
	{ "manuallydeactivated", IMPORT_MANUAL, NULL },
	/* Temporary, or no verdict on the address: not suppressions. */
	{ "soft", IMPORT_SOFT, NULL }, { "softbounce", IMPORT_SOFT, NULL }, { "transient", IMPORT_SOFT, NULL },
	{ "temporary", IMPORT_SOFT, NULL }, { "undetermined", IMPORT_SOFT, NULL }, { "deferred", IMPORT_SOFT, NULL },
	{ "delayed", IMPORT_SOFT, NULL }, { "autoresponder", IMPORT_SOFT, NULL }, { "dnserror", IMPORT_SOFT, NULL },
};

static const char *
class_reason (ImportClass klass)
{
	switch (klass) {
	case IMPORT_COMPLAINT: return "feedback";
	case IMPORT_UNSUBSCRIBE: return "unsubscribed";
	case IMPORT_MANUAL: return "manual";
	default: return NULL;
	}
}

/* The class and reason of @e: the ESP's own word first, then what its
 * status and reply code say (a 4xx is temporary, whatever else), then
 * what its diagnostic says.  *@reason is NULL when nothing says why. */
static ImportClass
understand (Import *im, const EspEntry *e, const char **reason)
{
	ImportClass klass = e->klass;
	gboolean said_hard = klass == IMPORT_HARD, word = FALSE;
	*reason = NULL;
	if (e->reason && *e->reason) {
		g_autofree char *low = g_ascii_strdown (e->reason, -1);
		g_autofree char *w = import_fold (e->reason);
		BdbReason r;
		if (bdb_reason_from_name (low, &r)) {
			/* bouncedb's own vocabulary (a list written for it). */
			*reason = bdb_reason_name (r);
			if (klass == IMPORT_GUESS)
				klass = r == BDB_REASON_FEEDBACK ? IMPORT_COMPLAINT : IMPORT_HARD;
		} else {
			for (gsize i = 0; i < G_N_ELEMENTS (words); i++) {
				if (strcmp (w, words[i].word) == 0) {
					word = TRUE;
					if (klass == IMPORT_GUESS) {
						klass = words[i].klass;
						said_hard = klass == IMPORT_HARD;
					}
					*reason = words[i].reason;
					break;
				}
			}
		}
	}
	gboolean temporary = (e->status && e->status[0] == '4') || (e->code && e->code[0] == '4');
	gboolean permanent = (e->status && e->status[0] == '5') || (e->code && e->code[0] == '5');
	if (temporary && (klass == IMPORT_GUESS || klass == IMPORT_HARD))
		return IMPORT_SOFT;
	if (klass == IMPORT_GUESS)
		klass = permanent || (e->text && *e->text) || (e->reason && *e->reason) ? IMPORT_HARD : IMPORT_UNKNOWN;
	if (!*reason)
		*reason = class_reason (klass);
	if (!*reason && klass == IMPORT_HARD) {
		/* Free text (SendGrid's reason, Mailgun's error): classify it as
		 * the diagnostic of a failed delivery. */
		const char *text = e->text || word ? e->text : e->reason;
		BdbVerdict v;
		bdb_classify_fields (im->rules, BDB_KIND_DSN, "failed", e->status, e->code, text, &v);
		if (v.reason != BDB_REASON_UNDEFINED && v.reason != BDB_REASON_ONHOLD)
			*reason = bdb_reason_name (v.reason);
		else if (said_hard && !(text && *text))
			*reason = "userunknown";  /* a hard bounce, no more said: the common one */
	}
	return klass;
}

gboolean
import_esp_entry (Import *im, const char *where, const EspEntry *e, GError **error)
{
	const char *reason;
	ImportClass klass = understand (im, e, &reason);
	if (klass == IMPORT_SOFT || klass == IMPORT_OTHER) {
		if (klass == IMPORT_SOFT)
			im->soft++;
		else
			im->other++;
		return TRUE;
	}
	if (!e->address || !*e->address) {
		import_error (error, where, "no address");
		return FALSE;
	}
	GError *bad = NULL;
	g_autofree char *addr = cli_normalize_input (im->cli, e->address, &bad);
	if (!addr) {
		g_autofree char *safe = cli_safe (e->address);
		import_error (error, where, "'%s' is not a valid address: %s", safe, bad->message);
		g_error_free (bad);
		return FALSE;
	}
	gint64 when = e->when;
	if (!when && !import_parse_when (e->date, &when)) {
		g_autofree char *safe = cli_safe (e->date);
		import_error (error, where, "'%s' is not a date", safe);
		return FALSE;
	}
	if (!reason)
		reason = im->default_reason ? im->default_reason : "undefined";
	BdbSuppression *s = bdb_suppression_new (addr);
	s->kind = BDB_SUPPRESSION_IMPORTED;
	s->source = g_strdup ("import");
	s->reason = g_strdup (reason);
	s->diagnostic = g_strdup (e->text && *e->text ? e->text : e->reason);
	s->reply_code = g_strdup (e->code);
	s->status = g_strdup (e->status);
	s->first_seen = s->last_seen = when ? when : im->now;
	s->count = 1;
	s->note = g_strdup (im->note);
	im->entries++;
	return im->sink (im, BDB_TABLE_ADDRESS, s, NULL, NULL, error);
}

gboolean
import_own_entry (Import *im, BdbTable table, BdbSuppression *s, const char *soft_addr,
                  const BdbSoftCounter *soft, GError **error)
{
	im->entries++;
	return im->sink (im, table, s, soft_addr, soft, error);
}

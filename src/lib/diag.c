/* What a diagnostic says: enhanced status codes, SMTP reply codes, the
 * SMTP command that failed, and a record's final status.
 *
 * Diagnostics are prose written by remote servers and quoted by local
 * ones, so the finders look for codes where replies are quoted and skip
 * what only looks like one (IP addresses, versions, sizes).  They write
 * into caller buffers and allocate nothing.
 */
#include <string.h>
#include "diag.h"
#include "report-model.h"

gboolean
bdb_status_is_valid (const char *code)
{
	/* class "." subject "." detail; class 2, 4 or 5; 1-3 digits each. */
	if (!code || (code[0] != '2' && code[0] != '4' && code[0] != '5') || code[1] != '.')
		return FALSE;
	const char *p = code + 2;
	for (int part = 0; part < 2; part++) {
		int digits = 0;
		while (g_ascii_isdigit (*p) && digits < 4) {
			p++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return FALSE;
		if (part == 0) {
			if (*p != '.')
				return FALSE;
			p++;
		}
	}
	return *p == '\0';
}

/* Length of the enhanced code starting at @p, 0 when @p does not start
 * one that stands alone (not part of an IP address or a version). */
static gsize
enhanced_code_at (const char *start, const char *p)
{
	if (p > start && (g_ascii_isdigit (p[-1]) || p[-1] == '.' || p[-1] == '/' ||
	                  p[-1] == 'v' || p[-1] == 'V'))
		return 0;
	if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.')
		return 0;
	const char *q = p + 2;
	for (int part = 0; part < 2; part++) {
		int digits = 0;
		while (g_ascii_isdigit (*q)) {
			q++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return 0;
		if (part == 0) {
			if (*q != '.')
				return 0;
			q++;
		}
	}
	if (*q == '.' && g_ascii_isdigit (q[1]))
		return 0;
	if (g_ascii_isalnum (*q))
		return 0;
	return (gsize) (q - p);
}

/* Codes that say little: x.0.0, x.y.0 and 4.4.7 ("delivery expired",
 * which reporting MTAs put in front of the real reason). */
static gboolean
code_is_vague (const char *code, gsize n)
{
	return (n >= 2 && code[n - 2] == '.' && code[n - 1] == '0') ||
	       (n == 5 && strncmp (code, "4.4.7", 5) == 0);
}

gboolean
bdb_find_enhanced_code (const char *text, char out[16])
{
	const char *vague = NULL;
	gsize vague_n = 0;
	if (!text)
		return FALSE;
	for (const char *p = text; *p; p++) {
		gsize n = enhanced_code_at (text, p);
		if (!n || n >= 16)
			continue;
		if (code_is_vague (p, n)) {
			if (!vague) {
				vague = p;
				vague_n = n;
			}
			continue;
		}
		memcpy (out, p, n);
		out[n] = '\0';
		return TRUE;
	}
	if (!vague)
		return FALSE;
	memcpy (out, vague, vague_n);
	out[vague_n] = '\0';
	return TRUE;
}

static gboolean
plausible_reply (const char *p)
{
	/* 2xx, 4xx and 5xx replies whose second digit RFC 5321 defines. */
	return (p[0] == '2' || p[0] == '4' || p[0] == '5') && p[1] >= '0' && p[1] <= '5' &&
	       g_ascii_isdigit (p[2]);
}

static gboolean
reply_code_at (const char *start, const char *p)
{
	if (p > start && (g_ascii_isalnum (p[-1]) || p[-1] == '.' || p[-1] == '-' ||
	                  p[-1] == '/' || p[-1] == '+'))
		return FALSE;
	if (!plausible_reply (p))
		return FALSE;
	char c = p[3];
	return c == ' ' || c == '-' || c == '\0' || c == '\t' || c == ',' || c == ')' ||
	       c == '"' || c == '\'' || c == ']' || (c == '.' && !g_ascii_isdigit (p[4]));
}

/* Without an enhanced code to vouch for it, a number is a reply code
 * only where replies are quoted: at the start, or after "said:", a quote,
 * "<<<", "#"...; not in prose ("exceeds 250 recipients"). */
static gboolean
introduces_reply (const char *start, const char *p)
{
	const char *q = p;
	while (q > start && q[-1] == ' ')
		q--;
	return q == start || strchr (":'\"(<#[=", q[-1]) != NULL;
}

gboolean
bdb_find_reply_code (const char *text, char out[4])
{
	if (!text)
		return FALSE;
	const char *first = NULL;
	for (const char *p = text; *p; p++) {
		if (!reply_code_at (text, p))
			continue;
		/* Best evidence: a reply code that an enhanced code follows, and
		 * whose class agrees with it ("550 5.1.1", "421-4.7.0"). */
		const char *q = p + 3;
		if (*q == ' ' || *q == '-')
			q++;
		gsize n = enhanced_code_at (text, q);
		if (n && q[0] == p[0]) {
			memcpy (out, p, 3);
			out[3] = '\0';
			return TRUE;
		}
		if (!first && (p[3] == ' ' || p[3] == '-' || p[3] == '\0' || p[3] == ',') &&
		    introduces_reply (text, p))
			first = p;
	}
	if (!first)
		return FALSE;
	memcpy (out, first, 3);
	out[3] = '\0';
	return TRUE;
}

/* The command a transcript line sent: the word after ">>> " (Sendmail,
 * Courier) or "Sent <<< " (InterScan), in the kit's vocabulary; "." ends
 * the data. */
static const char *
sent_command (const char *p)
{
	static const char *const words[] = { "HELO", "EHLO", "MAIL", "RCPT", "DATA", "QUIT" };
	while (*p == ' ')
		p++;
	if (p[0] == '.' && (p[1] == '\0' || g_ascii_isspace (p[1])))
		return "DATA";
	for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
		if (g_ascii_strncasecmp (p, words[i], 4) == 0 && !g_ascii_isalpha (p[4]))
			return words[i];
	return NULL;
}

/* A reply to DATA saying that no recipient was accepted: under
 * pipelining (RFC 2920 section 3.1) the client sends RCPT and DATA
 * together, so the RCPT's refusal is logged after ">>> DATA" and the
 * DATA's own reply says there is nobody to send to. */
static gboolean
no_recipient_reply (const char *line, gsize n)
{
	static const char *const says[] = {
		"need rcpt", "rcpt command", "rcpt first", "no valid recipient", "no recipients",
		"all rcpt commands were rejected", "no valid rcpt",
	};
	char buf[256];
	n = MIN (n, sizeof buf - 1);
	for (gsize i = 0; i < n; i++)
		buf[i] = g_ascii_tolower (line[i]);
	buf[n] = '\0';
	for (gsize i = 0; i < G_N_ELEMENTS (says); i++)
		if (strstr (buf, says[i]))
			return TRUE;
	return FALSE;
}

/* The next transcript arrow in @p: ">>> " (a command Sendmail or Courier
 * sent), "<<< " (the reply), or InterScan's reversed "Sent <<< " and
 * "Received >>> ".  Sets *@sent and returns what follows the arrow, or
 * NULL.  Works on text whose line ends were folded into spaces. */
static const char *
next_arrow (const char *p, const char *start, gboolean *sent)
{
	for (; *p; p++) {
		gboolean out = strncmp (p, ">>> ", 4) == 0, in = strncmp (p, "<<< ", 4) == 0;
		if (!out && !in)
			continue;
		gboolean interscan = out ? p - start >= 9 && g_ascii_strncasecmp (p - 9, "received ", 9) == 0
		                         : p - start >= 5 && g_ascii_strncasecmp (p - 5, "sent ", 5) == 0;
		*sent = out != interscan;
		return p + 4;
	}
	return NULL;
}

/* In a session transcript ("... while talking to mx.example.org.:",
 * ">>> RCPT To:<a@b>", "<<< 550 ..."), the command the first negative
 * reply answered.  NULL when @text is no transcript or shows no failure. */
static const char *
transcript_command (const char *text)
{
	const char *last = NULL, *failed = NULL;
	gboolean sent;
	for (const char *p = next_arrow (text, text, &sent); p;) {
		gboolean next_sent = FALSE;
		const char *next = next_arrow (p, text, &next_sent);
		gsize n = next ? (gsize) (next - 4 - p) : strlen (p);
		if (sent) {
			const char *cmd = sent_command (p);
			if (cmd && !failed)
				last = cmd;
		} else if ((p[0] == '4' || p[0] == '5') && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2])) {
			if (!failed)
				failed = last;
			else if (strcmp (failed, "DATA") == 0 && no_recipient_reply (p, n))
				failed = "RCPT";
		}
		p = next;
		sent = next_sent;
	}
	return failed;
}

gboolean
bdb_transcript_pipelined (const char *text)
{
	gboolean sent, after_data = FALSE;
	for (const char *p = next_arrow (text, text, &sent); p;) {
		gboolean next_sent = FALSE;
		const char *next = next_arrow (p, text, &next_sent);
		gsize n = next ? (gsize) (next - 4 - p) : strlen (p);
		if (sent)
			after_data = g_strcmp0 (sent_command (p), "DATA") == 0;
		else if (after_data && (p[0] == '4' || p[0] == '5') && no_recipient_reply (p, n))
			return TRUE;
		p = next;
		sent = next_sent;
	}
	return FALSE;
}

/* The SMTP command a text says failed, in the vocabulary of the
 * conformance kit (RCPT, MAIL, DATA, HELO, EHLO, QUIT).  Static result.
 * A transcript says it by its order; prose by the MTA's own words
 * (Postfix "in reply to", Exim "after", qmail's sentences, Gmail's
 * numbered "(state N)" of its SMTP client, Yahoo's "[RCPT_TO]"). */
const char *
bdb_find_smtp_command (const char *text)
{
	static const struct {
		const char *needle;
		const char *command;
	} table[] = {
		{ "in reply to rcpt to", "RCPT" },
		{ "in reply to mail from", "MAIL" },
		{ "in reply to end of data", "DATA" },
		{ "in reply to data", "DATA" },
		{ "in reply to helo", "HELO" },
		{ "in reply to ehlo", "EHLO" },
		{ "after rcpt to", "RCPT" },
		{ "after mail from", "MAIL" },
		{ "after end of data", "DATA" },
		{ "after data", "DATA" },
		{ "after ehlo", "EHLO" },
		{ "after helo", "HELO" },
		{ "after quit", "QUIT" },
		/* Exim since 4.90 names pipelined commands so. */
		{ "after pipelined rcpt to", "RCPT" },
		{ "after pipelined mail from", "MAIL" },
		{ "after pipelined end of data", "DATA" },
		{ "after pipelined data", "DATA" },
		/* GMX, 1&1 ("for TEXT command": the message text). */
		{ "after rcpt command", "RCPT" },
		{ "after mail command", "MAIL" },
		{ "after data command", "DATA" },
		{ "for rcpt command", "RCPT" },
		{ "for text command", "DATA" },
		{ "for data command", "DATA" },
		{ "[rcpt_to]", "RCPT" },
		{ "[mail_from]", "MAIL" },
		{ "smtp:rcpt", "RCPT" },
		{ "smtp:mail", "MAIL" },
		{ "smtp:data", "DATA" },
		{ "(state 13)", "EHLO" },
		{ "(state 14)", "RCPT" },
		{ "(state 15)", "DATA" },
		{ "(state 17)", "DATA" },
		{ "(state 18)", "DATA" },
		{ "rcpt to:", "RCPT" },
		{ "did not like our rcpt", "RCPT" },
		{ "does not like recipient", "RCPT" },
		{ "final data", "DATA" },
		{ "mail from:", "MAIL" },
		{ "sender was rejected", "MAIL" },
		{ "my name was rejected", "HELO" },
		{ "but greeting failed", "HELO" },
		{ "failed on data command", "DATA" },
		{ "failed after i sent the message", "DATA" },
		{ "to data command", "DATA" },
		{ "to ehlo", "EHLO" },
		{ "to helo", "HELO" },
		{ "end of data", "DATA" },
		{ "while performing the helo", "HELO" },
		{ "while performing the ehlo", "EHLO" },
		{ "refused to talk to me", "HELO" },
		{ "after initial connection", "HELO" },
	};
	if (!text)
		return NULL;
	const char *from_transcript = transcript_command (text);
	if (from_transcript)
		return from_transcript;
	char buf[2048];
	gsize n = MIN (strlen (text), sizeof buf - 1);
	for (gsize i = 0; i < n; i++)
		buf[i] = g_ascii_tolower (text[i]);
	buf[n] = '\0';
	for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
		if (strstr (buf, table[i].needle))
			return table[i].command;
	return NULL;
}

/* A multi-line SMTP reply, unfolded, repeats its codes on every line:
 * "550-5.7.1 Messages with multiple 550-5.7.1 addresses ...".  Drop the
 * repeats so the words read as the server wrote them.  NULL when there
 * is nothing to drop. */
static char *
join_continuations (const char *diag)
{
	char reply[4];
	const char *p = diag;
	/* The reply the text starts with, possibly after "host x said: ". */
	for (; *p; p++)
		if (reply_code_at (diag, p) && (p[3] == '-' || p[3] == ' '))
			break;
	if (!*p)
		return NULL;
	memcpy (reply, p, 3);
	reply[3] = '\0';
	gsize elen = 0;
	const char *code = p + 4;
	elen = enhanced_code_at (diag, code);

	GString *out = NULL;
	const char *q = p + 4;
	const char *last = diag;
	while ((q = strstr (q, reply))) {
		if (q[-1] != ' ' || (q[3] != '-' && q[3] != ' ')) {
			q += 3;
			continue;
		}
		const char *after = q + 4;
		if (elen && strncmp (after, code, elen) == 0 && after[elen] == ' ')
			after += elen + 1;
		else if (elen)
			{ q += 3; continue; }
		if (!out)
			out = g_string_new (NULL);
		g_string_append_len (out, last, q - last);
		last = after;
		q = after;
	}
	if (!out)
		return NULL;
	g_string_append (out, last);
	return g_string_free (out, FALSE);
}

/* Status of a record: the Status field, refined by the code in the
 * remote server's reply, which is the more direct evidence (reporting
 * MTAs summarise it as x.0.0 or guess a detail).  When the two disagree
 * on the class, the reply code's class decides.  A record with no code at
 * all gets the generic code of its class (x.0.0), from its reply code or
 * Action, so every failure has a status. */
void
bdb_diag_finish_record (BdbRecord *rec)
{
	const char *diag = rec->v[BDB_FIELD_DIAGNOSTIC];
	if (diag) {
		char *joined = join_continuations (diag);
		if (joined) {
			bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, joined, -1);
			diag = rec->v[BDB_FIELD_DIAGNOSTIC];
			g_free (joined);
		}
	}
	const char *ds = rec->v[BDB_FIELD_DSN_STATUS];
	char dc[16], reply[4];
	gboolean have_dc = bdb_find_enhanced_code (diag, dc);
	gboolean have_reply = rec->v[BDB_FIELD_REPLY_CODE] != NULL;
	if (!have_reply && bdb_find_reply_code (diag, reply)) {
		bdb_record_set (rec, BDB_FIELD_REPLY_CODE, reply, -1);
		have_reply = TRUE;
	}
	const char *rc = rec->v[BDB_FIELD_REPLY_CODE];
	const char *status = bdb_status_is_valid (ds) ? ds : NULL;

	if (have_dc && strcmp (dc, status ? status : "") != 0) {
		gsize n = strlen (dc);
		if (!status)
			status = dc;
		else if (dc[0] != status[0])
			status = rc && rc[0] == dc[0] ? dc : status;
		else if (!code_is_vague (dc, n) || code_is_vague (status, strlen (status)))
			status = code_is_vague (dc, n) && g_str_has_suffix (dc, ".0.0") ? status : dc;
	}
	char generic[8];
	if (!status) {
		const char *action = rec->v[BDB_FIELD_ACTION];
		char klass = !action ? '\0'
		           : rc ? rc[0]
		           : strcmp (action, "failed") == 0 ? '5'
		           : strcmp (action, "delayed") == 0 ? '4'
		           : strcmp (action, "delivered") == 0 || strcmp (action, "relayed") == 0 ||
		             strcmp (action, "expanded") == 0 ? '2' : '\0';
		if (klass) {
			g_snprintf (generic, sizeof generic, "%c.0.0", klass);
			status = generic;
		}
	}
	if (status && status != rec->v[BDB_FIELD_STATUS])
		bdb_record_set (rec, BDB_FIELD_STATUS, status, -1);

	if (!rec->v[BDB_FIELD_SMTP_COMMAND]) {
		const char *cmd = bdb_find_smtp_command (diag);
		if (!cmd)
			cmd = bdb_find_smtp_command (rec->context);
		if (cmd)
			bdb_record_set (rec, BDB_FIELD_SMTP_COMMAND, cmd, -1);
	}
}

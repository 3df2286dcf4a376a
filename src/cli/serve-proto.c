/* bouncedb serve: the two Postfix protocols, bytes in and bytes out.
 *
 * socketmap_table(5): each request is a netstring "LEN:NAME KEY," and
 * each reply one too: "OK VALUE", "NOTFOUND ", "TEMP REASON", "PERM
 * REASON".  Two maps: "access" (check_recipient_access) and "transport"
 * (transport_maps).  Postfix looks up partial keys too (the domain,
 * "user@"): only a whole address gets an answer, so a domain that is not
 * suppressed never matches by accident.
 *
 * The SMTPD access policy delegation protocol (SMTPD_POLICY_README):
 * "name=value" lines, an empty line ends the request; the reply is
 * "action=...", an empty line.  Only the recipient is asked about.
 *
 * Both keep a connection open for many requests (Postfix reuses it).
 * Input is consumed as it comes, in whatever pieces the socket gives; a
 * request beyond max_line_length, or one that is not what the protocol
 * says, ends the connection after a PERM reply: Postfix logs it and
 * answers a temporary failure for that lookup.
 */
#include <string.h>
#include "serve.h"

void
serve_netstring (GString *out, const char *s)
{
	g_string_append_printf (out, "%" G_GSIZE_FORMAT ":%s,", strlen (s), s);
}

static void
consume (GByteArray *in, gsize n)
{
	g_byte_array_remove_range (in, 0, (guint) n);
}

/* The reply to one socketmap request. */
static void
socketmap_reply (Serve *sv, const char *req, gsize len, GString *out)
{
	sv->requests[SERVE_SOCKETMAP]++;
	const char *sp = memchr (req, ' ', len);
	if (!sp || memchr (req, '\0', len)) {
		serve_netstring (out, "PERM expected a map name, a space and a key");
		return;
	}
	gsize nlen = (gsize) (sp - req);
	gboolean access = nlen == 6 && memcmp (req, "access", 6) == 0;
	gboolean transport = nlen == 9 && memcmp (req, "transport", 9) == 0;
	if (!access && !transport) {
		serve_netstring (out, "PERM unknown map (bouncedb serves 'access' and 'transport')");
		return;
	}
	g_autofree char *key = g_strndup (sp + 1, len - nlen - 1);
	const char *at = strrchr (key, '@');
	/* Postfix's partial keys: "domain", "user@", "@domain". */
	if (!at || at == key || at[1] == '\0') {
		serve_netstring (out, "NOTFOUND ");
		return;
	}
	g_autofree char *address = NULL;
	g_autoptr (BdbSuppression) hit = NULL;
	GError *error = NULL;
	ServeAnswer a = serve_lookup (sv, SERVE_SOCKETMAP, NULL, key, &address, &hit, &error);
	if (a == SERVE_ANSWER_BUSY || a == SERVE_ANSWER_ERROR) {
		g_autofree char *reply = g_strdup_printf ("TEMP bouncedb: %s", error->message);
		g_strdelimit (reply, "\r\n", ' ');
		serve_netstring (out, reply);
	} else if (a == SERVE_ANSWER_SUPPRESSED) {
		g_autofree char *action = serve_action (sv, access ? sv->config->access : sv->config->transport,
		                                        address, hit);
		if (*action) {
			g_autofree char *reply = g_strconcat ("OK ", action, NULL);
			serve_netstring (out, reply);
		} else {
			serve_netstring (out, "NOTFOUND ");
		}
	} else {
		serve_netstring (out, "NOTFOUND ");
	}
	g_clear_error (&error);
}

gboolean
serve_socketmap_input (Serve *sv, GByteArray *in, GString *out, char **problem)
{
	gsize max = sv->config->max_line_length;
	gsize start = 0;
	gboolean ok = TRUE;
	for (;;) {
		const char *p = (const char *) in->data + start;
		gsize n = in->len - start, i = 0, len = 0;
		while (i < n && g_ascii_isdigit (p[i])) {
			len = len * 10 + (gsize) (p[i] - '0');
			if (len > max) {
				*problem = g_strdup_printf ("netstring longer than max_line_length (%" G_GSIZE_FORMAT ")", max);
				ok = FALSE;
				break;
			}
			i++;
		}
		if (!ok || i == n)
			break;  /* more to come (or nothing) */
		if (i == 0 || p[i] != ':') {
			*problem = g_strdup ("not a netstring");
			ok = FALSE;
			break;
		}
		if (n < i + 1 + len + 1)
			break;
		if (p[i + 1 + len] != ',') {
			*problem = g_strdup ("netstring without its ','");
			ok = FALSE;
			break;
		}
		socketmap_reply (sv, p + i + 1, len, out);
		start += i + 1 + len + 1;
	}
	consume (in, start);
	if (!ok) {
		sv->protocol_errors[SERVE_SOCKETMAP]++;
		g_autofree char *reply = g_strconcat ("PERM ", *problem, NULL);
		serve_netstring (out, reply);
	}
	return ok;
}

void
serve_policy_clear (ServePolicy *p)
{
	g_clear_pointer (&p->request, g_free);
	g_clear_pointer (&p->recipient, g_free);
	p->n = 0;
}

static void
policy_reply (Serve *sv, ServePolicy *st, GString *out)
{
	sv->requests[SERVE_POLICY]++;
	const char *action = "DUNNO";
	g_autofree char *owned = NULL;
	if (st->request && strcmp (st->request, "smtpd_access_policy") == 0 && st->recipient &&
	    *st->recipient) {
		g_autofree char *address = NULL;
		g_autoptr (BdbSuppression) hit = NULL;
		GError *error = NULL;
		ServeAnswer a = serve_lookup (sv, SERVE_POLICY, NULL, st->recipient, &address, &hit, &error);
		if (a == SERVE_ANSWER_BUSY || a == SERVE_ANSWER_ERROR) {
			/* Refuse nothing for good on our own trouble: the client may
			 * try again, and other restrictions still decide. */
			action = owned = g_strdup_printf ("DEFER_IF_PERMIT 4.3.0 bouncedb: %s", error->message);
			g_strdelimit (owned, "\r\n", ' ');
		} else if (a == SERVE_ANSWER_SUPPRESSED) {
			owned = serve_action (sv, sv->config->access, address, hit);
			if (*owned)
				action = owned;
		}
		g_clear_error (&error);
	}
	g_string_append_printf (out, "action=%s\n\n", action);
	serve_policy_clear (st);
}

gboolean
serve_policy_input (Serve *sv, ServePolicy *st, GByteArray *in, GString *out, char **problem)
{
	gsize max = sv->config->max_line_length;
	gsize start = 0;
	gboolean ok = TRUE;
	while (start < in->len) {
		const char *line = (const char *) in->data + start;
		const char *nl = memchr (line, '\n', in->len - start);
		if (!nl) {
			if (in->len - start > max) {
				*problem = g_strdup_printf ("line longer than max_line_length (%" G_GSIZE_FORMAT ")", max);
				ok = FALSE;
			}
			break;
		}
		gsize len = (gsize) (nl - line);
		start += len + 1;
		if (len && line[len - 1] == '\r')
			len--;
		if (len > max) {
			*problem = g_strdup_printf ("line longer than max_line_length (%" G_GSIZE_FORMAT ")", max);
			ok = FALSE;
			break;
		}
		if (len == 0) {
			policy_reply (sv, st, out);
			continue;
		}
		const char *eq = memchr (line, '=', len);
		if (!eq || eq == line || memchr (line, '\0', len)) {
			*problem = g_strdup ("expected name=value");
			ok = FALSE;
			break;
		}
		if (++st->n > sv->config->max_attributes) {
			*problem = g_strdup_printf ("more than %u attributes", sv->config->max_attributes);
			ok = FALSE;
			break;
		}
		gsize nlen = (gsize) (eq - line);
		char **slot = nlen == 7 && memcmp (line, "request", 7) == 0 ? &st->request
		            : nlen == 9 && memcmp (line, "recipient", 9) == 0 ? &st->recipient : NULL;
		if (slot) {
			g_free (*slot);
			*slot = g_strndup (eq + 1, len - nlen - 1);
		}
	}
	consume (in, start);
	if (!ok) {
		sv->protocol_errors[SERVE_POLICY]++;
		serve_policy_clear (st);
		/* Postfix reads an "action=" it does not understand as a
		 * temporary failure of the service. */
		g_string_append_printf (out, "action=DEFER_IF_PERMIT 4.3.0 bouncedb: %s\n\n", *problem);
	}
	return ok;
}

/* VERP addresses, both ways (verp.h).
 *
 * The recipient is written LOCAL=DOMAIN after the base's local part and a
 * '+' (Postfix's default VERP delimiters, and Mailman's verp_format).  A
 * local part may hold '=' and '+' itself, a domain neither: so the last
 * '=' ends the recipient's local part, and a '+' after it starts the
 * signed token.  Only the bounce bases are read, so that an ordinary
 * "user+tag=x@" address is never taken for a recipient.
 */
#include <string.h>
#include <bouncedb/address.h>
#include "verp.h"

/* Is @local (of @domain) a bounce base's local part? */
static gboolean
is_base (const char *local, gsize n, const char *domain, const char *const *bases)
{
	for (const char *const *b = bases; b && *b; b++) {
		const char *at = strrchr (*b, '@');
		if (at && (gsize) (at - *b) == n && g_ascii_strncasecmp (*b, local, n) == 0 &&
		    g_ascii_strcasecmp (at + 1, domain) == 0)
			return TRUE;
	}
	static const char mailman[] = "-bounces";
	gsize m = sizeof mailman - 1;
	return (n == 7 && g_ascii_strncasecmp (local, "bounces", 7) == 0) ||
	       (n > m && g_ascii_strncasecmp (local + n - m, mailman, m) == 0);
}

char *
bdb_verp_decode (const char *address, const char *const *bases)
{
	if (!address)
		return NULL;
	const char *at = strrchr (address, '@');
	const char *plus = at ? memchr (address, '+', (gsize) (at - address)) : NULL;
	if (!plus || plus == address || !is_base (address, (gsize) (plus - address), at + 1, bases))
		return NULL;
	const char *ext = plus + 1;
	const char *eq = NULL;
	for (const char *p = ext; p < at; p++)
		if (*p == '=')
			eq = p;
	if (!eq || eq == ext)
		return NULL;
	const char *end = memchr (eq, '+', (gsize) (at - eq));
	if (!end)
		end = at;
	if (end == eq + 1)
		return NULL;
	g_autofree char *rcpt = g_strdup_printf ("%.*s@%.*s", (int) (eq - ext), ext, (int) (end - eq - 1), eq + 1);
	return bdb_address_normalize (rcpt, BDB_ADDRESS_STRICT, NULL);
}

char *
bdb_verp_encode (const char *base, const char *recipient, const char *token)
{
	const char *at = base ? strrchr (base, '@') : NULL;
	const char *rat = recipient ? strrchr (recipient, '@') : NULL;
	if (!at || at == base || !at[1] || !rat || rat == recipient || !rat[1])
		return NULL;
	return g_strdup_printf ("%.*s+%.*s=%s%s%s%s", (int) (at - base), base, (int) (rat - recipient), recipient,
	                        rat + 1, token ? "+" : "", token ? token : "", at);
}

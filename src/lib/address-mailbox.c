/* The address inside a mailbox as people write one in a list: what
 * `mailman members` prints ("Bob Person <bob@example.net>"), a quoted
 * display name, a comment, an encoded word.  RFC 5322's mailbox grammar is
 * GMime's to read; here only what it returns is judged: exactly one
 * mailbox, whose address is written in the text (GMime is lenient and
 * would make an address of any word), then normalised as every address
 * is.  Apart from address.c so that a program that only normalises
 * addresses (the query commands) does not load GMime.
 */
#include <string.h>
#include <gmime/gmime.h>
#include <bouncedb/address.h>
#include <bouncedb/error.h>

static gpointer
init_gmime (gpointer unused)
{
	g_mime_init ();
	return NULL;
}

/* Does @haystack hold @needle, ASCII case ignored? */
static gboolean
contains (const char *haystack, const char *needle)
{
	gsize n = strlen (needle);
	for (const char *p = haystack; *p; p++)
		if (g_ascii_strncasecmp (p, needle, n) == 0)
			return TRUE;
	return FALSE;
}

char *
bdb_address_from_mailbox (const char *text, BdbAddressFlags flags, GError **error)
{
	static GOnce once = G_ONCE_INIT;
	g_once (&once, init_gmime, NULL);
	InternetAddressList *list = internet_address_list_parse (NULL, text);
	int n = list ? internet_address_list_length (list) : 0;
	InternetAddress *ia = n == 1 ? internet_address_list_get_address (list, 0) : NULL;
	const char *addr = ia && INTERNET_ADDRESS_IS_MAILBOX (ia)
	                   ? internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia)) : NULL;
	char *out = NULL;
	if (!addr || !*addr || !contains (text, addr))
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "'%s' is not one mailbox (Name <address>)", text);
	else
		out = bdb_address_normalize (addr, flags | BDB_ADDRESS_STRICT, error);
	if (list)
		g_object_unref (list);
	return out;
}

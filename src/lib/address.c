/* Address normalisation: the one place where the many spellings of an
 * address in real reports become one canonical key.
 *
 * Reports are hostile and sloppy, so the reader is forgiving about the
 * wrapping (types, brackets, display names, trailing punctuation) and
 * strict about the result (a local part and a domain, no whitespace, no
 * control characters, RFC 5321 lengths).
 */
#include <dlfcn.h>
#include <string.h>
#include <idn2.h>
#include <bouncedb/address.h>
#include <bouncedb/error.h>
#include "text.h"

/* libidn2 is opened on the first domain that is not ASCII, not at start:
 * almost every address is ASCII, and loading libidn2 with libunistring
 * took a tenth of a whole `bouncedb check`.  (bouncedb-full has it loaded
 * already, through GMime.) */
typedef struct {
	__typeof__ (idn2_to_ascii_8z) *to_ascii_8z;
	__typeof__ (idn2_strerror) *strerror;
	__typeof__ (idn2_free) *free;
	char *failure;
} IdnFunctions;

static gpointer
idn_load (gpointer unused)
{
	static IdnFunctions idn;
	void *lib = dlopen ("libidn2.so.0", RTLD_NOW | RTLD_LOCAL);

	if (lib) {
		idn.to_ascii_8z = (__typeof__ (idn2_to_ascii_8z) *) dlsym (lib, "idn2_to_ascii_8z");
		idn.strerror = (__typeof__ (idn2_strerror) *) dlsym (lib, "idn2_strerror");
		idn.free = (__typeof__ (idn2_free) *) dlsym (lib, "idn2_free");
	}
	if (!idn.to_ascii_8z || !idn.strerror || !idn.free) {
		const char *why = dlerror ();
		idn.failure = g_strdup (why ? why : "libidn2.so.0 lacks idn2_to_ascii_8z");
	}
	return &idn;
}

/* The domain in ASCII (IDNA 2008, UTS #46 non-transitional), or NULL. */
static char *
idn_to_ascii (const char *address, const char *domain, GError **error)
{
	static GOnce once = G_ONCE_INIT;
	const IdnFunctions *idn = g_once (&once, idn_load, NULL);
	char *ace = NULL;

	if (idn->failure) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_FAILED,
		             "'%s': cannot convert an international domain: %s",
		             address, idn->failure);
		return NULL;
	}
	int rc = idn->to_ascii_8z (domain, &ace, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
		             "'%s': domain is not a valid IDN: %s", address, idn->strerror (rc));
		return NULL;
	}
	char *copy = g_strdup (ace);
	idn->free (ace);
	return copy;
}

static gboolean
is_hex (char c)
{
	return g_ascii_isxdigit (c);
}

char *
bdb_xtext_decode_inplace (char *text)
{
	char *r = text, *w = text;

	while (*r) {
		if (r[0] == '+' && is_hex (r[1]) && is_hex (r[2]) &&
		    !g_ascii_islower (r[1]) && !g_ascii_islower (r[2])) {
			int c = g_ascii_xdigit_value (r[1]) * 16 + g_ascii_xdigit_value (r[2]);
			/* xtext only escapes '+', '=' and what is not printable
			 * ASCII; "+41" is a literal "+41" in a tagged address. */
			if (c == '+' || c == '=' || (c > 0 && c < 33) || c > 126) {
				*w++ = (char) c;
				r += 3;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
	return text;
}

/* RFC 6533 utf-8-addr-xtext: \x{HEX} stands for one Unicode scalar. */
static char *
utf8_escape_decode (const char *text)
{
	GString *out = g_string_sized_new (strlen (text));
	const char *p = text;

	while (*p) {
		if (p[0] == '\\' && p[1] == 'x' && p[2] == '{') {
			const char *q = p + 3;
			gunichar u = 0;
			int digits = 0;
			while (is_hex (*q) && digits < 7) {
				u = u * 16 + (gunichar) g_ascii_xdigit_value (*q++);
				digits++;
			}
			if (*q == '}' && digits > 0 && g_unichar_validate (u) && u != 0) {
				g_string_append_unichar (out, u);
				p = q + 1;
				continue;
			}
		}
		g_string_append_c (out, *p++);
	}
	return g_string_free (out, FALSE);
}

static gboolean
is_junk (char c)
{
	return c == '<' || c == '>' || c == '(' || c == ')' || c == '[' || c == ']' ||
	       c == '"' || c == '\'' || c == ',' || c == ';' || c == ':' || c == '.' ||
	       c == '{' || c == '}' || g_ascii_isspace (c);
}

/* Find the addr-spec inside @s: the contents of the first <...> holding an
 * '@', else the whitespace-separated token holding the last '@'. */
static char *
pick_addr_spec (const char *s)
{
	const char *lt, *at;

	for (lt = strchr (s, '<'); lt;) {
		const char *gt = strchr (lt + 1, '>');
		if (!gt)
			break;
		at = memchr (lt + 1, '@', (gsize) (gt - lt - 1));
		if (at)
			return g_strndup (lt + 1, (gsize) (gt - lt - 1));
		/* Every '<' before @gt closes at @gt too, around no '@' either:
		 * go on after it (a field of a million '<' took minutes). */
		lt = strchr (gt + 1, '<');
	}

	at = strrchr (s, '@');
	if (!at)
		return g_strdup (s);

	/* A quoted local part may hold spaces: "john doe"@example.com */
	const char *start = at;
	if (at > s && at[-1] == '"') {
		const char *q = at - 2;
		while (q >= s && *q != '"')
			q--;
		if (q >= s)
			start = q;
	}
	if (start == at) {
		while (start > s && !g_ascii_isspace (start[-1]) && start[-1] != '<' &&
		       start[-1] != '(' && start[-1] != ',' && start[-1] != ';' &&
		       start[-1] != ':' && start[-1] != '"' && start[-1] != '\'' &&
		       start[-1] != '[')
			start--;
	}
	const char *end = at + 1;
	while (*end && !g_ascii_isspace (*end) && *end != '>' && *end != ')' &&
	       *end != ',' && *end != ';' && *end != '"' && *end != '\'' && *end != '<')
		end++;
	return g_strndup (start, (gsize) (end - start));
}

static gboolean
has_control (const char *s)
{
	for (; *s; s++)
		if ((guchar) *s < 0x20 || *s == 0x7f)
			return TRUE;
	return FALSE;
}

static gboolean
is_ascii (const char *s)
{
	for (; *s; s++)
		if ((guchar) *s >= 0x80)
			return FALSE;
	return TRUE;
}

/* RFC 5321 4.5.3.1 and RFC 1035 2.3.4, in octets (RFC 6531 3.3 too): a
 * domain name of 255 octets on the wire is 253 in text without the root
 * dot, a label at most 63; a path holds 256 octets with its angle
 * brackets, so a mailbox at most 254.  No real address is longer, and
 * every key the store derives from an address (event keys, the domain
 * tallies) is bounded because these are (doc/store-format.md). */
#define MAX_LOCAL 64
#define MAX_DOMAIN 253
#define MAX_LABEL 63
#define MAX_ADDRESS 254

/* An ASCII label longer than MAX_LABEL?  (A label that is not ASCII is
 * measured in its A-label form, after IDNA.) */
static gboolean
has_long_label (const char *d)
{
	const char *start = d;
	gboolean ascii = TRUE;
	for (const char *p = d;; p++) {
		if (*p == '.' || *p == '\0') {
			if (ascii && p - start > MAX_LABEL)
				return TRUE;
			if (*p == '\0')
				return FALSE;
			start = p + 1;
			ascii = TRUE;
		} else if ((guchar) *p >= 0x80) {
			ascii = FALSE;
		}
	}
}

static gboolean
domain_ok (const char *d)
{
	gsize n = strlen (d);

	if (n == 0 || n > MAX_DOMAIN)
		return FALSE;
	if (d[0] == '[')  /* address literal: [192.0.2.1], [IPv6:...] */
		return d[n - 1] == ']' && n > 2 && !strpbrk (d, " \t@");
	/* The root label's dot is gone by now: a second one ("a@b.example..")
	 * would make a key that never matches (found by tests/fuzz). */
	if (d[0] == '.' || d[0] == '-' || d[n - 1] == '.' || strstr (d, ".."))
		return FALSE;
	for (const char *p = d; *p; p++) {
		guchar c = (guchar) *p;
		if (c < 0x80 && !g_ascii_isalnum (c) && c != '-' && c != '.' && c != '_')
			return FALSE;
	}
	return !has_long_label (d);
}

static gboolean
local_ok (const char *l)
{
	gsize n = strlen (l);

	if (n == 0 || n > MAX_LOCAL)
		return FALSE;
	if (l[0] == '"')
		return n >= 2 && l[n - 1] == '"';
	for (const char *p = l; *p; p++)
		if (g_ascii_isspace (*p) || strchr ("<>()[]\\,;:@\"", *p))
			return FALSE;
	return TRUE;
}

/* Validate and canonicalise a bare addr-spec. */
static char *
finish (const char *s, BdbAddressFlags flags, GError **error)
{
	const char *at;
	gsize n;

	if (!g_utf8_validate (s, -1, NULL)) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
		             "address is not valid UTF-8");
		return NULL;
	}
	if (has_control (s)) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
		             "address contains control characters");
		return NULL;
	}
	at = strrchr (s, '@');
	if (!at) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
		             "'%s' has no '@'", s);
		return NULL;
	}
	g_autofree char *local = g_strndup (s, (gsize) (at - s));
	g_autofree char *domain = bdb_text_strdown (at + 1);
	if (!local_ok (local)) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
		             "'%s' has an invalid local part", s);
		return NULL;
	}
	n = strlen (domain);
	if (n > 0 && domain[n - 1] == '.')  /* root label: "example.com." */
		domain[n - 1] = '\0';
	if (!domain_ok (domain)) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
		             "'%s' has an invalid domain", s);
		return NULL;
	}
	if (!is_ascii (domain) && !(flags & BDB_ADDRESS_UNICODE_DOMAIN)) {
		char *ace = idn_to_ascii (s, domain, error);
		if (!ace)
			return NULL;
		g_free (domain);
		domain = ace;
		/* IDNA maps the ideographic and fullwidth full stops to '.': a
		 * root dot may appear only now ("b\u3002" is "b."), and the
		 * ASCII form must pass what an ASCII domain passes (found by
		 * tests/fuzz: the result did not normalise to itself). */
		n = strlen (domain);
		if (n > 0 && domain[n - 1] == '.')
			domain[n - 1] = '\0';
		if (!domain_ok (domain)) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
			             "'%s' has an invalid domain", s);
			return NULL;
		}
	}
	if (!(flags & BDB_ADDRESS_KEEP_LOCAL_CASE)) {
		char *lower = bdb_text_strdown (local);
		g_free (local);
		local = lower;
	}
	if (strlen (local) + 1 + strlen (domain) > MAX_ADDRESS) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
		             "'%s' is longer than an address may be (%d octets)", s, MAX_ADDRESS);
		return NULL;
	}
	return g_strconcat (local, "@", domain, NULL);
}

static char *
normalize_strict (const char *text, BdbAddressFlags flags, GError **error)
{
	g_autofree char *copy = g_strdup (text);
	char *s = g_strstrip (copy);
	gsize n = strlen (s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s[n - 1] = '\0';
		s++;
	}
	if (!*s) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "empty address");
		return NULL;
	}
	return finish (s, flags, error);
}

char *
bdb_address_normalize (const char *text, BdbAddressFlags flags, GError **error)
{
	g_return_val_if_fail (text != NULL, NULL);

	const char *p = text;
	gboolean utf8_type = FALSE;

	if (flags & BDB_ADDRESS_STRICT)
		return normalize_strict (text, flags, error);
	/* Control characters make the whole field suspect: do not dig an
	 * address out of "a\x1b[31m@b". */
	for (const char *c = text; *c; c++) {
		if (((guchar) *c < 0x20 && !g_ascii_isspace (*c)) || *c == 0x7f) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
			             "address contains control characters");
			return NULL;
		}
	}

	while (g_ascii_isspace (*p))
		p++;
	if (g_ascii_strncasecmp (p, "mailto:", 7) == 0)
		p += 7;
	/* An address type: "rfc822;", "utf-8;", "x-unknown;" before any '@'. */
	const char *semi = strchr (p, ';');
	const char *at = strchr (p, '@');
	if (semi && (!at || semi < at)) {
		gboolean token = semi > p;
		for (const char *q = p; q < semi && token; q++)
			if (!g_ascii_isalnum (*q) && *q != '-' && *q != '_' && *q != '.')
				token = FALSE;
		if (token) {
			utf8_type = (gsize) (semi - p) == 5 && g_ascii_strncasecmp (p, "utf-8", 5) == 0;
			p = semi + 1;
		}
	}

	g_autofree char *spec = pick_addr_spec (p);
	g_strstrip (spec);
	/* Trailing and leading punctuation from prose: "<a@b>.", "(a@b)". */
	gsize n = strlen (spec);
	while (n > 0 && is_junk (spec[n - 1]) && !(spec[n - 1] == ']' && strchr (spec, '[')) &&
	       !(spec[n - 1] == '"' && spec[0] == '"'))
		spec[--n] = '\0';
	char *s = spec;
	while (*s && is_junk (*s) && !(*s == '"' && strchr (s + 1, '"')) && *s != '[')
		s++;

	g_autofree char *decoded = NULL;
	if (strchr (s, '+'))
		bdb_xtext_decode_inplace (s);
	if (utf8_type || strstr (s, "\\x{"))
		s = decoded = utf8_escape_decode (s);

	return finish (s, flags, error);
}

const char *
bdb_address_domain (const char *address)
{
	const char *at = address ? strrchr (address, '@') : NULL;
	return at ? at + 1 : NULL;
}

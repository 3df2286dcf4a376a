/* Signed envelope senders: see include/bouncedb/sign.h.
 *
 * The MAC binds the token to one recipient and one day, so a valid bounce
 * for alice cannot be replayed against bob, and an old one stops working
 * after max_age_days.  The local part keeps its base ("bounces+...") so a
 * recipient delimiter delivers every signed address to one mailbox.
 */
#include <string.h>
#include <bouncedb/error.h>
#include <bouncedb/sign.h>
#include "text.h"
#include "verp.h"

#define MAC_BYTES 6
#define MIN_SECRET 16

typedef struct {
	char id[9];
	char *secret;
	gsize len;
} Key;

struct _BdbSigner {
	GArray *keys;   /* Key */
};

static gboolean
valid_id (const char *id, gsize n)
{
	if (n == 0 || n > 8)
		return FALSE;
	for (gsize i = 0; i < n; i++)
		if (!g_ascii_islower (id[i]) && !g_ascii_isdigit (id[i]))
			return FALSE;
	return TRUE;
}

static void
key_clear (gpointer data)
{
	Key *k = data;
	if (k->secret) {
		memset (k->secret, 0, k->len);
		g_free (k->secret);
	}
}

BdbSigner *
bdb_signer_new (const char *keys_text, GError **error)
{
	BdbSigner *s = g_new0 (BdbSigner, 1);
	s->keys = g_array_new (FALSE, TRUE, sizeof (Key));
	g_array_set_clear_func (s->keys, key_clear);
	g_auto (GStrv) lines = g_strsplit (keys_text ? keys_text : "", "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		char *line = g_strstrip (lines[i]);
		if (!*line || *line == '#')
			continue;
		char *sp = line;
		while (*sp && !g_ascii_isspace (*sp))
			sp++;
		gsize idlen = (gsize) (sp - line);
		while (g_ascii_isspace (*sp))
			sp++;
		if (!valid_id (line, idlen) || strlen (sp) < MIN_SECRET) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
			             "line %u: want \"KEYID SECRET\" (KEYID 1-8 of a-z0-9, SECRET at least %d bytes)",
			             i + 1, MIN_SECRET);
			bdb_signer_free (s);
			return NULL;
		}
		Key k = { { 0 }, NULL, 0 };
		memcpy (k.id, line, idlen);
		for (guint j = 0; j < s->keys->len; j++) {
			if (strcmp (g_array_index (s->keys, Key, j).id, k.id) == 0) {
				g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "line %u: key id '%s' given twice",
				             i + 1, k.id);
				bdb_signer_free (s);
				return NULL;
			}
		}
		k.secret = g_strdup (sp);
		k.len = strlen (sp);
		g_array_append_val (s->keys, k);
	}
	if (s->keys->len == 0) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "no key");
		bdb_signer_free (s);
		return NULL;
	}
	return s;
}

void
bdb_signer_free (BdbSigner *signer)
{
	if (!signer)
		return;
	g_array_unref (signer->keys);
	g_free (signer);
}

static void
compute_mac (const Key *k, const char *recipient, gint64 day, char out[2 * MAC_BYTES + 1])
{
	GHmac *h = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) k->secret, k->len);
	g_autofree char *lower = bdb_text_strdown (recipient);
	g_autofree char *msg = g_strdup_printf ("bouncedb-v1|%s|%" G_GINT64_FORMAT "|%s", k->id, day, lower);
	g_hmac_update (h, (const guchar *) msg, -1);
	guint8 digest[32];
	gsize n = sizeof digest;
	g_hmac_get_digest (h, digest, &n);
	g_hmac_unref (h);
	for (int i = 0; i < MAC_BYTES; i++)
		g_snprintf (out + 2 * i, 3, "%02x", digest[i]);
}

/* "KEYID.DAY.MAC" for @recipient, or NULL when @base is not an address. */
static char *
token_for (const BdbSigner *signer, const char *base, const char *recipient, gint64 day, GError **error)
{
	const char *at = base ? strrchr (base, '@') : NULL;
	if (!at || at == base || !at[1]) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "'%s' is not an address", base ? base : "");
		return NULL;
	}
	const Key *k = &g_array_index (signer->keys, Key, 0);
	char mac[2 * MAC_BYTES + 1];
	compute_mac (k, recipient, day, mac);
	return g_strdup_printf ("%s.%" G_GINT64_FORMAT ".%s", k->id, day, mac);
}

char *
bdb_sign_envelope (const BdbSigner *signer, const char *base, const char *recipient, gint64 day,
                   GError **error)
{
	g_autofree char *token = token_for (signer, base, recipient, day, error);
	if (!token)
		return NULL;
	const char *at = strrchr (base, '@');
	return g_strdup_printf ("%.*s+%s%s", (int) (at - base), base, token, at);
}

char *
bdb_sign_envelope_verp (const BdbSigner *signer, const char *base, const char *recipient, gint64 day,
                        GError **error)
{
	g_autofree char *token = token_for (signer, base, recipient, day, error);
	if (!token)
		return NULL;
	char *verp = bdb_verp_encode (base, recipient, token);
	if (!verp)
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "'%s' is not an address", recipient);
	return verp;
}

BdbTokenResult
bdb_verify_envelope (const BdbSigner *signer, const char *address, const char *recipient,
                     gint64 today, guint max_age_days)
{
	if (!address || !recipient)
		return BDB_TOKEN_MISSING;
	const char *at = strrchr (address, '@');
	if (!at)
		return BDB_TOKEN_MISSING;
	/* The token is what follows the last '+' of the local part. */
	const char *plus = NULL;
	for (const char *p = address; p < at; p++)
		if (*p == '+')
			plus = p;
	if (!plus)
		return BDB_TOKEN_MISSING;
	g_autofree char *token = g_strndup (plus + 1, (gsize) (at - plus - 1));
	g_auto (GStrv) parts = g_strsplit (token, ".", -1);
	if (g_strv_length (parts) != 3 || strlen (parts[2]) != 2 * MAC_BYTES)
		return BDB_TOKEN_MISSING;
	char *end;
	gint64 day = g_ascii_strtoll (parts[1], &end, 10);
	if (*end || end == parts[1])
		return BDB_TOKEN_MISSING;
	const Key *key = NULL;
	for (guint i = 0; i < signer->keys->len; i++)
		if (g_ascii_strcasecmp (g_array_index (signer->keys, Key, i).id, parts[0]) == 0)
			key = &g_array_index (signer->keys, Key, i);
	if (!key)
		return BDB_TOKEN_UNKNOWN_KEY;
	char mac[2 * MAC_BYTES + 1];
	compute_mac (key, recipient, day, mac);
	/* Compare every byte: no early exit to time. */
	guint diff = 0;
	for (int i = 0; i < 2 * MAC_BYTES; i++)
		diff |= (guint) (g_ascii_tolower (parts[2][i]) ^ mac[i]);
	if (diff)
		return BDB_TOKEN_BAD_MAC;
	if (day > today + 1 || today - day > (gint64) max_age_days)
		return BDB_TOKEN_EXPIRED;
	return BDB_TOKEN_VALID;
}

const char *
bdb_token_result_name (BdbTokenResult result)
{
	switch (result) {
	case BDB_TOKEN_VALID: return "valid token";
	case BDB_TOKEN_MISSING: return "no signed envelope sender";
	case BDB_TOKEN_UNKNOWN_KEY: return "token signed with an unknown key";
	case BDB_TOKEN_BAD_MAC: return "token not signed for this recipient";
	case BDB_TOKEN_EXPIRED: return "token expired";
	}
	return "invalid token";
}

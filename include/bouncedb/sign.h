/* bouncedb: signed envelope senders, against forged bounces.
 *
 * Anyone can send a DSN naming any recipient.  When a list manager sends
 * each message with an envelope sender signed for its recipient,
 *
 *     bounces+KEYID.DAY.MAC@lists.example.org
 *
 * where MAC is an HMAC-SHA256 (first 6 bytes, hex) over the recipient and
 * the day, then a genuine bounce comes back to that address and proves
 * which recipient it is about.  A report without a valid, fresh token for
 * the recipient it names cannot suppress anyone (policy.h).  Keys have ids
 * so they can be rotated: the first key signs, every key verifies.
 *
 * The VERP form writes the recipient in too, before the token:
 *
 *     bounces+alice=example.com+KEYID.DAY.MAC@lists.example.org
 *
 * so a bounce whose text names nobody is still attributed (the recipient
 * is decoded from the address it came back to) and verified: the token is
 * what follows the last '+', as in the plain form, and covers only the
 * recipient it was signed for.
 */
#ifndef BOUNCEDB_SIGN_H
#define BOUNCEDB_SIGN_H

#include <glib.h>
#include <bouncedb/version.h>

G_BEGIN_DECLS

typedef struct _BdbSigner BdbSigner;

/* Keys from text: one "KEYID SECRET" per line, '#' comments; KEYID is 1-8
 * of [a-z0-9], SECRET at least 16 bytes.  The first key signs.  Returns
 * NULL with BDB_ERROR_INVALID naming the line.  Free with bdb_signer_free(). */
BDB_API BdbSigner *bdb_signer_new (const char *keys_text, GError **error);
BDB_API void bdb_signer_free (BdbSigner *signer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbSigner, bdb_signer_free)

/* The envelope sender to use for mail to @recipient (a normalised
 * address) sent on @day (days since the epoch, UTC), built on @base
 * ("bounces@lists.example.org").  NULL with @error when @base is not an
 * address.  g_free() it. */
BDB_API char *bdb_sign_envelope (const BdbSigner *signer, const char *base, const char *recipient,
                                 gint64 day, GError **error);

/* The same in the VERP form: the recipient and the token together.  A new
 * string (g_free()), or NULL with @error set. */
BDB_API char *bdb_sign_envelope_verp (const BdbSigner *signer, const char *base, const char *recipient,
                                      gint64 day, GError **error);

typedef enum {
	BDB_TOKEN_VALID = 0,
	BDB_TOKEN_MISSING,      /* the address carries no token */
	BDB_TOKEN_UNKNOWN_KEY,
	BDB_TOKEN_BAD_MAC,      /* not signed for this recipient: forged or replayed */
	BDB_TOKEN_EXPIRED,      /* older than the allowed age (or from the future) */
} BdbTokenResult;

/* Check that @address (an envelope sender seen in a report) carries a
 * token signed for @recipient, at most @max_age_days old on day @today. */
BDB_API BdbTokenResult bdb_verify_envelope (const BdbSigner *signer, const char *address,
                                            const char *recipient, gint64 today,
                                            guint max_age_days);
/* A short English description of @result ("no token"); static. */
BDB_API const char *bdb_token_result_name (BdbTokenResult result);

G_END_DECLS

#endif

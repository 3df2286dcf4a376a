/* VERP: the recipient of a message written into its envelope sender, so
 * that a bounce names its recipient by the address it comes back to,
 * whatever its text says.  Not installed.
 *
 *     bounces+alice=example.com@lists.example.org          Postfix (+=)
 *     news-bounces+alice=example.com@lists.example.org     Mailman
 *     bounces+alice=example.com+k1.20415.3f1c0a9b2e7d@...   signed (sign.h)
 *
 * Layering: beside address.c, below the view (which notes the recipient a
 * bounce's envelope names) and sign.c (which writes the signed form). */
#ifndef BOUNCEDB_VERP_H
#define BOUNCEDB_VERP_H

#include <glib.h>

/* The recipient @address names, normalised, when it is a VERP address of
 * a bounce base: one of @bases ("bounces@lists.example.org": its local
 * part, same domain), or any "bounces" or Mailman "LIST-bounces" local
 * part.  A signed token after the recipient is left out.  NULL when it is
 * none.  g_free(). */
char *bdb_verp_decode (const char *address, const char *const *bases);

/* @base ("bounces@lists.example.org") with @recipient written into it,
 * and @token ("k1.20415.3f1c0a9b2e7d") after it when not NULL.  NULL when
 * @base or @recipient is not an address.  g_free(). */
char *bdb_verp_encode (const char *base, const char *recipient, const char *token);

#endif

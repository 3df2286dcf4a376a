/* Changes through a Redis (or Valkey) stream: XADD to publish, consumer
 * groups to apply (redis.h).
 *
 * Why hiredis rather than a pipe to redis-cli: applying needs consumer
 * groups with an acknowledgement only after our commit, and the pending
 * entries of a consumer that died read again at start (XREADGROUP ... 0);
 * driving that through redis-cli's text output would be more code, and
 * more fragile, than these few calls of a small, packaged library.
 */
#include <string.h>
#include <hiredis/hiredis.h>
#include "redis.h"

#define BATCH 500
#define BLOCK_MS 5000

static void
set_error (GError **error, redisContext *c, redisReply *r, const char *what)
{
	const char *why = r && r->type == REDIS_REPLY_ERROR ? r->str
	                : c && c->err ? c->errstr : "no reply";
	g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "redis: %s: %s", what, why);
}

/* redis://HOST[:PORT][/DB], unix:PATH or unix://PATH. */
static redisContext *
connect_url (const char *url, GError **error)
{
	struct timeval tv = { 10, 0 };
	redisContext *c = NULL;
	int db = 0;
	if (g_str_has_prefix (url, "unix:")) {
		const char *path = url + 5;
		if (g_str_has_prefix (path, "//"))
			path += 2;
		c = redisConnectUnixWithTimeout (path, tv);
	} else if (g_str_has_prefix (url, "redis://")) {
		g_autofree char *hostport = g_strdup (url + 8);
		char *slash = strchr (hostport, '/');
		if (slash) {
			*slash = '\0';
			db = atoi (slash + 1);
		}
		char *at = strrchr (hostport, '@');  /* no passwords on the command line */
		const char *host = at ? at + 1 : hostport;
		char *colon = strrchr (host, ':');
		int port = 6379;
		if (colon) {
			*colon = '\0';
			port = atoi (colon + 1);
		}
		c = redisConnectWithTimeout (*host ? host : "127.0.0.1", port, tv);
	} else {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID,
		             "redis: '%s' is not redis://HOST:PORT or unix:PATH", url);
		return NULL;
	}
	if (!c || c->err) {
		set_error (error, c, NULL, url);
		if (c)
			redisFree (c);
		return NULL;
	}
	if (db) {
		redisReply *r = redisCommand (c, "SELECT %d", db);
		gboolean ok = r && r->type != REDIS_REPLY_ERROR;
		if (!ok)
			set_error (error, c, r, "SELECT");
		if (r)
			freeReplyObject (r);
		if (!ok) {
			redisFree (c);
			return NULL;
		}
	}
	return c;
}

gboolean
cli_redis_publish (const char *url, const char *stream, GPtrArray *lines, GError **error)
{
	if (lines->len == 0)
		return TRUE;
	redisContext *c = connect_url (url, error);
	if (!c)
		return FALSE;
	/* Pipelined: one round trip for the batch. */
	for (guint i = 0; i < lines->len; i++)
		redisAppendCommand (c, "XADD %s * event %s", stream, (const char *) lines->pdata[i]);
	gboolean ok = TRUE;
	for (guint i = 0; i < lines->len; i++) {
		redisReply *r = NULL;
		if (redisGetReply (c, (void **) &r) != REDIS_OK || !r || r->type == REDIS_REPLY_ERROR) {
			if (ok)
				set_error (error, c, r, "XADD");
			ok = FALSE;
		}
		if (r)
			freeReplyObject (r);
		if (!r)
			break;
	}
	redisFree (c);
	return ok;
}

/* Add the "event" values of an XREADGROUP reply's entries to @lines and
 * their ids to @ids. */
static void
take_entries (redisReply *r, GPtrArray *lines, GPtrArray *ids)
{
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t s = 0; s < r->elements; s++) {
		redisReply *st = r->element[s];
		if (st->type != REDIS_REPLY_ARRAY || st->elements < 2 || st->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		redisReply *entries = st->element[1];
		for (size_t e = 0; e < entries->elements; e++) {
			redisReply *entry = entries->element[e];
			if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2)
				continue;
			g_ptr_array_add (ids, g_strdup (entry->element[0]->str));
			redisReply *fields = entry->element[1];
			if (fields->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t f = 0; f + 1 < fields->elements; f += 2)
				if (fields->element[f]->str && strcmp (fields->element[f]->str, "event") == 0)
					g_ptr_array_add (lines, g_strndup (fields->element[f + 1]->str, fields->element[f + 1]->len));
		}
	}
}

int
cli_redis_apply (Cli *cli, const char *url, const char *stream, const char *group, const char *consumer,
                 gboolean follow, CliRedisBatchFunc commit, GPtrArray *lines, gpointer data)
{
	GError *error = NULL;
	redisContext *c = connect_url (url, &error);
	if (!c)
		return cli_fail (cli, url, &error);
	redisReply *r = redisCommand (c, "XGROUP CREATE %s %s 0 MKSTREAM", stream, group);
	if (!r || (r->type == REDIS_REPLY_ERROR && !g_str_has_prefix (r->str, "BUSYGROUP"))) {
		set_error (&error, c, r, "XGROUP CREATE");
		if (r)
			freeReplyObject (r);
		redisFree (c);
		return cli_fail (cli, url, &error);
	}
	freeReplyObject (r);
	g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
	/* First what this consumer was given and never acknowledged (it died
	 * before its commit), then new entries. */
	gboolean pending = TRUE;
	for (;;) {
		g_ptr_array_set_size (ids, 0);
		if (pending)
			r = redisCommand (c, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s 0", group, consumer, BATCH, stream);
		else if (follow)
			r = redisCommand (c, "XREADGROUP GROUP %s %s COUNT %d BLOCK %d STREAMS %s >", group, consumer,
			                  BATCH, BLOCK_MS, stream);
		else
			r = redisCommand (c, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s >", group, consumer, BATCH, stream);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			set_error (&error, c, r, "XREADGROUP");
			break;
		}
		take_entries (r, lines, ids);
		freeReplyObject (r);
		if (ids->len == 0) {
			if (pending) {
				pending = FALSE;
				continue;
			}
			if (!follow)
				break;
			continue;
		}
		if (!commit (data, &error))
			break;
		/* Acknowledged only now that the changes are committed: a crash
		 * before this reads them again, and merging them twice is harmless. */
		GPtrArray *argv = g_ptr_array_new ();
		g_ptr_array_add (argv, (gpointer) "XACK");
		g_ptr_array_add (argv, (gpointer) stream);
		g_ptr_array_add (argv, (gpointer) group);
		for (guint i = 0; i < ids->len; i++)
			g_ptr_array_add (argv, ids->pdata[i]);
		r = redisCommandArgv (c, (int) argv->len, (const char **) argv->pdata, NULL);
		g_ptr_array_unref (argv);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			set_error (&error, c, r, "XACK");
			if (r)
				freeReplyObject (r);
			break;
		}
		freeReplyObject (r);
	}
	redisFree (c);
	return error ? cli_fail (cli, url, &error) : EX_OK;
}

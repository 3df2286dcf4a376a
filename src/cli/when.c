/* Times and durations as people write them and as bouncedb prints them,
 * and the clock.  It calls nothing else of src/cli: the configuration,
 * its key table, the hooks' settings and the commands all read times
 * here, so none of them has to call another for a duration. */
#include <string.h>
#include "cli.h"

gint64
cli_now (void)
{
	/* BOUNCEDB_NOW pins the clock, for tests of expiry and windows. */
	const char *pinned = g_getenv ("BOUNCEDB_NOW");
	if (pinned && *pinned)
		return g_ascii_strtoll (pinned, NULL, 10);
	return g_get_real_time () / G_USEC_PER_SEC;
}

/* "30d", "12h", "90m", "3600" (seconds), "0" or "never". */
gboolean
cli_parse_duration (const char *text, gint64 *seconds)
{
	if (!text || !*text)
		return FALSE;
	if (g_ascii_strcasecmp (text, "never") == 0) {
		*seconds = 0;
		return TRUE;
	}
	char *end;
	guint64 n = g_ascii_strtoull (text, &end, 10);
	if (end == text)
		return FALSE;
	gint64 unit = 1;
	switch (g_ascii_tolower (*end)) {
	case '\0': case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	case 'y': unit = 365 * 86400; break;
	default: return FALSE;
	}
	if (*end && end[1])
		return FALSE;
	*seconds = (gint64) n * unit;
	return TRUE;
}

char *
cli_format_time (gint64 t)
{
	if (t <= 0)
		return g_strdup ("-");
	g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
	return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("-");
}

gboolean
cli_parse_time (const char *text, gint64 now, gint64 direction, gint64 *out)
{
	if (!text || !*text)
		return FALSE;
	if (text[0] == '@') {
		char *end;
		gint64 v = g_ascii_strtoll (text + 1, &end, 10);
		if (*end || end == text + 1)
			return FALSE;
		*out = v;
		return TRUE;
	}
	gint64 secs;
	if (g_ascii_isdigit (text[0]) && cli_parse_duration (text, &secs) && !strchr (text, '-')) {
		*out = now + direction * secs;
		return TRUE;
	}
	/* 2026-11-01, 2026-11-01T10:00:00Z, 2026-11-01 10:00:00+01:00 */
	g_autofree char *iso = NULL;
	if (strlen (text) == 10)
		iso = g_strconcat (text, "T00:00:00Z", NULL);
	else
		iso = g_strdelimit (g_strdup (text), " ", 'T');
	g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
	g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (iso, utc);
	if (!dt)
		return FALSE;
	*out = g_date_time_to_unix (dt);
	return TRUE;
}

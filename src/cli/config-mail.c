/* The configuration of the commands that read mail and apply policy:
 * classification rules, parsing limits, the policy.  Apart from config.c
 * so that the query commands do not link the parser (see main.c). */
#include "cli.h"

BdbRules *
cli_rules (Cli *cli, GError **error)
{
	BdbRules *rules = bdb_rules_new (error);
	if (!rules)
		return NULL;
	g_autofree char *file = g_key_file_get_string (cli->config, "classify", "rules_file", NULL);
	GError *e = NULL;
	if (file && *file && !bdb_rules_add_file (rules, file, &e)) {
		/* A rules file is configuration: a mistake in it is EX_CONFIG. */
		if (e->domain == BDB_ERROR && e->code == BDB_ERROR_INVALID)
			g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s", e->message);
		else
			g_propagate_error (error, g_steal_pointer (&e));
		g_clear_error (&e);
		bdb_rules_free (rules);
		return NULL;
	}
	return rules;
}

/* A count in [limits]: like a size, at most G_MAXUINT. */
static guint
get_count (GKeyFile *kf, const char *group, const char *key, guint fallback)
{
	return (guint) MIN (cli_config_size (kf, group, key, fallback), (guint64) G_MAXUINT);
}

char **
cli_parse_options_from_config (Cli *cli, BdbParseOptions *opts)
{
	bdb_parse_options_init (opts);
	GKeyFile *kf = cli->config;
	opts->max_message_size = cli_config_size (kf, "limits", "max_message_size", opts->max_message_size);
	opts->max_recipients = get_count (kf, "limits", "max_recipients", opts->max_recipients);
	opts->max_depth = get_count (kf, "limits", "max_depth", opts->max_depth);
	opts->max_header_size = cli_config_size (kf, "limits", "max_header_size", opts->max_header_size);
	opts->max_part_size = cli_config_size (kf, "limits", "max_part_size", opts->max_part_size);
	opts->max_line_length = cli_config_size (kf, "limits", "max_line_length", opts->max_line_length);
	opts->max_headers = get_count (kf, "limits", "max_headers", opts->max_headers);
	opts->max_parts = get_count (kf, "limits", "max_parts", opts->max_parts);
	opts->max_address_bytes = cli_config_size (kf, "limits", "max_address_bytes", opts->max_address_bytes);
	/* The headers the feed names campaigns by must be kept too. */
	g_auto (GStrv) asked = g_key_file_get_string_list (kf, "parse", "keep_headers", NULL, NULL);
	GPtrArray *keep = g_ptr_array_new ();
	for (char **h = asked; h && *h; h++)
		g_ptr_array_add (keep, g_strdup (*h));
	for (const char *const *h = cli_campaign_headers (cli); *h; h++)
		g_ptr_array_add (keep, g_strdup (*h));
	g_ptr_array_add (keep, NULL);
	char **strv = (char **) g_ptr_array_free (keep, FALSE);
	opts->keep_headers = (const char *const *) strv;
	/* The bounce address [verify] base signs is a VERP base too. */
	if (!cli->verp_bases) {
		g_autofree char *base = g_key_file_get_string (kf, "verify", "base", NULL);
		cli->verp_bases = g_new0 (char *, 2);
		cli->verp_bases[0] = base && *base ? g_steal_pointer (&base) : NULL;
	}
	opts->verp_bases = (const char *const *) cli->verp_bases;
	return strv;
}

const char *const *
cli_campaign_headers (Cli *cli)
{
	static const char *const usual[] = { "X-Campaign-ID", "X-Campaign", "X-Mailgun-Campaign-Id", NULL };
	if (!cli->campaign_headers) {
		cli->campaign_headers = g_key_file_get_string_list (cli->config, "feed", "campaign_headers", NULL, NULL);
		if (!cli->campaign_headers)
			cli->campaign_headers = g_strdupv ((char **) usual);
	}
	return (const char *const *) cli->campaign_headers;
}

gboolean
cli_policy (Cli *cli, BdbPolicy *policy, GError **error)
{
	GKeyFile *kf = cli->config;
	bdb_policy_init (policy);
	policy->soft_threshold = cli_config_uint (kf, "policy", "soft_threshold", policy->soft_threshold);
	policy->soft_window_days = cli_config_uint (kf, "policy", "soft_window_days", policy->soft_window_days);
	policy->soft_span_days = cli_config_uint (kf, "policy", "soft_span_days", policy->soft_span_days);
	policy->domain_threshold = cli_config_uint (kf, "policy", "domain_threshold", policy->domain_threshold);
	policy->events_per_address = cli_config_uint (kf, "policy", "events_per_address", policy->events_per_address);
	policy->keep_local_case = g_key_file_get_boolean (kf, "policy", "keep_local_case", NULL);
	policy->campaign_headers = cli_campaign_headers (cli);
	g_autofree char *inactive = g_key_file_get_string (kf, "policy", "inactive_expiry", NULL);
	if (inactive && !cli_parse_duration (inactive, &policy->inactive_expiry)) {
		g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		             "[policy] inactive_expiry: '%s' is not a duration (like 180d)", inactive);
		return FALSE;
	}
	g_autofree char *domain = g_key_file_get_string (kf, "policy", "domain_expiry", NULL);
	if (domain && !cli_parse_duration (domain, &policy->domain_expiry)) {
		g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		             "[policy] domain_expiry: '%s' is not a duration (like 90d)", domain);
		return FALSE;
	}
	if (g_key_file_get_boolean (kf, "verify", "enabled", NULL)) {
		policy->verifier = cli_signer (cli, NULL, error);
		if (!policy->verifier)
			return FALSE;
		policy->token_max_age_days = cli_config_uint (kf, "verify", "max_age_days", policy->token_max_age_days);
	}
	/* [expiry] reason = duration, per classification reason. */
	gsize n = 0;
	g_auto (GStrv) keys = g_key_file_get_keys (kf, "expiry", &n, NULL);
	for (gsize i = 0; i < n; i++) {
		BdbReason r;
		g_autofree char *v = g_key_file_get_string (kf, "expiry", keys[i], NULL);
		if (!bdb_reason_from_name (keys[i], &r)) {
			g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
			             "[expiry] '%s' is not a reason", keys[i]);
			return FALSE;
		}
		if (!cli_parse_duration (v, &policy->expiry[r])) {
			g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			             "[expiry] %s: '%s' is not a duration (like 90d, or never)", keys[i], v);
			return FALSE;
		}
	}
	return TRUE;
}

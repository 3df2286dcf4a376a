/* What classification costs next to parsing: parse every file once
 * (timed), then classify every record of every report (timed, repeated to
 * get above timer noise).  Usage: classify-cost FILE... */
#include <stdio.h>
#include <bouncedb/bouncedb.h>

static double
now (void)
{
	return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

int
main (int argc, char **argv)
{
	g_autoptr (BdbRules) rules = bdb_rules_new (NULL);
	GPtrArray *reports = g_ptr_array_new_with_free_func ((GDestroyNotify) bdb_report_free);
	double t0 = now ();
	for (int i = 1; i < argc; i++) {
		BdbReport *r = bdb_report_parse_file (argv[i], NULL, NULL);
		if (r)
			g_ptr_array_add (reports, r);
	}
	double parse = now () - t0;
	guint records = 0;
	const int rounds = 20;
	t0 = now ();
	for (int k = 0; k < rounds; k++) {
		for (guint i = 0; i < reports->len; i++) {
			const BdbReport *r = reports->pdata[i];
			for (guint j = 0; j < bdb_report_n_records (r); j++) {
				BdbVerdict v;
				bdb_classify (rules, bdb_report_get_record (r, j), &v);
				records += k == 0;
			}
		}
	}
	double classify = (now () - t0) / rounds;
	printf ("%u messages, %u records: parse %.1f us/message, classify %.2f us/message "
	        "(%.2f us/record) = %.1f%% of parse\n", reports->len, records,
	        1e6 * parse / reports->len, 1e6 * classify / reports->len,
	        records ? 1e6 * classify / records : 0, 100.0 * classify / parse);
	g_ptr_array_unref (reports);
	return 0;
}

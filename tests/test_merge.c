/* Merging what databases know: the joins must be commutative, associative
 * and idempotent, or hosts that exchange their changes would not agree.
 * Checked over many random states drawn from small ranges, so that ties,
 * which decide the interesting cases, are frequent. */
#include <string.h>
#include "testutil.h"

static BdbSuppression *
random_suppression (GRand *r)
{
	static const char *const reasons[] = { "userunknown", "mailboxfull", "blocked", NULL };
	static const char *const mids[] = { "a@mx", "b@mx", NULL };
	BdbSuppression *s = bdb_suppression_new ("x@example.com");
	s->kind = (BdbSuppressionKind) g_rand_int_range (r, BDB_SUPPRESSION_HARD, BDB_SUPPRESSION_IMPORTED + 1);
	s->first_seen = g_rand_int_range (r, 1, 4);
	s->last_seen = s->first_seen + g_rand_int_range (r, 0, 4);
	s->count = (guint32) g_rand_int_range (r, 1, 3);
	s->removed_at = g_rand_boolean (r) ? 0 : g_rand_int_range (r, 1, 8);
	s->expires = g_rand_boolean (r) ? 0 : g_rand_int_range (r, 10, 12);
	s->reason = g_strdup (reasons[g_rand_int_range (r, 0, 3)]);
	s->report_message_id = g_strdup (mids[g_rand_int_range (r, 0, 3)]);
	s->state = s->last_seen > s->removed_at ? BDB_STATE_SUPPRESSED : BDB_STATE_REMOVED;
	return s;
}

static BdbSuppression *
joined (const BdbSuppression *a, const BdbSuppression *b)
{
	BdbSuppression *out = bdb_suppression_copy (a);
	bdb_suppression_join (out, b);
	return out;
}

static void
test_suppression_join_laws (void **state)
{
	GRand *r = g_rand_new_with_seed (20261203);
	for (int i = 0; i < 20000; i++) {
		g_autoptr (BdbSuppression) a = random_suppression (r);
		g_autoptr (BdbSuppression) b = random_suppression (r);
		g_autoptr (BdbSuppression) c = random_suppression (r);
		g_autoptr (BdbSuppression) ab = joined (a, b);
		g_autoptr (BdbSuppression) ba = joined (b, a);
		assert_true (bdb_suppression_equal (ab, ba));
		g_autoptr (BdbSuppression) ab_c = joined (ab, c);
		g_autoptr (BdbSuppression) bc = joined (b, c);
		g_autoptr (BdbSuppression) a_bc = joined (a, bc);
		assert_true (bdb_suppression_equal (ab_c, a_bc));
		g_autoptr (BdbSuppression) aa = joined (a, a);
		assert_true (bdb_suppression_equal (aa, a));
		g_autoptr (BdbSuppression) ab_b = joined (ab, b);
		assert_true (bdb_suppression_equal (ab_b, ab));
		/* A removal wins over evidence no later than it. */
		gint64 removed = MAX (a->removed_at, b->removed_at);
		assert_int_equal (ab->removed_at, removed);
		assert_int_equal (ab->state == BDB_STATE_SUPPRESSED, MAX (a->last_seen, b->last_seen) > removed);
	}
	g_rand_free (r);
}

static void
random_soft (GRand *r, BdbSoftCounter *c)
{
	static const char *const reasons[] = { "mailboxfull", "systemfull", "expired" };
	memset (c, 0, sizeof *c);
	guint n = (guint) g_rand_int_range (r, 0, 6);
	guint32 day = (guint32) g_rand_int_range (r, 100, 110);
	for (guint i = 0; i < n; i++) {
		day += (guint32) g_rand_int_range (r, 1, 30);
		c->days[c->n_days++] = day;
	}
	c->last_seen = g_rand_int_range (r, 0, 3);
	g_strlcpy (c->last_reason, reasons[g_rand_int_range (r, 0, 3)], sizeof c->last_reason);
	c->cleared_day = g_rand_boolean (r) ? 0 : (guint32) g_rand_int_range (r, 100, 160);
}

static gboolean
soft_equal (const BdbSoftCounter *a, const BdbSoftCounter *b)
{
	return a->n_days == b->n_days && memcmp (a->days, b->days, a->n_days * sizeof a->days[0]) == 0 &&
	       a->cleared_day == b->cleared_day && a->last_seen == b->last_seen &&
	       strcmp (a->last_reason, b->last_reason) == 0;
}

static void
test_soft_join_laws (void **state)
{
	GRand *r = g_rand_new_with_seed (3464);
	for (int i = 0; i < 20000; i++) {
		BdbSoftCounter a, b, c, ab, ba, ab_c, bc, a_bc, aa;
		random_soft (r, &a);
		random_soft (r, &b);
		random_soft (r, &c);
		guint window = g_rand_boolean (r) ? 30 : 0;
		/* A counter as the policy leaves it: already joined with itself. */
		bdb_soft_join (&a, &a, window);
		bdb_soft_join (&b, &b, window);
		bdb_soft_join (&c, &c, window);
		ab = a;
		bdb_soft_join (&ab, &b, window);
		ba = b;
		bdb_soft_join (&ba, &a, window);
		assert_true (soft_equal (&ab, &ba));
		ab_c = ab;
		bdb_soft_join (&ab_c, &c, window);
		bc = b;
		bdb_soft_join (&bc, &c, window);
		a_bc = a;
		bdb_soft_join (&a_bc, &bc, window);
		assert_true (soft_equal (&ab_c, &a_bc));
		aa = a;
		bdb_soft_join (&aa, &a, window);
		assert_true (soft_equal (&aa, &a));
		/* A day seen by two hosts counts once; cleared days never count. */
		for (guint k = 0; k < ab.n_days; k++) {
			assert_true (ab.days[k] > ab.cleared_day);
			if (k)
				assert_true (ab.days[k] > ab.days[k - 1]);
		}
	}
	g_rand_free (r);
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test (test_suppression_join_laws),
		cmocka_unit_test (test_soft_join_laws),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}

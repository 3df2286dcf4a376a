/* An Aho-Corasick automaton over bytes; see matcher.h.
 *
 * Nodes are a trie of the phrases.  The root's transitions are a table of
 * 256 (most bytes of a text lead back to it); every other node keeps its
 * children in a list, since a trie of phrases branches little below the
 * first byte.  Each node has a failure link (the longest proper suffix of
 * its path that is also a path) and an output link (the nearest node on
 * the failure chain that ends a phrase), so a scan follows each byte with
 * amortised constant work and reports every phrase ending there.
 */
#include <string.h>
#include "matcher.h"

typedef struct {
	guint first_child;  /* 0: none (the root is never a child) */
	guint next_sibling;
	guint fail;
	guint output;       /* nearest node on the failure chain ending a phrase, 0: none */
	gint phrase;        /* the phrase this node ends, -1: none */
	guint depth;
	guchar byte;
} Node;

struct _BdbMatcher {
	GArray *nodes;      /* Node; node 0 is the root */
	guint root_next[256];
};

static inline Node *
node (const BdbMatcher *m, guint i)
{
	return &g_array_index (m->nodes, Node, i);
}

static guint
child (const BdbMatcher *m, guint i, guchar c)
{
	if (i == 0)
		return m->root_next[c];
	for (guint k = node (m, i)->first_child; k; k = node (m, k)->next_sibling)
		if (node (m, k)->byte == c)
			return k;
	return 0;
}

static guint
add_child (BdbMatcher *m, guint parent, guchar c)
{
	Node n = { 0 };
	n.byte = c;
	n.phrase = -1;
	n.depth = node (m, parent)->depth + 1;
	g_array_append_val (m->nodes, n);
	guint k = m->nodes->len - 1;
	if (parent == 0) {
		m->root_next[c] = k;
	} else {
		Node *p = node (m, parent);
		node (m, k)->next_sibling = p->first_child;
		p->first_child = k;
	}
	return k;
}

BdbMatcher *
bdb_matcher_new (const char *const *phrases, guint n)
{
	BdbMatcher *m = g_new0 (BdbMatcher, 1);
	m->nodes = g_array_new (FALSE, TRUE, sizeof (Node));
	Node root = { 0 };
	root.phrase = -1;
	g_array_append_val (m->nodes, root);

	for (guint i = 0; i < n; i++) {
		guint at = 0;
		for (const guchar *p = (const guchar *) phrases[i]; *p; p++) {
			guint k = child (m, at, *p);
			at = k ? k : add_child (m, at, *p);
		}
		/* A phrase given twice keeps its first index. */
		if (at && node (m, at)->phrase < 0)
			node (m, at)->phrase = (gint) i;
	}

	/* Failure and output links, breadth first: a node's links need
	 * those of the nodes above it. */
	g_autoptr (GArray) queue = g_array_new (FALSE, FALSE, sizeof (guint));
	for (guint c = 0; c < 256; c++)
		if (m->root_next[c])
			g_array_append_val (queue, m->root_next[c]);
	for (guint q = 0; q < queue->len; q++) {
		guint at = g_array_index (queue, guint, q);
		for (guint k = node (m, at)->first_child; k; k = node (m, k)->next_sibling) {
			g_array_append_val (queue, k);
			guchar c = node (m, k)->byte;
			guint f = node (m, at)->fail;
			guint to;
			while (!(to = child (m, f, c)) && f)
				f = node (m, f)->fail;
			node (m, k)->fail = to != k ? to : 0;
			guint fk = node (m, k)->fail;
			node (m, k)->output = node (m, fk)->phrase >= 0 ? fk : node (m, fk)->output;
		}
	}
	return m;
}

void
bdb_matcher_free (BdbMatcher *m)
{
	if (!m)
		return;
	g_array_unref (m->nodes);
	g_free (m);
}

void
bdb_matcher_scan (const BdbMatcher *m, const char *text, gsize len, GArray *out)
{
	guint at = 0;
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar) text[i];
		guint to;
		while (!(to = child (m, at, c)) && at)
			at = node (m, at)->fail;
		at = to;
		for (guint k = node (m, at)->phrase >= 0 ? at : node (m, at)->output; k; k = node (m, k)->output) {
			const Node *hit = node (m, k);
			BdbMatch match = { i + 1 - hit->depth, i + 1, (guint) hit->phrase };
			g_array_append_val (out, match);
		}
	}
}

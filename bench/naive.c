/* The naive design the throughput targets are measured against: open each
 * file, build the whole GMime object tree from a file stream, walk every
 * part, copy out the delivery-status parts, free.  No classification, no
 * database.  Usage: naive FILE... (or a directory of files). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <gmime/gmime.h>

static gsize copied;

static void
visit (GMimeObject *parent, GMimeObject *part, gpointer data)
{
	if (!GMIME_IS_PART (part))
		return;
	GMimeContentType *ct = g_mime_object_get_content_type (part);
	if (!g_mime_content_type_is_type (ct, "message", "delivery-status") &&
	    !g_mime_content_type_is_type (ct, "message", "global-delivery-status"))
		return;
	GMimeDataWrapper *w = g_mime_part_get_content (GMIME_PART (part));
	if (!w)
		return;
	GMimeStream *mem = g_mime_stream_mem_new ();
	g_mime_data_wrapper_write_to_stream (w, mem);
	copied += (gsize) g_mime_stream_length (mem);
	g_object_unref (mem);
}

static void
one (const char *path)
{
	int fd = open (path, O_RDONLY);
	if (fd < 0)
		return;
	GMimeStream *s = g_mime_stream_fs_new (fd);
	GMimeParser *p = g_mime_parser_new_with_stream (s);
	GMimeMessage *m = g_mime_parser_construct_message (p, NULL);
	if (m) {
		g_mime_message_foreach (m, visit, NULL);
		g_object_unref (m);
	}
	g_object_unref (p);
	g_object_unref (s);
}

int
main (int argc, char **argv)
{
	g_mime_init ();
	guint n = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat (argv[i], &st) == 0 && S_ISDIR (st.st_mode)) {
			DIR *d = opendir (argv[i]);
			struct dirent *e;
			while (d && (e = readdir (d))) {
				if (e->d_name[0] == '.')
					continue;
				char *path = g_build_filename (argv[i], e->d_name, NULL);
				one (path);
				g_free (path);
				n++;
			}
			if (d)
				closedir (d);
		} else {
			one (argv[i]);
			n++;
		}
	}
	fprintf (stderr, "naive: %u messages, %zu bytes of delivery-status copied\n", n, copied);
	return 0;
}

/* A helper shared by the unit tests of codecs whose docs carry hex
 * examples. */
#ifndef PC_TESTS_DOC_EXAMPLE_H
#define PC_TESTS_DOC_EXAMPLE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/file.h"

/* Reads the hex bytes of the code block after the marker line
 * "<!-- example: NAME -->" in the document at path (docs/overlay.md and
 * docs/live.md hold their wire formats' examples so): a test fails when
 * the docs and the codec disagree. Include after cmocka.h. */
static inline size_t doc_example(const char *path, const char *name, uint8_t *out, size_t out_size)
{
	char *doc = NULL;
	size_t doc_len = 0;
	assert_int_equal(pc_file_read(path, &doc, &doc_len), 0);
	char marker[64];
	snprintf(marker, sizeof(marker), "<!-- example: %s -->", name);
	const char *at = strstr(doc, marker);
	assert_non_null(at);
	at = strstr(at, "```");
	assert_non_null(at);
	at = strchr(at, '\n');
	assert_non_null(at);
	const char *end = strstr(at, "```");
	assert_non_null(end);
	size_t n = 0;
	for (const char *p = at; p < end;) {
		if (p[0] == ' ' || p[0] == '\n') {
			p++;
			continue;
		}
		char hex[3] = {p[0], p[1], 0};
		char *stop;
		unsigned long v = strtoul(hex, &stop, 16);
		assert_ptr_equal(stop, hex + 2);
		assert_true(n < out_size);
		out[n++] = (uint8_t)v;
		p += 2;
	}
	free(doc);
	return n;
}

#endif

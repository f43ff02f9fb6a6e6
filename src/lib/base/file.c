#include "lib/base/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int pc_file_read(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -errno;
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap + 1);
	int rc = 0;
	while (buf != NULL) {
		used += fread(buf + used, 1, cap - used, f);
		if (used < cap)
			break;
		char *bigger = realloc(buf, (cap *= 2) + 1);
		if (bigger == NULL)
			free(buf);
		buf = bigger;
	}
	if (buf == NULL)
		rc = -ENOMEM;
	else if (ferror(f))
		rc = -(errno ? errno : EIO);
	fclose(f);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return 0;
}

/* file: the one whole-file reader of the project. The library parses
 * buffers and does no I/O on any answer path; this is the single exception,
 * for programs (peercdnd, peercdnctl), tests and fuzz replays that need a
 * config or a corpus file in memory. */
#ifndef PC_LIB_BASE_FILE_H
#define PC_LIB_BASE_FILE_H

#include <stddef.h>

/* Reads path whole into *out (malloc'd, owned by the caller, with a NUL
 * after the len bytes so text can be used as a string). Returns 0, or a
 * negative errno value (-ENOENT, -EACCES, -ENOMEM, ...) for pc_strerror. */
int pc_file_read(const char *path, char **out, size_t *len);

#endif

/* control: the control socket's request lines (docs/control.md), parsed
 * without allocating: what peercdnd's control socket reads and what
 * peercdnctl writes. The answers are lines the daemon writes itself. */
#ifndef PC_LIB_CONTROL_H
#define PC_LIB_CONTROL_H

#include <stddef.h>
#include <stdint.h>

enum {
	PC_CONTROL_LINE_MAX = 1024,             /* bytes of a request line with its LF */
	PC_CONTROL_PUSH_MAX = 16 * 1024 * 1024, /* bytes of a pushed config */
};

enum pc_control_command {
	PC_CONTROL_STATUS,
	PC_CONTROL_SERVERS,
	PC_CONTROL_LOAD,    /* load SERVER N */
	PC_CONTROL_DRAIN,   /* drain SERVER */
	PC_CONTROL_UNDRAIN, /* undrain SERVER */
	PC_CONTROL_PUSH,    /* push LENGTH, then LENGTH bytes of config */
	PC_CONTROL_RELOAD,
};

struct pc_control_request {
	enum pc_control_command command;
	const char *server; /* load, drain, undrain: into the line, not terminated */
	size_t server_len;
	uint32_t load;   /* load */
	size_t push_len; /* push: 0..PC_CONTROL_PUSH_MAX */
};

/* Parses one request line of len bytes, without its LF (a CR before it is
 * taken as part of the line ending). Words are separated by spaces or
 * tabs. Returns PC_OK, or PC_ESYNTAX with *why (a static sentence, the
 * answer's reason). */
int pc_control_parse(const char *line, size_t len, struct pc_control_request *req,
                     const char **why);

/* "status", "servers", ...: the command's word. */
const char *pc_control_command_name(enum pc_control_command command);

#endif

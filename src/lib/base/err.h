/* Error codes of libpeercdn. Every function that can fail returns int: 0 on
 * success, a negative code otherwise (Knot's and libuv's convention). The
 * codes are one space shared with the kernel's: a generic failure is the
 * negated errno value itself (PC_ENOMEM is -ENOMEM), so the daemon's socket
 * paths and the library return comparable numbers; the project's own
 * failures sit at -1000 and below, where no errno value reaches.
 * pc_strerror() turns any of them, or any -errno, into a sentence.
 *
 * Functions that do not return int are deliberate exceptions, each
 * documented at its declaration, in these kinds only:
 * - look-ups return an index or PC_NONE (model, netmap, affinity) or a
 *   value (live state);
 * - answer and record writers return a length, 0 for nothing to send
 *   (pc_dns_answer, pc_cdsr_answer, pc_redirect_location), and incremental
 *   parsers a long: the length taken, 0 for more input, negative for the
 *   protocol's rejection (pc_proxy_v2_parse, pc_rtsp_parse_head);
 * - outcomes that are answers, not failures, are enums (pc_redirect_outcome,
 *   pc_rrl_verdict);
 * - constructors of arena and per-connection objects return a pointer,
 *   NULL only when memory runs out (pc_arena_new, pc_strmap_new,
 *   pc_model_new, the sessions' create);
 * - predicates return bool, and so do pc_buf's appends, whose one failure
 *   is memory (false), so a response is built in one && chain;
 * - names of enum values return a static string; frees and setters that
 *   cannot fail return void.
 */
#ifndef PC_LIB_ERR_H
#define PC_LIB_ERR_H

#include <errno.h>

enum {
	PC_OK = 0,
	/* errno-compatible */
	PC_ENOMEM = -ENOMEM,   /* allocation failed */
	PC_EINVAL = -EINVAL,   /* argument out of contract */
	PC_EEXIST = -EEXIST,   /* duplicate key (prefix, name) */
	PC_ENOENT = -ENOENT,   /* no such item */
	PC_ERANGE = -ERANGE,   /* value or length out of range */
	PC_EIO = -EIO,         /* reading a file failed */
	PC_ENOSPC = -ENOSPC,   /* more items than a fixed table holds */
	PC_ENOTSUP = -ENOTSUP, /* a version or coding we do not implement */
	/* the project's own */
	PC_ECONFIG = -1000,     /* config has errors; see the diagnostics */
	PC_ESYNTAX = -1001,     /* malformed input */
	PC_ENOZONE = -1002,     /* name is under no CDN domain we know */
	PC_ENOCUSTOMER = -1003, /* codepoint names no configured provider */
	PC_ENOSERVICE = -1004,  /* codepoint names no service and none is implied */
	PC_EBADSIG = -1005,     /* signature label missing or wrong */
	PC_EDECRYPT = -1006,    /* encrypted codepoint did not authenticate */
	PC_ENOORIGIN = -1007,   /* URL path names no configured origin or directory host */
	PC_ENOSERVER = -1008,   /* policy allows no server for this request */
	PC_ESPACE = -1009,      /* output buffer too small */
	PC_E__FIRST = -1000,    /* the project's codes are PC_E__LAST..PC_E__FIRST */
	PC_E__LAST = -1009,
};

/* A sentence for code: a PC_E* code, or any negated errno value (the C
 * library's text). Never NULL; the string is static. */
const char *pc_strerror(int code);

#endif

/* xdp_listen: the `xdp: listen:` entries of the UDP roles' settings (DNS,
 * CDSR), "IFACE@PORT": the network interface whose AF_XDP sockets serve
 * the role's UDP port. Pure: the form only; whether the interface exists
 * and takes XDP is the daemon's to find out (node/xdp.c). */
#ifndef PC_LIB_XDP_LISTEN_H
#define PC_LIB_XDP_LISTEN_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/schema.h"

enum { PC_XDP_IFNAMSIZ = 16 }; /* Linux's IFNAMSIZ: 15 characters and the NUL */

struct pc_xdp_listen {
	char iface[PC_XDP_IFNAMSIZ];
	uint16_t port; /* 1..65535 */
};

/* The settings of a role's `xdp` mapping. */
struct pc_xdp_params {
	struct pc_text_list listen; /* "IFACE@PORT" strings, checked by pc_xdp_listen_check */
};

/* Parses "IFACE@PORT" (a Linux interface name: 1..15 bytes, no '/', ':',
 * '@' or white space, not "." or ".."; a decimal port 1..65535) into out.
 * Returns false when text is not of that form. */
bool pc_xdp_listen_parse(const char *text, struct pc_xdp_listen *out);

/* The schema's check of one entry (field: a const char *const *): why it
 * is wrong, or NULL. */
const char *pc_xdp_listen_check(const void *field);

/* The `xdp` mapping of a role's items, filling the pc_xdp_params field f of
 * struct S, for the role named role_ (docs text). */
#define PC_XDP_ITEMS(S, f)                                                                         \
	{                                                                                          \
		PC_TEXTS("listen", S, f.listen,                                                    \
		         "UDP to PORT on IFACE answered over AF_XDP (docs/xdp.md)",                \
		         .check = pc_xdp_listen_check, .type_doc = "list of `IFACE@PORT`",         \
		         .default_doc = "none (sockets only)"),                                    \
		    PC_END,                                                                        \
	}

#endif

/* icp: the wire codec of the Internet Cache Protocol, version 2 (RFC 2186;
 * RFC 2187 for how Squid uses it), so that legacy caches can use an edge
 * as their ICP parent: a query names a URL, the answer says whether this
 * node holds it (HIT), would fetch it (MISS), will not fetch it now
 * (MISS_NOFETCH) or will not serve this querier (DENIED).
 *
 * Pure: no I/O, no allocation, no globals. The parser is total over any
 * input (it never reads past len) and fills a view that points into the
 * caller's buffer; the writer never writes past out_size. An answer to a
 * query is always 4 bytes shorter than the query (it carries no requester
 * address), so a responder never amplifies. docs/icp.md says what the
 * icp role answers to which message. */
#ifndef PC_LIB_ICP_H
#define PC_LIB_ICP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/model/model.h"

#define PC_ICP_PORT       3130  /* RFC 2186 §1: the port ICP is usually on */
#define PC_ICP_VERSION    2     /* RFC 2186: the version written */
#define PC_ICP_VERSION_V3 3     /* what Harvest caches send; Squid answers it as 2 */
#define PC_ICP_HEADER_LEN 20    /* RFC 2186 §2: opcode ... sender host address */
#define PC_ICP_MAX        16384 /* RFC 2186 §2: the longest ICP message */

/* Byte offsets of the header's fields (RFC 2186 §2). */
#define PC_ICP_OFF_VERSION 1
#define PC_ICP_OFF_LENGTH  2
#define PC_ICP_OFF_REQNUM  4
#define PC_ICP_OFF_OPTIONS 8

/* Opcodes (RFC 2186 §2.1). The gaps were never assigned. */
enum pc_icp_opcode {
	PC_ICP_OP_INVALID = 0,
	PC_ICP_OP_QUERY = 1,
	PC_ICP_OP_HIT = 2,
	PC_ICP_OP_MISS = 3,
	PC_ICP_OP_ERR = 4,
	PC_ICP_OP_SECHO = 10,
	PC_ICP_OP_DECHO = 11,
	PC_ICP_OP_MISS_NOFETCH = 21,
	PC_ICP_OP_DENIED = 22,
	PC_ICP_OP_HIT_OBJ = 23,
};

/* "query", "hit", ... for an opcode above; "unknown" for others. */
const char *pc_icp_opcode_name(unsigned opcode);

/* Option flags (RFC 2186 §2.2). Neither is ever set in an answer of
 * ours: HIT_OBJ is deprecated (RFC 2187 §10.3), and we keep no RTT
 * measurements for SRC_RTT. */
enum pc_icp_flag {
	PC_ICP_FLAG_HIT_OBJ = 0x80000000u,
	PC_ICP_FLAG_SRC_RTT = 0x40000000u,
};

/* Why a datagram is not an ICP message we read (the parser's verdict,
 * counted by the role when it drops one). */
enum pc_icp_fault {
	PC_ICP_FAULT_NONE = 0,
	PC_ICP_FAULT_SHORT,   /* under the header's 20 bytes */
	PC_ICP_FAULT_VERSION, /* not 2 or 3 */
	PC_ICP_FAULT_LENGTH,  /* Message Length is not the datagram's length, or over the max */
	PC_ICP_FAULT_PAYLOAD, /* no NUL ending the URL, bytes after it, an empty URL, or a
	                         query too short for its requester address */
	PC_ICP_FAULT_OPCODE,  /* not a message a responder answers (set by the role) */
	PC_ICP_FAULT__COUNT,
};

/* "short", "version", "length", "payload", "opcode"; "none" for 0. */
const char *pc_icp_fault_name(unsigned fault);

/* A message. Parsing fills it with a span of the datagram; a client or a
 * responder fills it to write one. */
struct pc_icp_message {
	uint8_t opcode;       /* enum pc_icp_opcode */
	uint8_t version;      /* parsed: 2 or 3; ignored when writing (PC_ICP_VERSION) */
	uint32_t reqnum;      /* Request Number: an answer copies the query's */
	uint32_t options;     /* enum pc_icp_flag bits */
	uint32_t option_data; /* SRC_RTT's RTT; 0 otherwise */
	uint8_t sender[4];    /* Sender Host Address (IPv4, not to be trusted: RFC 2186 §2) */
	uint8_t requester[4]; /* QUERY only: Requester Host Address, the querier's client */
	const char *url;      /* not NUL-terminated here; the wire holds its NUL */
	size_t url_len;       /* without the NUL; at least 1 */
	/* Set by parsing only. */
	uint8_t fault; /* enum pc_icp_fault: why the parse failed */
};

/* Parses one datagram. Returns PC_OK, or (with out->fault saying which):
 * PC_ESYNTAX  shorter than a header, or a payload that is not a URL and
 *             its NUL filling the message exactly (a query: its
 *             requester address first);
 * PC_ENOTSUP  a version other than 2 or 3 (out->version says which);
 * PC_ERANGE   a Message Length other than len, or len over PC_ICP_MAX;
 * PC_EINVAL   NULL wire (with len > 0) or out.
 * Every opcode parses the same way: a URL after the header (after the
 * requester address for QUERY). HIT_OBJ's object data after the URL is a
 * payload fault: it is deprecated and never asked for by us. */
int pc_icp_parse(const uint8_t *wire, size_t len, struct pc_icp_message *out);

/* Writes msg (version PC_ICP_VERSION; a QUERY with its requester address)
 * and the URL's NUL. Returns the length written, or PC_ESPACE (out_size
 * too small), PC_ERANGE (the message over PC_ICP_MAX), PC_EINVAL (NULL
 * pointers, an empty URL or one holding a NUL). */
int pc_icp_write(const struct pc_icp_message *msg, uint8_t *out, size_t out_size);

/* Writes the answer opcode to a parsed query: its request number and URL,
 * no options, sender address 0 (RFC 2186 §2: the receiver uses the
 * datagram's source). Returns as pc_icp_write. */
int pc_icp_answer_write(const struct pc_icp_message *query, uint8_t opcode, uint8_t *out,
                        size_t out_size);

/* Whether a query's URL is one a cache can look up at all: printable
 * US-ASCII without spaces (RFC 3986 §2; Squid answers ICP_ERR to a URL
 * with white space). Whether it names anything served is the edge's. */
bool pc_icp_url_ok(const char *url, size_t len);

/* ---- who may query ---- */

/* An address prefix of the allow list. */
struct pc_icp_prefix {
	pc_addr addr; /* the bits past len are zero */
	uint8_t len;
};

/* Whether source lies in one of the n prefixes (same family only). */
bool pc_icp_prefix_match(const struct pc_icp_prefix *prefixes, uint32_t n, const pc_addr *source);

#endif

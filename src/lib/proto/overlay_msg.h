/* overlay_msg: the wire format of the overlay's virtual links (patent §3.3,
 * claims 5 and 7-10; docs/overlay.md): frames with a fixed header, a body
 * and a MAC under a per-link, per-session key; the link messages (HELLO,
 * HEARTBEAT, LSA, LSA_ACK, JOIN, PRUNE, DATA, GOODBYE) and the control records that
 * DATA blocks of control channels carry (LOAD, POLICY, REPLICA, RESOURCE,
 * REPORT, DRAIN).
 *
 * Pure: no I/O, no allocation, no globals, no clock; random nonces and
 * times come from the caller. Decoders are total over any input (they never
 * read past len), check every length, validate every name and bound every
 * count, and fill views whose strings and lists point into the caller's
 * buffer. Encoders never write past out_size. Routing (link-state database,
 * shortest paths) and channel logic are other modules' work: this one says
 * what is on the wire and whether a frame may be believed. */
#ifndef PC_LIB_OVERLAY_MSG_H
#define PC_LIB_OVERLAY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_OVL_MAGIC0        0x50 /* 'P' */
#define PC_OVL_MAGIC1        0x4f /* 'O' */
#define PC_OVL_VERSION       1
#define PC_OVL_HEADER_LEN    24
#define PC_OVL_MAC_LEN       16 /* a Poly1305 tag (BLAKE2b-128 for HELLO) */
#define PC_OVL_KEY_LEN       32 /* a link's key, and each direction's */
#define PC_OVL_NONCE_LEN     16
#define PC_OVL_BODY_MAX      262144 /* bytes; a longer length field is absurd */
#define PC_OVL_FRAME_MIN     (PC_OVL_HEADER_LEN + PC_OVL_MAC_LEN)
#define PC_OVL_FRAME_MAX     (PC_OVL_HEADER_LEN + PC_OVL_BODY_MAX + PC_OVL_MAC_LEN)
#define PC_OVL_NAME_MAX      63  /* a CDN, provider, server, agreement or service name */
#define PC_OVL_CHANNEL_MAX   127 /* "<provider-or-cdn>/<name>" */
#define PC_OVL_LSA_LINKS_MAX 256
#define PC_OVL_ACK_MAX       256
#define PC_OVL_SERVICES_MAX  32
#define PC_OVL_PREFIXES_MAX  1024
#define PC_OVL_MAX_AGE       3600 /* s: an LSA this old is being withdrawn */

/* Byte offsets of the header's fields (docs/overlay.md, "Frame"). */
#define PC_OVL_OFF_VERSION 2
#define PC_OVL_OFF_TYPE    3
#define PC_OVL_OFF_FLAGS   4
#define PC_OVL_OFF_LENGTH  8
#define PC_OVL_OFF_SENDER  12
#define PC_OVL_OFF_SEQ     16

/* Frame types. Unknown ones are skipped (counted) by a receiver. */
enum pc_ovl_type {
	PC_OVL_HELLO = 1,
	PC_OVL_HEARTBEAT = 2,
	PC_OVL_LSA = 3,
	PC_OVL_LSA_ACK = 4,
	PC_OVL_JOIN = 5,
	PC_OVL_PRUNE = 6,
	PC_OVL_DATA = 7,
	PC_OVL_GOODBYE = 8,
	PC_OVL_TYPE__COUNT,
};

/* "hello", "heartbeat", ...; "unknown" for others. */
const char *pc_ovl_type_name(unsigned type);

/* Header flags. A receiver ignores bits it does not know. */
enum pc_ovl_flag {
	PC_OVL_F_RESUME = 0x0001, /* JOIN: last_seq is the last block received; resume after it */
	PC_OVL_F_END = 0x0002,    /* DATA: the source's last block of this channel */
	/* HEARTBEAT: the sender has stopped reading this link because another
	 * of its links is full (docs/overlay.md, "Flow control"). */
	PC_OVL_F_HELD = 0x0004,
};

/* HELLO capabilities (bits). Unknown bits are ignored. */
enum pc_ovl_capability {
	PC_OVL_CAP_CONTROL = 0x1, /* forwards control channels */
	PC_OVL_CAP_DATA = 0x2,    /* forwards content channels */
};

/* Why a frame or record was not taken (counted by the link when it drops
 * one). */
enum pc_ovl_fault {
	PC_OVL_FAULT_NONE = 0,
	PC_OVL_FAULT_SHORT,   /* under a header, or the body ends inside a field */
	PC_OVL_FAULT_MAGIC,   /* not "PO" */
	PC_OVL_FAULT_VERSION, /* not PC_OVL_VERSION */
	PC_OVL_FAULT_LENGTH,  /* length field absurd, or not the frame's length */
	PC_OVL_FAULT_TYPE,    /* a type (or record type) this codec does not know */
	PC_OVL_FAULT_NAME,    /* a CDN, channel or other name that is empty, too long or bad */
	PC_OVL_FAULT_COUNT,   /* a list longer than its bound */
	PC_OVL_FAULT_FIELD,   /* a field value out of its range (health, family, age, ...) */
	PC_OVL_FAULT_OPTION,  /* a malformed option, or an unknown critical one */
	PC_OVL_FAULT_MAC,     /* the authenticator does not verify */
	PC_OVL_FAULT_SEQ,     /* replayed or out-of-order link sequence number */
	PC_OVL_FAULT_SENDER,  /* sender is not the link's peer */
	PC_OVL_FAULT_STATE,   /* a frame the link's state does not expect (data before HELLO) */
	PC_OVL_FAULT__COUNT,
};

/* "short", "magic", ...; "none" for 0. */
const char *pc_ovl_fault_name(unsigned fault);

/* A string of the wire: not NUL-terminated. */
struct pc_ovl_str {
	const char *p;
	size_t len;
};

struct pc_ovl_hello {
	struct pc_ovl_str cdn;                /* the sender's CDN */
	uint8_t nonce[PC_OVL_NONCE_LEN];      /* the sender's, fresh per session */
	uint8_t peer_nonce[PC_OVL_NONCE_LEN]; /* the peer's, echoed; zero if not yet heard */
	uint32_t capabilities;                /* enum pc_ovl_capability bits */
	uint32_t heartbeat_ms;                /* how often the sender sends a HEARTBEAT */
	uint32_t dead_ms;                     /* after how long silent it declares us dead */
};

struct pc_ovl_heartbeat {
	uint64_t sent_at; /* the sender's clock, opaque to the receiver (ms) */
	uint64_t echo;    /* the last sent_at received from the peer; 0 if none: RTT */
};

struct pc_ovl_lsa_link {
	uint32_t neighbour; /* router id */
	uint32_t cost;      /* 1.. ; the link's metric, in the origin's direction */
};

/* One link-state record. Encoding reads links[]; decoding sets wire_links
 * (count entries of 8 bytes) and leaves links NULL: read either through
 * pc_ovl_lsa_link_at(). */
struct pc_ovl_lsa {
	uint32_t origin;       /* the router whose links these are */
	struct pc_ovl_str cdn; /* the origin's CDN */
	uint32_t seq;          /* the origin's sequence number, 1.. ; higher is newer */
	uint16_t age;          /* s since the origin issued it, <= PC_OVL_MAX_AGE */
	uint16_t count;        /* <= PC_OVL_LSA_LINKS_MAX */
	const struct pc_ovl_lsa_link *links;
	const uint8_t *wire_links;
};

struct pc_ovl_lsa_link pc_ovl_lsa_link_at(const struct pc_ovl_lsa *lsa, size_t i);

struct pc_ovl_ack_entry {
	uint32_t origin;
	uint32_t seq;
};

/* Acknowledges LSAs by (origin, seq); like pc_ovl_lsa, entries[] to
 * encode, wire_entries after decoding, pc_ovl_ack_at() to read. */
struct pc_ovl_lsa_ack {
	uint16_t count; /* 1..PC_OVL_ACK_MAX */
	const struct pc_ovl_ack_entry *entries;
	const uint8_t *wire_entries;
};

struct pc_ovl_ack_entry pc_ovl_ack_at(const struct pc_ovl_lsa_ack *ack, size_t i);

/* JOIN and PRUNE: subscription toward source along the reverse shortest
 * path. last_seq and epoch mean something only with PC_OVL_F_RESUME
 * (JOIN). */
struct pc_ovl_join {
	struct pc_ovl_str channel; /* "<provider-or-cdn>/<name>" */
	uint32_t source;           /* the router where the channel enters the overlay */
	uint64_t last_seq;         /* the last block the joiner holds */
	uint64_t epoch;            /* the stream last_seq belongs to (see pc_ovl_data) */
};

struct pc_ovl_data {
	struct pc_ovl_str channel;
	uint32_t source;
	uint64_t block_seq; /* 1.. per channel, source and epoch, +1 per block */
	const uint8_t *payload;
	size_t payload_len; /* <= what fits PC_OVL_BODY_MAX */
	/* The source's stream: its start time (unix ms). A restarted source
	 * numbers blocks from 1 again under a higher epoch. */
	uint64_t epoch;
};

/* The sender is stopping (docs/overlay.md, "GOODBYE"): route around it
 * now; it goes on forwarding what it was sent for at most grace_ms, until
 * its children have moved, and then closes the link. */
struct pc_ovl_goodbye {
	uint32_t grace_ms;
};

/* A frame. Decoding fills it with views into the frame; a sender fills it
 * to encode one (sender and seq are the link's: pc_ovl_link_write sets
 * them). */
struct pc_ovl_msg {
	uint8_t type;    /* enum pc_ovl_type */
	uint16_t flags;  /* enum pc_ovl_flag bits */
	uint32_t sender; /* router id */
	uint64_t seq;    /* per link and direction: 0 for HELLO, then 1, 2, ... */
	union {
		struct pc_ovl_hello hello;
		struct pc_ovl_heartbeat heartbeat;
		struct pc_ovl_lsa lsa;
		struct pc_ovl_lsa_ack ack;
		struct pc_ovl_join join; /* JOIN and PRUNE */
		struct pc_ovl_data data;
		struct pc_ovl_goodbye goodbye;
	} u;
	/* Set by decoding only. */
	uint16_t unknown_options; /* non-critical options skipped */
	uint8_t fault;            /* enum pc_ovl_fault: why decoding failed */
};

/* ---- framing ---- */

/* Whether buf starts with a whole frame (the connection engine's framed
 * input). Returns 0 while incomplete, the frame's length (header, body
 * and MAC) when whole, PC_ESYNTAX for a bad magic, PC_ENOTSUP for another
 * version, PC_ERANGE for a length over PC_OVL_BODY_MAX: the stream cannot
 * be resynchronised and the link must be closed. */
long pc_ovl_frame_find(const uint8_t *buf, size_t len);

/* Writes msg as a frame with sender and seq from msg and a zero MAC (to be
 * filled by pc_ovl_mac_set). Returns the frame's length, or PC_ESPACE
 * (out_size too small), PC_ERANGE (a body over PC_OVL_BODY_MAX or a count
 * over its bound), PC_EINVAL (NULL pointers, an unknown type, a bad name). */
int pc_ovl_encode(const struct pc_ovl_msg *msg, uint8_t *out, size_t out_size);

/* Decodes a whole frame (as pc_ovl_frame_find delimits it) without
 * checking its MAC. Returns PC_OK, or (out->fault says which):
 * PC_ESYNTAX  short, bad magic, a length that is not len's, a bad name,
 *             a malformed or unknown critical option;
 * PC_ENOTSUP  another version, or an unknown type (fault TYPE: header
 *             fields are filled; the frame is to be skipped and counted);
 * PC_ERANGE   a count over its bound or a field out of range;
 * PC_EINVAL   NULL frame (with len > 0) or out. */
int pc_ovl_decode(const uint8_t *frame, size_t len, struct pc_ovl_msg *out);

/* Sets the MAC of a frame of len bytes (its last PC_OVL_MAC_LEN) under key,
 * over everything before it: keyed BLAKE2b-128 when the header's seq is 0
 * (HELLO, the link key), else Poly1305 under the one-time key ChaCha20
 * makes from key and seq (docs/overlay.md, "Authentication"). A key must
 * never MAC two different frames with one seq >= 1. */
void pc_ovl_mac_set(const uint8_t key[PC_OVL_KEY_LEN], uint8_t *frame, size_t len);

/* Whether the frame's MAC verifies under key (constant time). */
bool pc_ovl_mac_ok(const uint8_t key[PC_OVL_KEY_LEN], const uint8_t *frame, size_t len);

/* ---- a link's session ---- */

/* One end of a virtual link: its keys and sequence numbers. Fields are
 * the codec's; the connection engine embeds one per link and never
 * touches them. Holds key material: pc_ovl_link_wipe when done. */
struct pc_ovl_link {
	uint8_t link_key[PC_OVL_KEY_LEN]; /* from the config, shared by both ends */
	uint8_t send_key[PC_OVL_KEY_LEN]; /* derived once both nonces are known */
	uint8_t recv_key[PC_OVL_KEY_LEN];
	uint8_t nonce[PC_OVL_NONCE_LEN];      /* ours for this session */
	uint8_t peer_nonce[PC_OVL_NONCE_LEN]; /* theirs, from their HELLO */
	uint32_t self, peer;                  /* router ids */
	uint64_t send_seq;                    /* last sent */
	uint64_t recv_seq;                    /* last accepted */
	bool heard;                           /* their HELLO accepted: keys derived */
	bool echoed;                          /* they echoed our nonce, or sent under the keys */
	bool hello_owed;                      /* they have not heard our nonce: send a HELLO */
};

/* Starts a session (each connection attempt): nonce must be fresh random
 * bytes (randombytes_buf in the daemon). */
void pc_ovl_link_init(struct pc_ovl_link *link, const uint8_t key[PC_OVL_KEY_LEN], uint32_t self,
                      uint32_t peer, const uint8_t nonce[PC_OVL_NONCE_LEN]);

/* Zeroes the key material. */
void pc_ovl_link_wipe(struct pc_ovl_link *link);

/* Whether the link is UP: both nonces known, and the peer has proved it
 * holds the key in this session (docs/overlay.md, "Session"). */
bool pc_ovl_link_up(const struct pc_ovl_link *link);

/* Whether we owe the peer a HELLO: its HELLO did not echo our nonce
 * (pc_ovl_link_write of a HELLO clears it). */
bool pc_ovl_link_hello_owed(const struct pc_ovl_link *link);

/* Writes msg as an authenticated frame of this link: a HELLO with our
 * nonce and the peer's (if heard), seq 0, under the link key; any other
 * type with the next sequence number under the session's send key (only
 * once the peer's HELLO was heard: PC_EINVAL before). Sets msg->sender
 * and msg->seq. Returns the length, or as pc_ovl_encode. */
int pc_ovl_link_write(struct pc_ovl_link *link, struct pc_ovl_msg *msg, uint8_t *out,
                      size_t out_size);

/* Reads one whole frame received on this link: checks the header, the
 * sender, the MAC (HELLO under the link key, the rest under the session's
 * receive key), that the sequence number is exactly the next one, then
 * decodes it. One session per connection: the first HELLO gives the
 * peer's nonce and the keys; a later one must repeat that nonce, and a
 * HELLO must echo our nonce or none (else fault STATE). Returns PC_OK;
 * PC_EBADSIG (fault MAC, SENDER, SEQ or STATE) or, for a frame that is not
 * exactly one frame, an error as pc_ovl_decode: dropped, and the link's
 * state unchanged; or, for a frame that authenticated in sequence but
 * whose body does not decode, pc_ovl_decode's error (PC_ENOTSUP for an
 * unknown type: skip and count): dropped, its sequence number used up. */
int pc_ovl_link_read(struct pc_ovl_link *link, const uint8_t *frame, size_t len,
                     struct pc_ovl_msg *out);

/* ---- names ---- */

/* A CDN, provider, server, agreement or service name: 1..PC_OVL_NAME_MAX
 * bytes of [A-Za-z0-9._-]. */
bool pc_ovl_name_ok(const char *p, size_t len);

/* A channel: "<provider-or-cdn>/<name>", at most PC_OVL_CHANNEL_MAX
 * bytes: the owner a name as above, the name what the directory accepts
 * (RFC 3986 path segments: pchar and %HH, none empty, "." or ".."). Names
 * are compared byte for byte; nothing is decoded. */
bool pc_ovl_channel_ok(const char *p, size_t len);

/* ---- control records (payloads of control channels' DATA blocks) ---- */

enum pc_ovl_record_type {
	PC_OVL_REC_LOAD = 1,
	PC_OVL_REC_POLICY = 2,
	PC_OVL_REC_REPLICA = 3,
	PC_OVL_REC_RESOURCE = 4,
	PC_OVL_REC_REPORT = 5,
	PC_OVL_REC_DRAIN = 6,
	PC_OVL_REC__COUNT,
};

/* "load", "policy", ...; "unknown" for others. */
const char *pc_ovl_record_name(unsigned type);

enum pc_ovl_health {
	PC_OVL_DOWN = 0,
	PC_OVL_UP = 1,
};

/* A server's load and health (every peercdn server publishes its own; the
 * prober nearest a foreign server publishes its). */
struct pc_ovl_load {
	struct pc_ovl_str server; /* the server's name in the config */
	uint32_t load;            /* load units (pc_live_set_load) */
	uint32_t capacity;        /* load units; 0 = as configured */
	uint8_t health;           /* enum pc_ovl_health */
	uint64_t time_ms;         /* unix ms when measured: a receiver keeps the newest */
};

/* One chunk of a policy (config text) of a version: a receiver applies the
 * version once it holds all total bytes and their BLAKE2b-256 is hash. */
struct pc_ovl_policy {
	uint64_t version; /* 1.. ; higher replaces lower */
	uint8_t hash[32]; /* crypto_generichash (BLAKE2b-256) of the whole text */
	uint32_t total;   /* bytes of the whole text */
	uint32_t offset;  /* of this chunk; offset + chunk_len <= total */
	const uint8_t *chunk;
	size_t chunk_len;
};

enum pc_ovl_replica_op {
	PC_OVL_REPLICA_ADD = 0,
	PC_OVL_REPLICA_DROP = 1,
};

/* server holds (or no longer holds) the object of key. */
struct pc_ovl_replica {
	uint64_t key; /* pc_live_object_key */
	struct pc_ovl_str server;
	uint8_t op;       /* enum pc_ovl_replica_op */
	uint64_t time_ms; /* unix ms */
};

struct pc_ovl_prefix {
	uint8_t family;    /* 4 or 6 */
	uint8_t len;       /* <= 32 or 128; bits past it are zero */
	uint8_t bytes[16]; /* network order; IPv4 in the first 4 */
};

/* What cdn offers peer (claim 9). Like pc_ovl_lsa: services[] and
 * prefixes[] to encode, wire_* after decoding, the _at() accessors. */
struct pc_ovl_resource {
	struct pc_ovl_str cdn;  /* the offering CDN */
	struct pc_ovl_str peer; /* the CDN it offers to */
	uint64_t capacity;      /* load units offered; 0 = none */
	uint64_t time_ms;       /* unix ms: a receiver keeps the newest */
	uint8_t service_count;  /* <= PC_OVL_SERVICES_MAX */
	uint16_t prefix_count;  /* <= PC_OVL_PREFIXES_MAX: the footprint */
	const struct pc_ovl_str *services;
	const struct pc_ovl_prefix *prefixes;
	const uint8_t *wire_services;
	const uint8_t *wire_prefixes;
};

/* The i-th service / prefix (i below the count). */
struct pc_ovl_str pc_ovl_resource_service_at(const struct pc_ovl_resource *res, size_t i);
struct pc_ovl_prefix pc_ovl_resource_prefix_at(const struct pc_ovl_resource *res, size_t i);

/* A provider report (claim 3) on its way to the provider's primary CDN. */
struct pc_ovl_report {
	uint32_t origin;             /* the router that made it */
	uint64_t serial;             /* per origin, 1..: (origin, serial) is its id, for dedup */
	struct pc_ovl_str provider;  /* whom it is owed to */
	struct pc_ovl_str agreement; /* empty when none */
	struct pc_ovl_str line;      /* pc_report_format's line, printable ASCII */
};

/* An operator drained (or undrained) server: every redirector of its CDN,
 * and the peers' that hear the CDN's load channels, stop (or resume)
 * choosing it. The highest version per server wins. */
struct pc_ovl_drain {
	uint64_t version; /* 1.. ; the issuer's unix ms << 12 | its router id's low 12 bits */
	uint8_t drained;  /* 1 drained, 0 undrained */
	struct pc_ovl_str server;
};

struct pc_ovl_record {
	uint8_t type; /* enum pc_ovl_record_type */
	union {
		struct pc_ovl_load load;
		struct pc_ovl_policy policy;
		struct pc_ovl_replica replica;
		struct pc_ovl_resource resource;
		struct pc_ovl_report report;
		struct pc_ovl_drain drain;
	} u;
	uint8_t fault; /* decoding only: enum pc_ovl_fault */
};

/* Writes one record (its 4-byte type and length head, then its body).
 * Returns its length, or PC_ESPACE, PC_ERANGE (a count over its bound, a
 * body over 65535 bytes), PC_EINVAL (NULL, unknown type, bad name or
 * field). A DATA payload is records back to back. */
int pc_ovl_record_encode(const struct pc_ovl_record *rec, uint8_t *out, size_t out_size);

/* Decodes the record at the start of p (len bytes left of a payload).
 * Sets *used to the record's whole length whenever its head is whole and
 * its length fits, so a caller can step past it even when its body is
 * refused. Returns PC_OK, PC_ENOTSUP for an unknown record type (skip and
 * count), PC_ESYNTAX / PC_ERANGE as pc_ovl_decode (out->fault says
 * why; *used is 0 when the head itself is bad: stop reading the payload). */
int pc_ovl_record_decode(const uint8_t *p, size_t len, struct pc_ovl_record *out, size_t *used);

#endif

/* Unit tests of the overlay's wire format (lib/proto/overlay_msg.h): the
 * hex examples of docs/overlay.md, read from the document itself so that
 * it cannot drift; a round trip of every frame and record type; every
 * rejection of the decoders (truncation, lengths, magic, version, counts,
 * names, options); and the link session (handshake, MAC, replay, order,
 * sender, state). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/base/err.h"
#include "doc_example.h"
#include "lib/proto/overlay_msg.h"

#define DOC_PATH PC_FIXTURES_DIR "/../../docs/overlay.md"

static uint8_t test_key[PC_OVL_KEY_LEN];
static uint8_t nonce_a[PC_OVL_NONCE_LEN], nonce_b[PC_OVL_NONCE_LEN];

/* The docs' fixed values: key 00 01 .. 1f, router 1's nonce a0 .. af,
 * router 2's b0 .. bf. */
static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < PC_OVL_KEY_LEN; i++)
		test_key[i] = (uint8_t)i;
	for (int i = 0; i < PC_OVL_NONCE_LEN; i++) {
		nonce_a[i] = (uint8_t)(0xa0 + i);
		nonce_b[i] = (uint8_t)(0xb0 + i);
	}
	return 0;
}

static struct pc_ovl_str S(const char *s) {
	return (struct pc_ovl_str){s, strlen(s)};
}

static void
assert_str(struct pc_ovl_str s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

static struct pc_ovl_msg hello_msg(void)
{
	struct pc_ovl_msg m = {.type = PC_OVL_HELLO};
	m.u.hello.cdn = S("acme");
	m.u.hello.capabilities = PC_OVL_CAP_CONTROL | PC_OVL_CAP_DATA;
	m.u.hello.heartbeat_ms = 200;
	m.u.hello.dead_ms = 1000;
	return m;
}

/* Two ends, a (router 1) and b (router 2), through both HELLOs: up. */
static void handshake(struct pc_ovl_link *a, struct pc_ovl_link *b)
{
	uint8_t f[512];
	struct pc_ovl_msg m = hello_msg(), r;
	pc_ovl_link_init(a, test_key, 1, 2, nonce_a);
	pc_ovl_link_init(b, test_key, 2, 1, nonce_b);
	assert_true(pc_ovl_link_hello_owed(a));
	int n = pc_ovl_link_write(a, &m, f, sizeof(f));
	assert_true(n > 0);
	assert_false(pc_ovl_link_hello_owed(a));
	assert_int_equal(pc_ovl_link_read(b, f, (size_t)n, &r), PC_OK);
	assert_false(pc_ovl_link_up(b)); /* a has not proved it holds the key yet */
	assert_true(pc_ovl_link_hello_owed(b));
	m = hello_msg();
	n = pc_ovl_link_write(b, &m, f, sizeof(f));
	assert_int_equal(pc_ovl_link_read(a, f, (size_t)n, &r), PC_OK);
	assert_true(pc_ovl_link_up(a));
	assert_false(pc_ovl_link_hello_owed(a));
	/* a's first frame under the session key brings b up */
	struct pc_ovl_msg hb = {.type = PC_OVL_HEARTBEAT};
	n = pc_ovl_link_write(a, &hb, f, sizeof(f));
	assert_int_equal(pc_ovl_link_read(b, f, (size_t)n, &r), PC_OK);
	assert_true(pc_ovl_link_up(b));
}

/* ---- the docs' examples ---- */

static void test_doc_examples(void **state)
{
	(void)state;
	uint8_t want[512], f[512];
	struct pc_ovl_link a, b;
	pc_ovl_link_init(&a, test_key, 1, 2, nonce_a);
	pc_ovl_link_init(&b, test_key, 2, 1, nonce_b);

	struct pc_ovl_msg m = hello_msg(), r;
	int n = pc_ovl_link_write(&a, &m, f, sizeof(f));
	size_t want_len = doc_example(DOC_PATH, "hello", want, sizeof(want));
	assert_int_equal(n, want_len);
	assert_memory_equal(f, want, want_len);
	assert_int_equal(pc_ovl_link_read(&b, want, want_len, &r), PC_OK);
	assert_str(r.u.hello.cdn, "acme");
	assert_memory_equal(r.u.hello.nonce, nonce_a, PC_OVL_NONCE_LEN);

	m = hello_msg();
	n = pc_ovl_link_write(&b, &m, f, sizeof(f));
	assert_int_equal(pc_ovl_link_read(&a, f, (size_t)n, &r), PC_OK);

	/* the session key the document shows */
	want_len = doc_example(DOC_PATH, "send-key", want, sizeof(want));
	assert_int_equal(want_len, PC_OVL_KEY_LEN);
	assert_memory_equal(a.send_key, want, PC_OVL_KEY_LEN);

	struct pc_ovl_msg d = {.type = PC_OVL_DATA};
	d.u.data.channel = S("acme/load");
	d.u.data.source = 1;
	d.u.data.epoch = 1764000000000; /* 2025-11-24T16:00:00Z */
	d.u.data.block_seq = 1;
	d.u.data.payload = (const uint8_t *)"hello";
	d.u.data.payload_len = 5;
	n = pc_ovl_link_write(&a, &d, f, sizeof(f));
	want_len = doc_example(DOC_PATH, "data", want, sizeof(want));
	assert_int_equal(n, want_len);
	assert_memory_equal(f, want, want_len);
	assert_int_equal(pc_ovl_link_read(&b, want, want_len, &r), PC_OK);
	assert_int_equal(r.type, PC_OVL_DATA);
	assert_int_equal(r.seq, 1);
	assert_str(r.u.data.channel, "acme/load");
	assert_int_equal(r.u.data.epoch, 1764000000000);
	assert_int_equal(r.u.data.payload_len, 5);
	assert_memory_equal(r.u.data.payload, "hello", 5);

	/* router 1 stops: its GOODBYE, seq 2, a grace of 1000 ms */
	struct pc_ovl_msg g = {.type = PC_OVL_GOODBYE, .u.goodbye.grace_ms = 1000};
	n = pc_ovl_link_write(&a, &g, f, sizeof(f));
	want_len = doc_example(DOC_PATH, "goodbye", want, sizeof(want));
	assert_int_equal(n, want_len);
	assert_memory_equal(f, want, want_len);
	assert_int_equal(pc_ovl_link_read(&b, want, want_len, &r), PC_OK);
	assert_int_equal(r.type, PC_OVL_GOODBYE);
	assert_int_equal(r.seq, 2);
	assert_int_equal(r.u.goodbye.grace_ms, 1000);
	assert_string_equal(pc_ovl_type_name(PC_OVL_GOODBYE), "goodbye");
}

/* ---- round trips ---- */

/* Encodes m (sender 7, seq 9), decodes it, and checks that the decoded
 * view encodes to the same bytes. Returns the length; *out is decoded
 * from f. */
static int round_trip(struct pc_ovl_msg *m, uint8_t *f, size_t size, struct pc_ovl_msg *out)
{
	uint8_t again[PC_OVL_FRAME_MAX > 70000 ? 70000 : PC_OVL_FRAME_MAX];
	m->sender = 7;
	m->seq = 9;
	int n = pc_ovl_encode(m, f, size);
	assert_true(n >= PC_OVL_FRAME_MIN);
	assert_int_equal(pc_ovl_frame_find(f, (size_t)n), n);
	assert_int_equal(pc_ovl_decode(f, (size_t)n, out), PC_OK);
	assert_int_equal(out->type, m->type);
	assert_int_equal(out->flags, m->flags);
	assert_int_equal(out->sender, 7);
	assert_int_equal(out->seq, 9);
	assert_int_equal(out->fault, PC_OVL_FAULT_NONE);
	assert_int_equal(pc_ovl_encode(out, again, sizeof(again)), n);
	assert_memory_equal(again, f, (size_t)n);
	/* the encoder never writes past a buffer one byte too small */
	assert_int_equal(pc_ovl_encode(m, again, (size_t)n - 1), PC_ESPACE);
	return n;
}

static void test_round_trip_frames(void **state)
{
	(void)state;
	static uint8_t f[8192];
	struct pc_ovl_msg m, r;

	m = hello_msg();
	memcpy(m.u.hello.nonce, nonce_a, PC_OVL_NONCE_LEN);
	memcpy(m.u.hello.peer_nonce, nonce_b, PC_OVL_NONCE_LEN);
	round_trip(&m, f, sizeof(f), &r);
	assert_str(r.u.hello.cdn, "acme");
	assert_memory_equal(r.u.hello.peer_nonce, nonce_b, PC_OVL_NONCE_LEN);
	assert_int_equal(r.u.hello.capabilities, 3);
	assert_int_equal(r.u.hello.heartbeat_ms, 200);
	assert_int_equal(r.u.hello.dead_ms, 1000);

	m = (struct pc_ovl_msg){.type = PC_OVL_HEARTBEAT};
	m.u.heartbeat.sent_at = 0x0102030405060708u;
	m.u.heartbeat.echo = 42;
	round_trip(&m, f, sizeof(f), &r);
	assert_int_equal(r.u.heartbeat.sent_at, 0x0102030405060708u);
	assert_int_equal(r.u.heartbeat.echo, 42);

	struct pc_ovl_lsa_link links[PC_OVL_LSA_LINKS_MAX];
	for (uint32_t i = 0; i < PC_OVL_LSA_LINKS_MAX; i++)
		links[i] = (struct pc_ovl_lsa_link){1000 + i, 10 + i};
	m = (struct pc_ovl_msg){.type = PC_OVL_LSA};
	m.u.lsa = (struct pc_ovl_lsa){.origin = 5,
	                              .cdn = S("isp200"),
	                              .seq = 77,
	                              .age = 12,
	                              .count = PC_OVL_LSA_LINKS_MAX,
	                              .links = links};
	round_trip(&m, f, sizeof(f), &r);
	assert_int_equal(r.u.lsa.origin, 5);
	assert_int_equal(r.u.lsa.seq, 77);
	assert_int_equal(r.u.lsa.age, 12);
	assert_str(r.u.lsa.cdn, "isp200");
	assert_int_equal(r.u.lsa.count, PC_OVL_LSA_LINKS_MAX);
	assert_null(r.u.lsa.links);
	for (size_t i = 0; i < PC_OVL_LSA_LINKS_MAX; i++) {
		assert_int_equal(pc_ovl_lsa_link_at(&r.u.lsa, i).neighbour, 1000 + i);
		assert_int_equal(pc_ovl_lsa_link_at(&r.u.lsa, i).cost, 10 + i);
	}
	/* a router with no links yet */
	m.u.lsa.count = 0;
	round_trip(&m, f, sizeof(f), &r);
	assert_int_equal(r.u.lsa.count, 0);

	struct pc_ovl_ack_entry acks[3] = {{5, 77}, {6, 1}, {0xffffffffu, 0xfffffffeu}};
	m = (struct pc_ovl_msg){.type = PC_OVL_LSA_ACK};
	m.u.ack = (struct pc_ovl_lsa_ack){.count = 3, .entries = acks};
	round_trip(&m, f, sizeof(f), &r);
	assert_int_equal(r.u.ack.count, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(pc_ovl_ack_at(&r.u.ack, i).origin, acks[i].origin);
		assert_int_equal(pc_ovl_ack_at(&r.u.ack, i).seq, acks[i].seq);
	}

	m = (struct pc_ovl_msg){.type = PC_OVL_JOIN, .flags = PC_OVL_F_RESUME};
	m.u.join = (struct pc_ovl_join){S("abc/Channel12"), 3, 123456, 1764000000123};
	round_trip(&m, f, sizeof(f), &r);
	assert_int_equal(r.flags, PC_OVL_F_RESUME);
	assert_str(r.u.join.channel, "abc/Channel12");
	assert_int_equal(r.u.join.source, 3);
	assert_int_equal(r.u.join.last_seq, 123456);
	assert_int_equal(r.u.join.epoch, 1764000000123);

	m.type = PC_OVL_PRUNE;
	m.flags = 0;
	m.u.join.last_seq = 0;
	round_trip(&m, f, sizeof(f), &r);
	assert_int_equal(r.type, PC_OVL_PRUNE);
	assert_str(r.u.join.channel, "abc/Channel12");

	static uint8_t payload[4000];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	m = (struct pc_ovl_msg){.type = PC_OVL_DATA, .flags = PC_OVL_F_END};
	m.u.data = (struct pc_ovl_data){S("acme/policy"), 9, (uint64_t)1 << 40, payload,
	                                sizeof(payload),  42};
	round_trip(&m, f, sizeof(f), &r);
	assert_int_equal(r.flags, PC_OVL_F_END);
	assert_int_equal(r.u.data.block_seq, (uint64_t)1 << 40);
	assert_int_equal(r.u.data.epoch, 42);
	assert_int_equal(r.u.data.payload_len, sizeof(payload));
	assert_memory_equal(r.u.data.payload, payload, sizeof(payload));
	m.u.data.payload_len = 0;
	round_trip(&m, f, sizeof(f), &r);
	assert_int_equal(r.u.data.payload_len, 0);

	m = (struct pc_ovl_msg){.type = PC_OVL_GOODBYE, .u.goodbye.grace_ms = 0xfffffffeu};
	round_trip(&m, f, sizeof(f), &r);
	assert_int_equal(r.u.goodbye.grace_ms, 0xfffffffeu);
	/* a GOODBYE cut short is malformed: its body is one field */
	uint8_t cut[PC_OVL_FRAME_MIN + 4];
	m.sender = 7;
	m.seq = 9;
	int len = pc_ovl_encode(&m, cut, sizeof(cut));
	assert_int_equal(len, (int)sizeof(cut));
	cut[PC_OVL_OFF_LENGTH + 3] = 2;
	assert_int_equal(pc_ovl_decode(cut, PC_OVL_FRAME_MIN + 2, &r), PC_ESYNTAX);
	assert_int_equal(r.fault, PC_OVL_FAULT_SHORT);
}

static void test_encode_refuses(void **state)
{
	(void)state;
	uint8_t f[512];
	struct pc_ovl_msg m = hello_msg();
	m.sender = 1;
	assert_int_equal(pc_ovl_encode(NULL, f, sizeof(f)), PC_EINVAL);
	m.type = 0;
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_EINVAL);
	m.type = PC_OVL_TYPE__COUNT;
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_EINVAL);
	m = hello_msg();
	m.sender = 0; /* no router is 0 */
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_EINVAL);
	m = hello_msg();
	m.sender = 1;
	m.u.hello.cdn = S("a cme");
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_EINVAL);
	m = hello_msg();
	m.sender = 1;
	m.u.hello.dead_ms = 200; /* not longer than the heartbeat */
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_EINVAL);

	m = (struct pc_ovl_msg){.type = PC_OVL_LSA, .sender = 1};
	m.u.lsa = (struct pc_ovl_lsa){
	    .origin = 1, .cdn = S("acme"), .seq = 1, .count = PC_OVL_LSA_LINKS_MAX + 1};
	struct pc_ovl_lsa_link many[PC_OVL_LSA_LINKS_MAX + 1] = {{0}};
	m.u.lsa.links = many;
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_ERANGE);

	m = (struct pc_ovl_msg){.type = PC_OVL_DATA, .sender = 1};
	m.u.data = (struct pc_ovl_data){S("acme"), 1, 1, NULL, 0, 1}; /* no '/' */
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_EINVAL);
	m.u.data.channel = S("acme/x");
	m.u.data.block_seq = 0;
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_EINVAL);
	static uint8_t big[PC_OVL_BODY_MAX];
	m.u.data.block_seq = 1;
	m.u.data.payload = big;
	m.u.data.payload_len = PC_OVL_BODY_MAX; /* the payload fits, the body does not */
	static uint8_t huge[PC_OVL_FRAME_MAX + 64];
	assert_int_equal(pc_ovl_encode(&m, huge, sizeof(huge)), PC_ERANGE);
	m.u.data.payload_len = PC_OVL_BODY_MAX - 4 - 8 - 8 - 1 - 6 - 4;
	assert_int_equal(pc_ovl_encode(&m, huge, sizeof(huge)), PC_OVL_FRAME_MAX);
}

/* ---- framing and rejections ---- */

static int encode_join(uint8_t *f, size_t size)
{
	struct pc_ovl_msg m = {.type = PC_OVL_JOIN, .sender = 3, .seq = 4};
	m.u.join = (struct pc_ovl_join){S("abc/live"), 2, 0, 0};
	return pc_ovl_encode(&m, f, size);
}

static void test_frame_find(void **state)
{
	(void)state;
	uint8_t f[256];
	int n = encode_join(f, sizeof(f));
	assert_true(n > 0);
	for (int cut = 0; cut < n; cut++)
		assert_int_equal(pc_ovl_frame_find(f, (size_t)cut), 0);
	assert_int_equal(pc_ovl_frame_find(f, (size_t)n), n);
	/* a second frame behind the first does not change the answer */
	memcpy(f + n, f, (size_t)n);
	assert_int_equal(pc_ovl_frame_find(f, 2 * (size_t)n), n);

	uint8_t bad[256];
	memcpy(bad, f, (size_t)n);
	bad[0] = 'G'; /* "GET / HTTP/1.1" on the overlay port */
	assert_int_equal(pc_ovl_frame_find(bad, 1), PC_ESYNTAX);
	memcpy(bad, f, (size_t)n);
	bad[1] = 0;
	assert_int_equal(pc_ovl_frame_find(bad, 2), PC_ESYNTAX);
	memcpy(bad, f, (size_t)n);
	bad[PC_OVL_OFF_VERSION] = 2;
	assert_int_equal(pc_ovl_frame_find(bad, 3), PC_ENOTSUP);
	memcpy(bad, f, (size_t)n);
	bad[PC_OVL_OFF_LENGTH] = 0xff; /* 4 GB */
	assert_int_equal(pc_ovl_frame_find(bad, PC_OVL_HEADER_LEN), PC_ERANGE);
	bad[PC_OVL_OFF_LENGTH] = 0;
	bad[PC_OVL_OFF_LENGTH + 1] = 0x04; /* PC_OVL_BODY_MAX + 1 */
	bad[PC_OVL_OFF_LENGTH + 2] = 0x00;
	bad[PC_OVL_OFF_LENGTH + 3] = 0x01;
	assert_int_equal(pc_ovl_frame_find(bad, PC_OVL_HEADER_LEN), PC_ERANGE);
	bad[PC_OVL_OFF_LENGTH + 3] = 0x00; /* exactly the max: wait for it */
	assert_int_equal(pc_ovl_frame_find(bad, PC_OVL_HEADER_LEN), 0);
}

static void expect_fault(const uint8_t *f, size_t len, int code, uint8_t fault)
{
	struct pc_ovl_msg m;
	assert_int_equal(pc_ovl_decode(f, len, &m), code);
	assert_int_equal(m.fault, fault);
}

/* Rewrites the body length field after a body was changed in place. */
static void set_length(uint8_t *f, size_t body)
{
	f[PC_OVL_OFF_LENGTH] = (uint8_t)(body >> 24);
	f[PC_OVL_OFF_LENGTH + 1] = (uint8_t)(body >> 16);
	f[PC_OVL_OFF_LENGTH + 2] = (uint8_t)(body >> 8);
	f[PC_OVL_OFF_LENGTH + 3] = (uint8_t)body;
}

static void test_decode_rejections(void **state)
{
	(void)state;
	uint8_t f[512], bad[512];
	int n = encode_join(f, sizeof(f));

	/* every truncation, and every length field but the right one */
	for (int cut = 0; cut < n; cut++)
		expect_fault(f, (size_t)cut, PC_ESYNTAX,
		             cut < PC_OVL_HEADER_LEN ? PC_OVL_FAULT_SHORT : PC_OVL_FAULT_LENGTH);
	size_t body = (size_t)n - PC_OVL_HEADER_LEN - PC_OVL_MAC_LEN;
	for (size_t l = 0; l < 300; l++) {
		if (l == body)
			continue;
		memcpy(bad, f, (size_t)n);
		set_length(bad, l);
		expect_fault(bad, (size_t)n, PC_ESYNTAX, PC_OVL_FAULT_LENGTH);
	}
	/* a body that ends inside a field, its length consistent */
	for (size_t l = 0; l < body; l++) {
		memcpy(bad, f, PC_OVL_HEADER_LEN + l);
		set_length(bad, l);
		expect_fault(bad, PC_OVL_HEADER_LEN + l + PC_OVL_MAC_LEN, PC_ESYNTAX,
		             PC_OVL_FAULT_SHORT);
	}

	memcpy(bad, f, (size_t)n);
	bad[0] = 'Q';
	expect_fault(bad, (size_t)n, PC_ESYNTAX, PC_OVL_FAULT_MAGIC);
	for (unsigned v = 0; v < 256; v++) {
		if (v == PC_OVL_VERSION)
			continue;
		memcpy(bad, f, (size_t)n);
		bad[PC_OVL_OFF_VERSION] = (uint8_t)v;
		expect_fault(bad, (size_t)n, PC_ENOTSUP, PC_OVL_FAULT_VERSION);
	}
	/* an unknown type: the header is read, the body skipped */
	memcpy(bad, f, (size_t)n);
	bad[PC_OVL_OFF_TYPE] = 99;
	struct pc_ovl_msg m;
	assert_int_equal(pc_ovl_decode(bad, (size_t)n, &m), PC_ENOTSUP);
	assert_int_equal(m.fault, PC_OVL_FAULT_TYPE);
	assert_int_equal(m.type, 99);
	assert_int_equal(m.sender, 3);
	assert_int_equal(m.seq, 4);
	/* sender 0 */
	memcpy(bad, f, (size_t)n);
	memset(bad + PC_OVL_OFF_SENDER, 0, 4);
	expect_fault(bad, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD);
	/* unknown flags are ignored */
	memcpy(bad, f, (size_t)n);
	bad[PC_OVL_OFF_FLAGS] = 0x80;
	assert_int_equal(pc_ovl_decode(bad, (size_t)n, &m), PC_OK);
	assert_int_equal(m.flags, 0x8000);
	assert_int_equal(pc_ovl_decode(NULL, 5, &m), PC_EINVAL);
	assert_int_equal(pc_ovl_decode(f, (size_t)n, NULL), PC_EINVAL);
}

/* A JOIN for channel, written by hand (the encoder refuses bad names). */
static size_t join_with_channel(uint8_t *f, const char *channel, size_t channel_len)
{
	size_t body = 4 + 8 + 8 + 1 + channel_len;
	memset(f, 0, PC_OVL_HEADER_LEN);
	f[0] = PC_OVL_MAGIC0;
	f[1] = PC_OVL_MAGIC1;
	f[PC_OVL_OFF_VERSION] = PC_OVL_VERSION;
	f[PC_OVL_OFF_TYPE] = PC_OVL_JOIN;
	set_length(f, body);
	f[PC_OVL_OFF_SENDER + 3] = 1;
	uint8_t *b = f + PC_OVL_HEADER_LEN;
	memset(b, 0, 20);
	b[3] = 2; /* source */
	b[20] = (uint8_t)channel_len;
	memcpy(b + 21, channel, channel_len);
	memset(b + body, 0, PC_OVL_MAC_LEN);
	return PC_OVL_HEADER_LEN + body + PC_OVL_MAC_LEN;
}

static void test_channel_names(void **state)
{
	(void)state;
	uint8_t f[512];
	struct pc_ovl_msg m;
	static const char *const good[] = {
	    "abc/live",      "acme/load", "a/b",        "foo.com/Channel_12-hd",
	    "abc/sports/hd", "abc/%2Fx",  "abc/a:b@c~d"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		size_t n = join_with_channel(f, good[i], strlen(good[i]));
		assert_int_equal(pc_ovl_decode(f, n, &m), PC_OK);
		assert_str(m.u.join.channel, good[i]);
	}
	static const char *const bad[] = {"",          "abc",        "/live",        "abc/",
	                                  "abc//live", "abc/x/",     "abc/../x",     "abc/./x",
	                                  "abc/li ve", "abc/li\nve", "ab\xc3\xa9/x", "abc/%zz",
	                                  "abc/%2",    "a b/x",      "abc/x?y",      "abc/x#y"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		size_t n = join_with_channel(f, bad[i], strlen(bad[i]));
		expect_fault(f, n, PC_ESYNTAX, PC_OVL_FAULT_NAME);
	}
	char nul[] = "abc/l\0ve";
	expect_fault(f, join_with_channel(f, nul, 8), PC_ESYNTAX, PC_OVL_FAULT_NAME);
	/* the longest channel fits its byte of length; a 64-byte owner is no name */
	char longest[PC_OVL_CHANNEL_MAX + 1];
	memset(longest, 'x', sizeof(longest));
	longest[PC_OVL_NAME_MAX] = '/';
	assert_int_equal(pc_ovl_decode(f, join_with_channel(f, longest, PC_OVL_CHANNEL_MAX), &m),
	                 PC_OK);
	struct pc_ovl_msg j = {.type = PC_OVL_JOIN, .sender = 1};
	j.u.join = (struct pc_ovl_join){{longest, PC_OVL_CHANNEL_MAX + 1}, 1, 0, 0};
	assert_int_equal(pc_ovl_encode(&j, f, sizeof(f)), PC_EINVAL);
	longest[PC_OVL_NAME_MAX] = 'x';
	longest[PC_OVL_NAME_MAX + 1] = '/';
	expect_fault(f, join_with_channel(f, longest, PC_OVL_CHANNEL_MAX), PC_ESYNTAX,
	             PC_OVL_FAULT_NAME);
	assert_true(pc_ovl_name_ok("beta-s1", 7));
	assert_false(pc_ovl_name_ok("beta/s1", 7));
	assert_false(pc_ovl_name_ok(NULL, 0));
}

static void test_counts_and_fields(void **state)
{
	(void)state;
	static uint8_t f[8192];
	struct pc_ovl_lsa_link links[2] = {{2, 10}, {3, 1}};
	struct pc_ovl_msg m = {.type = PC_OVL_LSA, .sender = 1, .seq = 1};
	m.u.lsa = (struct pc_ovl_lsa){
	    .origin = 1, .cdn = S("acme"), .seq = 5, .count = 2, .links = links};
	int n = pc_ovl_encode(&m, f, sizeof(f));
	assert_true(n > 0);
	const size_t count_at = PC_OVL_HEADER_LEN + 10, age_at = PC_OVL_HEADER_LEN + 8;
	/* a count over the bound, whatever follows */
	f[count_at] = 0x01;
	f[count_at + 1] = 0x01; /* 257 */
	expect_fault(f, (size_t)n, PC_ERANGE, PC_OVL_FAULT_COUNT);
	f[count_at] = 0xff;
	f[count_at + 1] = 0xff;
	expect_fault(f, (size_t)n, PC_ERANGE, PC_OVL_FAULT_COUNT);
	/* a count larger than the links present */
	f[count_at] = 0;
	f[count_at + 1] = 3;
	expect_fault(f, (size_t)n, PC_ESYNTAX, PC_OVL_FAULT_SHORT);
	f[count_at + 1] = 2;
	/* an age past MaxAge */
	f[age_at] = (uint8_t)((PC_OVL_MAX_AGE + 1) >> 8);
	f[age_at + 1] = (uint8_t)(PC_OVL_MAX_AGE + 1);
	expect_fault(f, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD);
	f[age_at] = (uint8_t)(PC_OVL_MAX_AGE >> 8);
	f[age_at + 1] = (uint8_t)PC_OVL_MAX_AGE; /* MaxAge itself is a withdrawal */
	struct pc_ovl_msg r;
	assert_int_equal(pc_ovl_decode(f, (size_t)n, &r), PC_OK);
	assert_int_equal(r.u.lsa.age, PC_OVL_MAX_AGE);
	/* a link of cost 0, or to the origin itself */
	links[1].cost = 0;
	m.sender = 1;
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_EINVAL);
	links[1].cost = 1;
	n = pc_ovl_encode(&m, f, sizeof(f));
	f[n - PC_OVL_MAC_LEN - 1] = 0; /* the last link's cost */
	expect_fault(f, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD);

	/* LSA_ACK: none, or too many */
	struct pc_ovl_ack_entry e = {1, 1};
	m = (struct pc_ovl_msg){.type = PC_OVL_LSA_ACK, .sender = 1};
	m.u.ack = (struct pc_ovl_lsa_ack){.count = 1, .entries = &e};
	n = pc_ovl_encode(&m, f, sizeof(f));
	f[PC_OVL_HEADER_LEN + 1] = 0;
	expect_fault(f, (size_t)n, PC_ERANGE, PC_OVL_FAULT_COUNT);
	f[PC_OVL_HEADER_LEN] = 0x01;
	f[PC_OVL_HEADER_LEN + 1] = 0x01;
	expect_fault(f, (size_t)n, PC_ERANGE, PC_OVL_FAULT_COUNT);
	m.u.ack.count = 0;
	assert_int_equal(pc_ovl_encode(&m, f, sizeof(f)), PC_ERANGE);

	/* DATA: a payload length past the body */
	m = (struct pc_ovl_msg){.type = PC_OVL_DATA, .sender = 1};
	m.u.data = (struct pc_ovl_data){S("a/b"), 1, 1, (const uint8_t *)"xyz", 3, 1};
	n = pc_ovl_encode(&m, f, sizeof(f));
	size_t len_at = PC_OVL_HEADER_LEN + 4 + 8 + 8 + 1 + 3;
	f[len_at + 3] = 4;
	expect_fault(f, (size_t)n, PC_ESYNTAX, PC_OVL_FAULT_SHORT);
	f[len_at] = 0xff;
	expect_fault(f, (size_t)n, PC_ESYNTAX, PC_OVL_FAULT_SHORT);

	/* HELLO: a heartbeat of 0 */
	m = hello_msg();
	m.sender = 1;
	n = pc_ovl_encode(&m, f, sizeof(f));
	memset(f + n - PC_OVL_MAC_LEN - 8, 0, 4);
	expect_fault(f, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD);
}

/* Appends an option to a frame in place (before its MAC). */
static size_t add_option(uint8_t *f, size_t len, uint16_t type, const char *value)
{
	size_t body = len - PC_OVL_HEADER_LEN - PC_OVL_MAC_LEN, vlen = strlen(value);
	uint8_t *at = f + PC_OVL_HEADER_LEN + body;
	at[0] = (uint8_t)(type >> 8);
	at[1] = (uint8_t)type;
	at[2] = (uint8_t)(vlen >> 8);
	at[3] = (uint8_t)vlen;
	memcpy(at + 4, value, vlen);
	body += 4 + vlen;
	set_length(f, body);
	memset(f + PC_OVL_HEADER_LEN + body, 0, PC_OVL_MAC_LEN);
	return PC_OVL_HEADER_LEN + body + PC_OVL_MAC_LEN;
}

static void test_options(void **state)
{
	(void)state;
	uint8_t f[512];
	struct pc_ovl_msg m;
	size_t n = (size_t)encode_join(f, sizeof(f));
	n = add_option(f, n, 0x0000, "pad");   /* padding: not counted */
	n = add_option(f, n, 0x0042, "later"); /* unknown, not critical: skipped */
	n = add_option(f, n, 0x0043, "");
	assert_int_equal(pc_ovl_decode(f, n, &m), PC_OK);
	assert_int_equal(m.unknown_options, 2);
	assert_str(m.u.join.channel, "abc/live");

	size_t with_critical = add_option(f, n, 0x8001, "must");
	expect_fault(f, with_critical, PC_ESYNTAX, PC_OVL_FAULT_OPTION);

	/* an option whose length runs past the body, or a head cut short */
	size_t cut = add_option(f, n, 0x0042, "abcdef");
	f[cut - PC_OVL_MAC_LEN - 6 - 1] = 7;
	expect_fault(f, cut, PC_ESYNTAX, PC_OVL_FAULT_OPTION);
	n = (size_t)encode_join(f, sizeof(f));
	size_t body = n - PC_OVL_HEADER_LEN - PC_OVL_MAC_LEN;
	f[PC_OVL_HEADER_LEN + body] = 0;
	f[PC_OVL_HEADER_LEN + body + 1] = 0x42;
	f[PC_OVL_HEADER_LEN + body + 2] = 0;
	set_length(f, body + 3);
	expect_fault(f, n + 3, PC_ESYNTAX, PC_OVL_FAULT_OPTION);
}

/* ---- the session ---- */

static void expect_link_fault(struct pc_ovl_link *link, const uint8_t *f, size_t n, int code,
                              uint8_t fault)
{
	struct pc_ovl_link before = *link;
	struct pc_ovl_msg m;
	assert_int_equal(pc_ovl_link_read(link, f, n, &m), code);
	assert_int_equal(m.fault, fault);
	/* a refused frame changes nothing */
	assert_memory_equal(&before, link, sizeof(before));
}

static void test_link_session(void **state)
{
	(void)state;
	struct pc_ovl_link a, b;
	handshake(&a, &b);
	assert_memory_equal(a.send_key, b.recv_key, PC_OVL_KEY_LEN);
	assert_memory_equal(a.recv_key, b.send_key, PC_OVL_KEY_LEN);
	/* the two directions have keys of their own, and neither is the link key */
	assert_memory_not_equal(a.send_key, a.recv_key, PC_OVL_KEY_LEN);
	assert_memory_not_equal(a.send_key, test_key, PC_OVL_KEY_LEN);

	uint8_t f1[256], f2[256], bad[256];
	struct pc_ovl_msg m = {.type = PC_OVL_JOIN}, r;
	m.u.join = (struct pc_ovl_join){S("abc/live"), 1, 0, 0};
	int n1 = pc_ovl_link_write(&b, &m, f1, sizeof(f1));
	int n2 = pc_ovl_link_write(&b, &m, f2, sizeof(f2));
	assert_int_equal(m.seq, 2);

	/* out of order: 2 before 1 */
	expect_link_fault(&a, f2, (size_t)n2, PC_EBADSIG, PC_OVL_FAULT_SEQ);
	assert_int_equal(pc_ovl_link_read(&a, f1, (size_t)n1, &r), PC_OK);
	assert_int_equal(r.seq, 1);
	/* replayed */
	expect_link_fault(&a, f1, (size_t)n1, PC_EBADSIG, PC_OVL_FAULT_SEQ);
	/* every bit of the frame is covered by the MAC */
	for (int i = 0; i < n2; i++) {
		memcpy(bad, f2, (size_t)n2);
		bad[i] ^= 0x01;
		struct pc_ovl_link before = a;
		assert_int_not_equal(pc_ovl_link_read(&a, bad, (size_t)n2, &r), PC_OK);
		assert_memory_equal(&before, &a, sizeof(before));
	}
	assert_int_equal(pc_ovl_link_read(&a, f2, (size_t)n2, &r), PC_OK);

	/* a frame of a reflected back to a: wrong sender */
	n1 = pc_ovl_link_write(&a, &m, f1, sizeof(f1));
	expect_link_fault(&a, f1, (size_t)n1, PC_EBADSIG, PC_OVL_FAULT_SENDER);

	/* a forged frame: right header, MAC under the link key, or another key */
	m.sender = 2;
	m.seq = b.send_seq + 1;
	n1 = pc_ovl_encode(&m, f1, sizeof(f1));
	pc_ovl_mac_set(test_key, f1, (size_t)n1);
	expect_link_fault(&a, f1, (size_t)n1, PC_EBADSIG, PC_OVL_FAULT_MAC);
	uint8_t other[PC_OVL_KEY_LEN] = {1};
	pc_ovl_mac_set(other, f1, (size_t)n1);
	expect_link_fault(&a, f1, (size_t)n1, PC_EBADSIG, PC_OVL_FAULT_MAC);
	/* the same, but under the right session key, goes through */
	pc_ovl_mac_set(b.send_key, f1, (size_t)n1);
	assert_int_equal(pc_ovl_link_read(&a, f1, (size_t)n1, &r), PC_OK);
	b.send_seq++;

	/* an authenticated frame of an unknown type: skipped, sequence consumed */
	m.type = PC_OVL_HEARTBEAT;
	n1 = pc_ovl_link_write(&b, &m, f1, sizeof(f1));
	f1[PC_OVL_OFF_TYPE] = 200;
	pc_ovl_mac_set(b.send_key, f1, (size_t)n1);
	uint64_t seq = a.recv_seq;
	assert_int_equal(pc_ovl_link_read(&a, f1, (size_t)n1, &r), PC_ENOTSUP);
	assert_int_equal(r.fault, PC_OVL_FAULT_TYPE);
	assert_int_equal(a.recv_seq, seq + 1);

	/* a HELLO mid-session: the same nonce again is harmless; a new one is
	 * refused (a new session needs a new connection) */
	struct pc_ovl_msg h = hello_msg();
	n1 = pc_ovl_link_write(&b, &h, f1, sizeof(f1));
	assert_int_equal(pc_ovl_link_read(&a, f1, (size_t)n1, &r), PC_OK);
	assert_true(pc_ovl_link_up(&a));
	struct pc_ovl_link b2;
	uint8_t nonce_c[PC_OVL_NONCE_LEN] = {0xc0};
	pc_ovl_link_init(&b2, test_key, 2, 1, nonce_c);
	h = hello_msg();
	n1 = pc_ovl_link_write(&b2, &h, f1, sizeof(f1));
	expect_link_fault(&a, f1, (size_t)n1, PC_EBADSIG, PC_OVL_FAULT_STATE);

	/* not exactly one frame */
	expect_link_fault(&a, f2, (size_t)n2 - 1, PC_ESYNTAX, PC_OVL_FAULT_LENGTH);
	pc_ovl_link_wipe(&a);
	uint8_t zero[sizeof(a)] = {0};
	assert_memory_equal(&a, zero, sizeof(a));
}

static void test_link_states(void **state)
{
	(void)state;
	struct pc_ovl_link a, b;
	uint8_t f[256];
	struct pc_ovl_msg m = {.type = PC_OVL_HEARTBEAT}, r;
	pc_ovl_link_init(&a, test_key, 1, 2, nonce_a);
	pc_ovl_link_init(&b, test_key, 2, 1, nonce_b);
	/* nothing but a HELLO before the peer's HELLO */
	assert_int_equal(pc_ovl_link_write(&a, &m, f, sizeof(f)), PC_EINVAL);
	m.sender = 1;
	m.seq = 1;
	int n = pc_ovl_encode(&m, f, sizeof(f));
	pc_ovl_mac_set(test_key, f, (size_t)n);
	expect_link_fault(&b, f, (size_t)n, PC_EBADSIG, PC_OVL_FAULT_STATE);

	/* a HELLO under another link key */
	struct pc_ovl_link x;
	uint8_t other[PC_OVL_KEY_LEN] = {9};
	pc_ovl_link_init(&x, other, 1, 2, nonce_a);
	struct pc_ovl_msg h = hello_msg();
	n = pc_ovl_link_write(&x, &h, f, sizeof(f));
	expect_link_fault(&b, f, (size_t)n, PC_EBADSIG, PC_OVL_FAULT_MAC);

	/* a HELLO that echoes a nonce that is not ours: an old session's */
	h = hello_msg();
	n = pc_ovl_link_write(&a, &h, f, sizeof(f));
	assert_int_equal(pc_ovl_link_read(&b, f, (size_t)n, &r), PC_OK);
	h = hello_msg();
	n = pc_ovl_link_write(&b, &h, f, sizeof(f));
	struct pc_ovl_link a2;
	uint8_t nonce_d[PC_OVL_NONCE_LEN] = {0xd0};
	pc_ovl_link_init(&a2, test_key, 1, 2, nonce_d);
	expect_link_fault(&a2, f, (size_t)n, PC_EBADSIG, PC_OVL_FAULT_STATE);

	/* a HELLO with a sequence number, or a zero nonce */
	struct pc_ovl_link a3;
	pc_ovl_link_init(&a3, test_key, 1, 2, nonce_a);
	h = hello_msg();
	h.sender = 2;
	h.seq = 5;
	memcpy(h.u.hello.nonce, nonce_b, PC_OVL_NONCE_LEN);
	n = pc_ovl_encode(&h, f, sizeof(f));
	pc_ovl_mac_set(test_key, f, (size_t)n);
	expect_link_fault(&a3, f, (size_t)n, PC_EBADSIG, PC_OVL_FAULT_STATE);
	h.seq = 0;
	memset(h.u.hello.nonce, 0, PC_OVL_NONCE_LEN);
	n = pc_ovl_encode(&h, f, sizeof(f));
	pc_ovl_mac_set(test_key, f, (size_t)n);
	expect_link_fault(&a3, f, (size_t)n, PC_EBADSIG, PC_OVL_FAULT_STATE);

	/* both ends open at once: each answers the other's first HELLO */
	struct pc_ovl_link p, q;
	uint8_t fp[256], fq[256];
	pc_ovl_link_init(&p, test_key, 1, 2, nonce_a);
	pc_ovl_link_init(&q, test_key, 2, 1, nonce_b);
	h = hello_msg();
	int np = pc_ovl_link_write(&p, &h, fp, sizeof(fp));
	h = hello_msg();
	int nq = pc_ovl_link_write(&q, &h, fq, sizeof(fq));
	assert_int_equal(pc_ovl_link_read(&p, fq, (size_t)nq, &r), PC_OK);
	assert_int_equal(pc_ovl_link_read(&q, fp, (size_t)np, &r), PC_OK);
	assert_true(pc_ovl_link_hello_owed(&p) && pc_ovl_link_hello_owed(&q));
	h = hello_msg();
	np = pc_ovl_link_write(&p, &h, fp, sizeof(fp));
	h = hello_msg();
	nq = pc_ovl_link_write(&q, &h, fq, sizeof(fq));
	assert_int_equal(pc_ovl_link_read(&p, fq, (size_t)nq, &r), PC_OK);
	assert_int_equal(pc_ovl_link_read(&q, fp, (size_t)np, &r), PC_OK);
	assert_true(pc_ovl_link_up(&p) && pc_ovl_link_up(&q));
}

/* ---- control records ---- */

static void expect_record_fault(const uint8_t *p, size_t len, int code, uint8_t fault,
                                size_t want_used);

static int record_round_trip(const struct pc_ovl_record *rec, uint8_t *buf, size_t size,
                             struct pc_ovl_record *out)
{
	static uint8_t again[70000];
	int n = pc_ovl_record_encode(rec, buf, size);
	assert_true(n > 4);
	size_t used;
	assert_int_equal(pc_ovl_record_decode(buf, (size_t)n, out, &used), PC_OK);
	assert_int_equal(used, n);
	assert_int_equal(out->type, rec->type);
	assert_int_equal(pc_ovl_record_encode(out, again, sizeof(again)), n);
	assert_memory_equal(again, buf, (size_t)n);
	assert_int_equal(pc_ovl_record_encode(rec, again, (size_t)n - 1), PC_ESPACE);
	/* every truncation is refused */
	for (int cut = 0; cut < n; cut++) {
		struct pc_ovl_record r;
		assert_int_not_equal(pc_ovl_record_decode(buf, (size_t)cut, &r, &used), PC_OK);
		assert_int_not_equal(r.fault, PC_OVL_FAULT_NONE);
	}
	return n;
}

static void test_records(void **state)
{
	(void)state;
	static uint8_t buf[70000];
	struct pc_ovl_record rec, r;

	rec = (struct pc_ovl_record){.type = PC_OVL_REC_LOAD};
	rec.u.load = (struct pc_ovl_load){S("acme-s1"), 40, 100, PC_OVL_DOWN, 1700000000123u};
	record_round_trip(&rec, buf, sizeof(buf), &r);
	assert_str(r.u.load.server, "acme-s1");
	assert_int_equal(r.u.load.load, 40);
	assert_int_equal(r.u.load.capacity, 100);
	assert_int_equal(r.u.load.health, PC_OVL_DOWN);
	assert_int_equal(r.u.load.time_ms, 1700000000123u);

	rec = (struct pc_ovl_record){.type = PC_OVL_REC_POLICY};
	rec.u.policy = (struct pc_ovl_policy){.version = 3,
	                                      .total = 10,
	                                      .offset = 4,
	                                      .chunk = (const uint8_t *)"abcdef",
	                                      .chunk_len = 6};
	memset(rec.u.policy.hash, 0x5a, 32);
	record_round_trip(&rec, buf, sizeof(buf), &r);
	assert_int_equal(r.u.policy.version, 3);
	assert_int_equal(r.u.policy.total, 10);
	assert_int_equal(r.u.policy.offset, 4);
	assert_int_equal(r.u.policy.chunk_len, 6);
	assert_memory_equal(r.u.policy.chunk, "abcdef", 6);
	assert_memory_equal(r.u.policy.hash, rec.u.policy.hash, 32);

	rec = (struct pc_ovl_record){.type = PC_OVL_REC_REPLICA};
	rec.u.replica =
	    (struct pc_ovl_replica){0xfeedfacecafebeefu, S("beta-s2"), PC_OVL_REPLICA_DROP, 99};
	record_round_trip(&rec, buf, sizeof(buf), &r);
	assert_int_equal(r.u.replica.key, 0xfeedfacecafebeefu);
	assert_str(r.u.replica.server, "beta-s2");
	assert_int_equal(r.u.replica.op, PC_OVL_REPLICA_DROP);

	struct pc_ovl_str services[PC_OVL_SERVICES_MAX];
	for (size_t i = 0; i < PC_OVL_SERVICES_MAX; i++)
		services[i] = i % 2 ? S("web") : S("live-video");
	static struct pc_ovl_prefix prefixes[PC_OVL_PREFIXES_MAX];
	for (size_t i = 0; i < PC_OVL_PREFIXES_MAX; i++) {
		prefixes[i] = (struct pc_ovl_prefix){.family = i % 2 ? 4 : 6, .len = 16};
		prefixes[i].bytes[0] = (uint8_t)i;
		prefixes[i].bytes[1] = (uint8_t)(i >> 8);
	}
	rec = (struct pc_ovl_record){.type = PC_OVL_REC_RESOURCE};
	rec.u.resource = (struct pc_ovl_resource){.cdn = S("isp200"),
	                                          .peer = S("acme"),
	                                          .capacity = 5000,
	                                          .time_ms = 7,
	                                          .service_count = PC_OVL_SERVICES_MAX,
	                                          .prefix_count = PC_OVL_PREFIXES_MAX,
	                                          .services = services,
	                                          .prefixes = prefixes};
	record_round_trip(&rec, buf, sizeof(buf), &r);
	assert_str(r.u.resource.cdn, "isp200");
	assert_str(r.u.resource.peer, "acme");
	assert_int_equal(r.u.resource.capacity, 5000);
	assert_int_equal(r.u.resource.service_count, PC_OVL_SERVICES_MAX);
	assert_int_equal(r.u.resource.prefix_count, PC_OVL_PREFIXES_MAX);
	for (size_t i = 0; i < PC_OVL_SERVICES_MAX; i++)
		assert_str(pc_ovl_resource_service_at(&r.u.resource, i),
		           i % 2 ? "web" : "live-video");
	for (size_t i = 0; i < PC_OVL_PREFIXES_MAX; i++) {
		struct pc_ovl_prefix p = pc_ovl_resource_prefix_at(&r.u.resource, i);
		assert_memory_equal(&p, &prefixes[i], sizeof(p));
	}
	/* one service too many, one prefix too many */
	rec.u.resource.service_count = PC_OVL_SERVICES_MAX + 1;
	assert_int_equal(pc_ovl_record_encode(&rec, buf, sizeof(buf)), PC_ERANGE);
	rec.u.resource.service_count = 1;
	rec.u.resource.prefix_count = PC_OVL_PREFIXES_MAX + 1;
	assert_int_equal(pc_ovl_record_encode(&rec, buf, sizeof(buf)), PC_ERANGE);

	const char *line = "ts=2026-11-25T10:00:00.123Z provider=abc client=127.2.0.0/24 as=200 "
	                   "object=ad102 service=web branch=PEER cdn=beta server=beta-s1 "
	                   "agreement=acme-beta reason=PEER flags=-";
	rec = (struct pc_ovl_record){.type = PC_OVL_REC_REPORT};
	rec.u.report = (struct pc_ovl_report){4, 17, S("abc"), S("acme-beta"), S(line)};
	record_round_trip(&rec, buf, sizeof(buf), &r);
	assert_int_equal(r.u.report.origin, 4);
	assert_int_equal(r.u.report.serial, 17);
	assert_str(r.u.report.provider, "abc");
	assert_str(r.u.report.agreement, "acme-beta");
	assert_str(r.u.report.line, line);
	rec.u.report.agreement = S(""); /* OUTSIDE without an agreement */
	record_round_trip(&rec, buf, sizeof(buf), &r);
	assert_int_equal(r.u.report.agreement.len, 0);

	rec = (struct pc_ovl_record){.type = PC_OVL_REC_DRAIN};
	rec.u.drain = (struct pc_ovl_drain){(uint64_t)1764000000000 << 12 | 0xabc, 1, S("acme-s1")};
	assert_int_equal(record_round_trip(&rec, buf, sizeof(buf), &r), 4 + 8 + 1 + 1 + 7);
	assert_int_equal(r.u.drain.version, (uint64_t)1764000000000 << 12 | 0xabc);
	assert_int_equal(r.u.drain.drained, 1);
	assert_str(r.u.drain.server, "acme-s1");
	assert_string_equal(pc_ovl_record_name(PC_OVL_REC_DRAIN), "drain");
	/* version 0, a state past undrained/drained, a bad name: refused */
	rec.u.drain.version = 0;
	assert_int_equal(pc_ovl_record_encode(&rec, buf, sizeof(buf)), PC_EINVAL);
	rec.u.drain.version = 1;
	rec.u.drain.drained = 2;
	assert_int_equal(pc_ovl_record_encode(&rec, buf, sizeof(buf)), PC_EINVAL);
	rec.u.drain.drained = 0;
	rec.u.drain.server = S("acme s1");
	assert_int_equal(pc_ovl_record_encode(&rec, buf, sizeof(buf)), PC_EINVAL);
	rec.u.drain.server = S("acme-s1");
	int n = pc_ovl_record_encode(&rec, buf, sizeof(buf));
	buf[4 + 8] = 2; /* drained */
	expect_record_fault(buf, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD, (size_t)n);
}

static void expect_record_fault(const uint8_t *p, size_t len, int code, uint8_t fault,
                                size_t want_used)
{
	struct pc_ovl_record r;
	size_t used = 99;
	assert_int_equal(pc_ovl_record_decode(p, len, &r, &used), code);
	assert_int_equal(r.fault, fault);
	assert_int_equal(used, want_used);
}

static void test_record_rejections(void **state)
{
	(void)state;
	uint8_t buf[1024];
	struct pc_ovl_record rec = {.type = PC_OVL_REC_LOAD};
	rec.u.load = (struct pc_ovl_load){S("acme-s1"), 1, 2, PC_OVL_UP, 3};
	int n = pc_ovl_record_encode(&rec, buf, sizeof(buf));

	/* unknown type: skipped whole */
	buf[0] = 77;
	expect_record_fault(buf, (size_t)n, PC_ENOTSUP, PC_OVL_FAULT_TYPE, (size_t)n);
	buf[0] = PC_OVL_REC_LOAD;
	/* a length past the payload: stop */
	buf[3]++;
	expect_record_fault(buf, (size_t)n, PC_ESYNTAX, PC_OVL_FAULT_LENGTH, 0);
	buf[3]--;
	/* health 2 */
	buf[4 + 16] = 2;
	expect_record_fault(buf, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD, (size_t)n);
	buf[4 + 16] = 1;
	/* a bad server name */
	buf[4 + 18] = '/';
	expect_record_fault(buf, (size_t)n, PC_ESYNTAX, PC_OVL_FAULT_NAME, (size_t)n);
	buf[4 + 18] = 'c';
	/* bytes after the known fields: a later version's, ignored */
	buf[(size_t)n] = 0xee;
	buf[3]++;
	struct pc_ovl_record r;
	size_t used;
	assert_int_equal(pc_ovl_record_decode(buf, (size_t)n + 1, &r, &used), PC_OK);
	assert_int_equal(used, n + 1);

	/* a report line that is not printable ASCII */
	rec = (struct pc_ovl_record){.type = PC_OVL_REC_REPORT};
	rec.u.report = (struct pc_ovl_report){4, 1, S("abc"), S(""), S("x\ny")};
	assert_int_equal(pc_ovl_record_encode(&rec, buf, sizeof(buf)), PC_EINVAL);
	rec.u.report.line = S("x y");
	n = pc_ovl_record_encode(&rec, buf, sizeof(buf));
	buf[n - 2] = '\n';
	expect_record_fault(buf, (size_t)n, PC_ESYNTAX, PC_OVL_FAULT_NAME, (size_t)n);
	/* serial 0 */
	rec.u.report.serial = 0;
	assert_int_equal(pc_ovl_record_encode(&rec, buf, sizeof(buf)), PC_EINVAL);

	/* a policy chunk past the text's end */
	rec = (struct pc_ovl_record){.type = PC_OVL_REC_POLICY};
	rec.u.policy = (struct pc_ovl_policy){
	    .version = 1, .total = 5, .offset = 3, .chunk = (const uint8_t *)"abc", .chunk_len = 3};
	assert_int_equal(pc_ovl_record_encode(&rec, buf, sizeof(buf)), PC_EINVAL);
	rec.u.policy.offset = 2;
	n = pc_ovl_record_encode(&rec, buf, sizeof(buf));
	buf[4 + 8 + 32 + 4 + 3] = 3; /* offset 3 */
	expect_record_fault(buf, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD, (size_t)n);

	/* a prefix with bits past its length, or of family 5 */
	struct pc_ovl_prefix pfx = {.family = 4, .len = 8, .bytes = {10, 1}};
	rec = (struct pc_ovl_record){.type = PC_OVL_REC_RESOURCE};
	rec.u.resource = (struct pc_ovl_resource){
	    .cdn = S("a"), .peer = S("b"), .prefix_count = 1, .prefixes = &pfx};
	assert_int_equal(pc_ovl_record_encode(&rec, buf, sizeof(buf)), PC_EINVAL);
	pfx.bytes[1] = 0;
	n = pc_ovl_record_encode(&rec, buf, sizeof(buf));
	buf[n - 18 + 3] = 1;
	expect_record_fault(buf, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD, (size_t)n);
	buf[n - 18 + 3] = 0;
	buf[n - 18] = 5;
	expect_record_fault(buf, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD, (size_t)n);
	buf[n - 18] = 4;
	buf[n - 18 + 1] = 33;
	expect_record_fault(buf, (size_t)n, PC_ERANGE, PC_OVL_FAULT_FIELD, (size_t)n);
	/* a service count over the bound */
	buf[n - 18 - 3] = PC_OVL_SERVICES_MAX + 1;
	expect_record_fault(buf, (size_t)n, PC_ERANGE, PC_OVL_FAULT_COUNT, (size_t)n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doc_examples),      cmocka_unit_test(test_round_trip_frames),
	    cmocka_unit_test(test_encode_refuses),    cmocka_unit_test(test_frame_find),
	    cmocka_unit_test(test_decode_rejections), cmocka_unit_test(test_channel_names),
	    cmocka_unit_test(test_counts_and_fields), cmocka_unit_test(test_options),
	    cmocka_unit_test(test_link_session),      cmocka_unit_test(test_link_states),
	    cmocka_unit_test(test_records),           cmocka_unit_test(test_record_rejections),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

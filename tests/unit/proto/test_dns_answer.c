/* Unit tests of the DNS answer logic over the default federation, with
 * queries built and responses parsed by libknot. The daemon's system tests
 * (tests/system/test_dns.py) cover the same ground over real sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libknot/libknot.h>
#include <sodium.h>

#include "fixture.h"
#include "lib/model/config.h"
#include "lib/naming/hosts.h"
#include "lib/proto/dns_answer.h"

struct env {
	pc_model *model;
	pc_live *live;
	pc_dns_scratch *scratch;
	uint8_t query[512];
	size_t query_len;
	uint8_t out[65535];
	size_t out_len;
	struct pc_dns_result res;
	knot_pkt_t *resp;
};

static int setup(void **state)
{
	static struct env env;
	memset(&env, 0, sizeof(env));
	assert_true(sodium_init() >= 0);
	env.model = fixture_load_text(pc_default_config_yaml);
	assert_non_null(env.model);
	assert_int_equal(pc_live_new(env.model, &env.live), 0);
	assert_int_equal(pc_dns_scratch_new(&env.scratch), 0);
	*state = &env;
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;
	knot_pkt_free(env->resp);
	pc_dns_scratch_free(env->scratch);
	pc_live_free(env->live);
	fixture_free(env->model);
	return 0;
}

/* Builds a query; ecs_prefix "127.2.0.0/24" or NULL; edns false = none. */
static void make_query(struct env *env, const char *name, uint16_t qtype, bool edns,
                       const char *ecs_addr, uint8_t ecs_len)
{
	memset(env->query, 0, sizeof(env->query));
	knot_pkt_t *q = knot_pkt_new(env->query, sizeof(env->query), NULL);
	assert_non_null(q);
	knot_wire_set_id(q->wire, 0x4242);
	uint8_t qname[KNOT_DNAME_MAXLEN];
	assert_non_null(knot_dname_from_str(qname, name, sizeof(qname)));
	assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, qtype), KNOT_EOK);
	if (edns) {
		knot_rrset_t opt;
		assert_int_equal(knot_edns_init(&opt, 1232, 0, 0, NULL), KNOT_EOK);
		if (ecs_addr != NULL) {
			knot_edns_client_subnet_t ecs = {0};
			pc_addr addr;
			assert_int_equal(pc_addr_parse(ecs_addr, &addr), 0);
			ecs.family =
			    addr.family == 4 ? KNOT_ADDR_FAMILY_IPV4 : KNOT_ADDR_FAMILY_IPV6;
			ecs.source_len = ecs_len;
			memcpy(ecs.address, addr.bytes, (ecs_len + 7) / 8);
			uint8_t data[64];
			uint16_t size = knot_edns_client_subnet_size(&ecs);
			assert_int_equal(knot_edns_client_subnet_write(data, sizeof(data), &ecs),
			                 0);
			assert_int_equal(knot_edns_add_option(&opt, KNOT_EDNS_OPTION_CLIENT_SUBNET,
			                                      size, data, NULL),
			                 0);
		}
		knot_pkt_begin(q, KNOT_ADDITIONAL);
		assert_int_equal(knot_pkt_put(q, 0, &opt, KNOT_PF_FREE), KNOT_EOK);
	}
	env->query_len = q->size;
	knot_pkt_free(q);
}

static void ask(struct env *env, const char *source, bool tcp)
{
	struct pc_answer_ctx ctx = {
	    .model = env->model,
	    .live = env->live,
	    .node = env->model->self_node,
	    .now_ms = 1764000000000ULL,
	};
	assert_int_equal(pc_addr_parse(source, &ctx.source), 0);
	struct pc_dns_query query = {.wire = env->query,
	                             .len = env->query_len,
	                             .tcp = tcp,
	                             .dns = pc_dns_settings(fixture_config(env->model))};
	env->out_len = pc_dns_answer(env->scratch, &ctx, &query, env->out,
	                             tcp ? sizeof(env->out) : 1232, &env->res);
	knot_pkt_free(env->resp);
	env->resp = NULL;
	if (env->out_len > 0) {
		env->resp = knot_pkt_new(env->out, (uint16_t)env->out_len, NULL);
		assert_int_equal(knot_pkt_parse(env->resp, 0), KNOT_EOK);
		assert_int_equal(knot_wire_get_id(env->out), 0x4242);
		assert_true(knot_wire_get_qr(env->out));
	}
}

static const knot_rrset_t *answer_rr(struct env *env, uint16_t i)
{
	const knot_pktsection_t *an = knot_pkt_section(env->resp, KNOT_ANSWER);
	assert_true(i < an->count);
	return knot_pkt_rr(an, i);
}

static void expect_a(struct env *env, const char *address)
{
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_NOERROR);
	assert_true(knot_wire_get_aa(env->out));
	const knot_rrset_t *rr = answer_rr(env, 0);
	pc_addr want;
	assert_int_equal(pc_addr_parse(address, &want), 0);
	assert_int_equal(rr->type, want.family == 4 ? KNOT_RRTYPE_A : KNOT_RRTYPE_AAAA);
	assert_int_equal(rr->ttl, 0); /* the patent's TTL 0 */
	assert_memory_equal(rr->rrs.rdata->data, want.bytes, want.family == 4 ? 4 : 16);
}

static void test_primary_peer_outside_by_ecs(void **state)
{
	struct env *env = *state;
	/* Claim 1: an acme client gets an acme edge server. */
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, "127.1.0.0", 24);
	ask(env, "127.0.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_ANSWER);
	assert_int_equal(env->res.decision.branch, PC_BRANCH_PRIMARY);
	assert_true(env->res.ecs);
	/* Claim 2, PEER: a beta client is served inside beta. */
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, "127.2.0.0", 24);
	ask(env, "127.0.0.1", false);
	assert_int_equal(env->res.decision.branch, PC_BRANCH_PEER);
	expect_a(env, "127.2.200.1");
	/* Claim 2, OUTSIDE: tv is not covered by the acme-beta agreement. */
	make_query(env, "chan4.abc.tv.cdn.acme.net", KNOT_RRTYPE_A, true, "127.3.0.0", 24);
	ask(env, "127.0.0.1", false);
	assert_int_equal(env->res.decision.branch, PC_BRANCH_OUTSIDE);
	assert_int_equal(env->model->servers[env->res.decision.servers[0]].cdn,
	                 pc_model_cdn(env->model, "acme"));
}

static void test_ecs_scope_echoed(void **state)
{
	struct env *env = *state;
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, "127.2.0.0", 24);
	ask(env, "127.0.0.1", false);
	uint8_t *opt = knot_pkt_edns_option(env->resp, KNOT_EDNS_OPTION_CLIENT_SUBNET);
	assert_non_null(opt);
	knot_edns_client_subnet_t ecs;
	assert_int_equal(knot_edns_client_subnet_parse(&ecs, knot_edns_opt_get_data(opt),
	                                               knot_edns_opt_get_length(opt)),
	                 0);
	assert_int_equal(ecs.source_len, 24);
	/* The client network is a /17: the answer holds for all of it. */
	assert_int_equal(ecs.scope_len, 17);
}

static void test_source_address_without_ecs(void **state)
{
	struct env *env = *state;
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, false, NULL, 0);
	ask(env, "127.2.0.99", false);
	assert_int_equal(env->res.decision.branch, PC_BRANCH_PEER);
	assert_null(knot_pkt_edns_option(env->resp, KNOT_EDNS_OPTION_CLIENT_SUBNET));
	assert_false(knot_pkt_has_edns(env->resp));
}

static void test_negative_answers(void **state)
{
	struct env *env = *state;
	make_query(env, "x.web.nobody.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_NXDOMAIN);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_NXDOMAIN);
	assert_true(knot_wire_get_aa(env->out));
	const knot_pktsection_t *ns = knot_pkt_section(env->resp, KNOT_AUTHORITY);
	assert_int_equal(ns->count, 1);
	assert_int_equal(knot_pkt_rr(ns, 0)->type, KNOT_RRTYPE_SOA);

	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_TXT, true, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_NODATA);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_NOERROR);
	assert_int_equal(knot_wire_get_ancount(env->out), 0);

	/* No server has an IPv6 address: AAAA is NODATA, not an error. */
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_AAAA, true, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_NODATA);

	make_query(env, "www.example.com", KNOT_RRTYPE_A, true, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_REFUSED);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_REFUSED);
	assert_false(knot_wire_get_aa(env->out));
}

static void test_apex_and_any(void **state)
{
	struct env *env = *state;
	make_query(env, "cdn.acme.net", KNOT_RRTYPE_SOA, true, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_APEX);
	assert_int_equal(answer_rr(env, 0)->type, KNOT_RRTYPE_SOA);

	make_query(env, "cdn.acme.net", KNOT_RRTYPE_NS, true, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(answer_rr(env, 0)->type, KNOT_RRTYPE_NS);
	/* Glue for the in-zone name server: the CDN's DNS anycast address. */
	assert_true(knot_wire_get_arcount(env->out) >= 2);

	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_ANY, true, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(answer_rr(env, 0)->type, KNOT_RRTYPE_HINFO); /* RFC 8482 */
}

static void test_case_preserved(void **state)
{
	struct env *env = *state;
	make_query(env, "AD102.Web.ABC.cdn.ACME.net", KNOT_RRTYPE_A, false, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_ANSWER);
	/* The question is copied as sent, and the answer points at it. */
	assert_memory_equal(env->out + 12, env->query + 12, env->query_len - 12);
	assert_memory_equal(env->out + env->query_len, "\xc0\x0c", 2);
}

static void test_signature_required(void **state)
{
	struct env *env = *state;
	make_query(env, "chan7.live.news.cdn.gamma.net", KNOT_RRTYPE_A, false, NULL, 0);
	ask(env, "127.6.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_REFUSED);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_REFUSED);
}

static void test_malformed(void **state)
{
	struct env *env = *state;
	struct pc_answer_ctx ctx = {
	    .model = env->model, .live = env->live, .node = env->model->self_node};
	pc_addr_parse("127.1.0.1", &ctx.source);
	struct pc_dns_query query = {.dns = pc_dns_settings(fixture_config(env->model))};
	/* Too short for a header: dropped. */
	static const uint8_t short_packet[5] = {1, 2, 3, 4, 5};
	query.wire = short_packet;
	query.len = sizeof(short_packet);
	assert_int_equal(pc_dns_answer(env->scratch, &ctx, &query, env->out, 1232, &env->res), 0);
	assert_int_equal(env->res.cls, PC_DNS_DROPPED);
	/* qdcount 0: FORMERR. */
	static const uint8_t no_question[12] = {0x12, 0x34, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	query.wire = no_question;
	query.len = sizeof(no_question);
	size_t len = pc_dns_answer(env->scratch, &ctx, &query, env->out, 1232, &env->res);
	assert_int_equal(len, 12);
	assert_int_equal(env->res.cls, PC_DNS_FORMERR);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_FORMERR);
	/* A compression pointer to itself: FORMERR, not a hang. */
	static const uint8_t loop[] = {0x12, 0x34, 0x01, 0,    0,    1, 0, 0, 0,
	                               0,    0,    0,    0xc0, 0x0c, 0, 1, 0, 1};
	query.wire = loop;
	query.len = sizeof(loop);
	pc_dns_answer(env->scratch, &ctx, &query, env->out, 1232, &env->res);
	assert_int_equal(env->res.cls, PC_DNS_FORMERR);
}

/* RFC 1035 §4.1.1: Z is zero in every response. RFC 4035 §3.2.2: CD is
 * copied into responses to QUERY only; other opcodes (NOTIMP) do not echo
 * it. Every response path, each asked with Z and CD set. */
static size_t ask_flags(struct env *env, const uint8_t *wire, size_t len)
{
	struct pc_answer_ctx ctx = {
	    .model = env->model, .live = env->live, .node = env->model->self_node};
	pc_addr_parse("127.1.0.1", &ctx.source);
	struct pc_dns_query query = {
	    .wire = wire, .len = len, .dns = pc_dns_settings(fixture_config(env->model))};
	size_t n = pc_dns_answer(env->scratch, &ctx, &query, env->out, 1232, &env->res);
	assert_true(n >= KNOT_WIRE_HEADER_SIZE);
	assert_true(knot_wire_get_qr(env->out));
	assert_int_equal(knot_wire_get_z(env->out), 0);
	return n;
}

static void test_z_and_cd_bits(void **state)
{
	struct env *env = *state;
	uint8_t wire[600];
	/* Built queries: an answer, NXDOMAIN, REFUSED, the apex, BADVERS and a
	 * FORMERR for trailing bytes (header and question echoed). */
	static const struct {
		const char *name;
		bool edns;
		uint8_t version;
		size_t trailing;
		uint16_t rcode;
	} cases[] = {
	    {"ad102.web.abc.cdn.acme.net", true, 0, 0, KNOT_RCODE_NOERROR},
	    {"ad102.web.abc.cdn.acme.net", false, 0, 0, KNOT_RCODE_NOERROR},
	    {"x.web.nobody.cdn.acme.net", false, 0, 0, KNOT_RCODE_NXDOMAIN},
	    {"example.org", false, 0, 0, KNOT_RCODE_REFUSED},
	    {"cdn.acme.net", true, 0, 0, KNOT_RCODE_NOERROR},
	    {"cdn.acme.net", true, 1, 0, KNOT_RCODE_NOERROR /* BADVERS: extended */},
	    {"ad102.web.abc.cdn.acme.net", false, 0, 7, KNOT_RCODE_FORMERR},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_query(env, cases[i].name, KNOT_RRTYPE_A, cases[i].edns, NULL, 0);
		if (cases[i].version != 0)
			env->query[env->query_len - 11 + 6] = cases[i].version; /* OPT TTL */
		memcpy(wire, env->query, env->query_len);
		memset(wire + env->query_len, 0xff, cases[i].trailing);
		knot_wire_set_z(wire);
		knot_wire_set_cd(wire);
		ask_flags(env, wire, env->query_len + cases[i].trailing);
		assert_int_equal(knot_wire_get_rcode(env->out), cases[i].rcode);
		assert_true(knot_wire_get_cd(env->out)); /* QUERY: CD copied */
	}
	/* Header only: qdcount 0 (FORMERR to a QUERY: CD copied). */
	static const uint8_t no_question[12] = {0x12, 0x34, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	memcpy(wire, no_question, sizeof(no_question));
	knot_wire_set_z(wire);
	knot_wire_set_cd(wire);
	assert_int_equal(ask_flags(env, wire, sizeof(no_question)), 12);
	assert_int_equal(env->res.cls, PC_DNS_FORMERR);
	assert_true(knot_wire_get_cd(env->out));
	/* dig +noedns +header-only +opcode=15 +zflag +cd: NOTIMP, no CD, no Z. */
	memcpy(wire, no_question, sizeof(no_question));
	knot_wire_set_opcode(wire, 15);
	knot_wire_set_z(wire);
	knot_wire_set_cd(wire);
	assert_int_equal(ask_flags(env, wire, sizeof(no_question)), 12);
	assert_int_equal(env->res.cls, PC_DNS_NOTIMP);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_NOTIMPL);
	assert_false(knot_wire_get_cd(env->out));
	/* NOTIFY with a question: NOTIMP, header only, no CD either. */
	make_query(env, "cdn.acme.net", KNOT_RRTYPE_SOA, false, NULL, 0);
	knot_wire_set_opcode(env->query, KNOT_OPCODE_NOTIFY);
	knot_wire_set_z(env->query);
	knot_wire_set_cd(env->query);
	ask_flags(env, env->query, env->query_len);
	assert_int_equal(env->res.cls, PC_DNS_NOTIMP);
	assert_false(knot_wire_get_cd(env->out));
}

/* RFC 6891 §6.1.1 and §7, RFC 3225 §3 (RFC 8906 §8.1.4, §8.2.8): a query
 * with an OPT gets one back, with DO copied, errors included; a NOTIMP
 * echoes neither CD nor RD. */
static void test_edns_in_every_answer(void **state)
{
	struct env *env = *state;
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0);
	env->query[env->query_len - 11 + 7] |= 0x80; /* DO */
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_ANSWER);
	assert_true(knot_pkt_has_edns(env->resp) && knot_edns_do(env->resp->opt_rr));
	/* Without DO, none. */
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_true(knot_pkt_has_edns(env->resp) && !knot_edns_do(env->resp->opt_rr));
	/* dig +edns +dnssec +opcode=15 +rec: NOTIMP, OPT with DO, no RD. */
	make_query(env, "cdn.acme.net", KNOT_RRTYPE_SOA, true, NULL, 0);
	env->query[env->query_len - 11 + 7] |= 0x80;
	knot_wire_set_opcode(env->query, 15);
	knot_wire_set_rd(env->query);
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_NOTIMP);
	assert_false(knot_wire_get_rd(env->out));
	assert_int_equal(knot_wire_get_arcount(env->out), 1);
	assert_true(knot_pkt_has_edns(env->resp) && knot_edns_do(env->resp->opt_rr));
	assert_int_equal(knot_edns_get_version(env->resp->opt_rr), 0);
	/* No question, an OPT (a cookie-only query, RFC 7873 §5.4, which we
	 * do not implement): FORMERR with an OPT. */
	make_query(env, "cdn.acme.net", KNOT_RRTYPE_SOA, true, NULL, 0);
	memmove(env->query + KNOT_WIRE_HEADER_SIZE, env->query + env->query_len - 11, 11);
	env->query_len = KNOT_WIRE_HEADER_SIZE + 11;
	knot_wire_set_qdcount(env->query, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_FORMERR);
	assert_true(knot_pkt_has_edns(env->resp));
	/* A question cut short: no OPT can be trusted, none sent. */
	make_query(env, "cdn.acme.net", KNOT_RRTYPE_SOA, true, NULL, 0);
	env->query_len -= 3;
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_FORMERR);
	assert_int_equal(knot_wire_get_arcount(env->out), 0);
}

/* The RRL slip made from the query alone: TC, the question, no records,
 * no decision (the agreement window does not move). */
static void test_slip_without_deciding(void **state)
{
	struct env *env = *state;
	struct pc_dns_query query = {.dns = pc_dns_settings(fixture_config(env->model))};
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, "127.2.0.0", 24);
	query.wire = env->query;
	query.len = env->query_len;
	uint64_t before = pc_live_agreement_total(env->live, 0);
	size_t len = pc_dns_slip(&query, env->out, 1232);
	assert_int_equal(pc_live_agreement_total(env->live, 0), before);
	knot_pkt_t *q = knot_pkt_new(env->query, (uint16_t)env->query_len, NULL);
	assert_int_equal(knot_pkt_parse(q, 0), KNOT_EOK);
	size_t question_end = KNOT_WIRE_HEADER_SIZE + knot_pkt_question_size(q);
	knot_pkt_free(q);
	assert_int_equal(len, question_end + 11); /* and an OPT, without the subnet */
	assert_memory_equal(env->out + KNOT_WIRE_HEADER_SIZE, env->query + KNOT_WIRE_HEADER_SIZE,
	                    question_end - KNOT_WIRE_HEADER_SIZE);
	assert_true(knot_wire_get_qr(env->out));
	assert_true(knot_wire_get_tc(env->out));
	assert_false(knot_wire_get_aa(env->out));
	assert_int_equal(knot_wire_get_id(env->out), 0x4242);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_NOERROR);
	assert_int_equal(knot_wire_get_qdcount(env->out), 1);
	assert_int_equal(knot_wire_get_ancount(env->out) + knot_wire_get_nscount(env->out), 0);
	assert_int_equal(knot_wire_get_arcount(env->out), 1);
	/* A question cut short: header-only FORMERR. */
	query.len = KNOT_WIRE_HEADER_SIZE + 5;
	assert_int_equal(pc_dns_slip(&query, env->out, 1232), KNOT_WIRE_HEADER_SIZE);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_FORMERR);
	assert_int_equal(knot_wire_get_qdcount(env->out), 0);
	/* Too short, or a response: nothing, as pc_dns_answer. */
	query.len = 11;
	assert_true(pc_dns_ignored(query.wire, query.len));
	assert_int_equal(pc_dns_slip(&query, env->out, 1232), 0);
	query.len = env->query_len;
	knot_wire_set_qr(env->query);
	assert_int_equal(pc_dns_slip(&query, env->out, 1232), 0);
}

/* pc_dns_slip's answer to wire, parsed by libknot (the caller frees it). */
static knot_pkt_t *slip(struct env *env, const uint8_t *wire, size_t len, size_t *out_len)
{
	struct pc_dns_query query = {
	    .wire = wire, .len = len, .dns = pc_dns_settings(fixture_config(env->model))};
	*out_len = pc_dns_slip(&query, env->out, 1232);
	assert_true(*out_len >= KNOT_WIRE_HEADER_SIZE);
	knot_pkt_t *r = knot_pkt_new(env->out, (uint16_t)*out_len, NULL);
	assert_non_null(r);
	assert_int_equal(knot_pkt_parse(r, 0), KNOT_EOK);
	assert_true(knot_wire_get_qr(env->out));
	return r;
}

/* RFC 6891 §7: the RRL slip (TC) keeps the query's OPT, as BIND's does:
 * our payload, version 0, DO copied; none without one. Its NOTIMP and
 * FORMERR carry one as pc_dns_answer's do, byte for byte. */
static void test_slip_carries_opt(void **state)
{
	struct env *env = *state;
	const struct pc_dns_params *dns = pc_dns_settings(fixture_config(env->model));
	size_t len;
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0);
	env->query[env->query_len - 11 + 7] |= 0x80; /* DO */
	knot_pkt_t *r = slip(env, env->query, env->query_len, &len);
	assert_true(knot_wire_get_tc(env->out));
	assert_int_equal(len, env->query_len);
	assert_true(knot_pkt_has_edns(r));
	assert_true(knot_edns_do(r->opt_rr));
	assert_int_equal(knot_edns_get_version(r->opt_rr), 0);
	assert_int_equal(knot_edns_get_payload(r->opt_rr), dns->edns_payload);
	knot_pkt_free(r);
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0);
	r = slip(env, env->query, env->query_len, &len);
	assert_true(knot_pkt_has_edns(r) && !knot_edns_do(r->opt_rr));
	knot_pkt_free(r);
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, false, NULL, 0);
	r = slip(env, env->query, env->query_len, &len);
	assert_true(knot_wire_get_tc(env->out));
	assert_false(knot_pkt_has_edns(r));
	knot_pkt_free(r);
	/* What pc_dns_answer sends, byte for byte, where that is header-only
	 * anyway: NOTIMP with DO and the FORMERR of no question (each with an
	 * OPT back); NOTIMP with two questions and a QUERY whose question
	 * name is compressed (into the header: libknot parses no compressed
	 * QNAME), whose OPT is not read (none back). */
	for (int i = 0; i < 4; i++) {
		make_query(env, "cdn.acme.net", KNOT_RRTYPE_SOA, true, NULL, 0);
		env->query[env->query_len - 11 + 7] |= 0x80;
		if (i == 0 || i == 2)
			knot_wire_set_opcode(env->query, 15);
		if (i == 1) {
			memmove(env->query + KNOT_WIRE_HEADER_SIZE,
			        env->query + env->query_len - 11, 11);
			env->query_len = KNOT_WIRE_HEADER_SIZE + 11;
			knot_wire_set_qdcount(env->query, 0);
		}
		if (i == 2)
			knot_wire_set_qdcount(env->query, 2);
		if (i == 3) {
			/* The name a pointer to the id's first byte, 0: the root. */
			static const uint8_t pointer[] = {0xc0, 0, 0, 1, 0, 1};
			knot_wire_set_id(env->query, 0x0042);
			memmove(env->query + KNOT_WIRE_HEADER_SIZE + sizeof(pointer),
			        env->query + env->query_len - 11, 11);
			memcpy(env->query + KNOT_WIRE_HEADER_SIZE, pointer, sizeof(pointer));
			env->query_len = KNOT_WIRE_HEADER_SIZE + sizeof(pointer) + 11;
		}
		struct pc_answer_ctx ctx = {
		    .model = env->model, .live = env->live, .node = env->model->self_node};
		pc_addr_parse("127.1.0.1", &ctx.source);
		struct pc_dns_query query = {.wire = env->query, .len = env->query_len, .dns = dns};
		uint8_t answered[512];
		size_t answered_len = pc_dns_answer(env->scratch, &ctx, &query, answered,
		                                    sizeof(answered), &env->res);
		assert_int_equal(env->res.cls, i == 0 || i == 2 ? PC_DNS_NOTIMP : PC_DNS_FORMERR);
		r = slip(env, env->query, env->query_len, &len);
		assert_int_equal(knot_pkt_has_edns(r), i < 2);
		assert_true(i >= 2 || knot_edns_do(r->opt_rr));
		assert_false(knot_wire_get_tc(env->out));
		knot_pkt_free(r);
		assert_int_equal(len, answered_len);
		assert_memory_equal(env->out, answered, len);
	}
}

/* RFC 6891 §6.1.2: an OPT whose owner is not the root name is malformed:
 * FORMERR (as BIND; libknot's parser takes it), with no OPT back, from
 * pc_dns_answer and the slip alike. */
static void test_opt_owner_not_root(void **state)
{
	struct env *env = *state;
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0);
	/* The OPT's owner "." becomes "a." */
	uint8_t wire[600];
	size_t opt_at = env->query_len - 11;
	memcpy(wire, env->query, opt_at);
	wire[opt_at] = 1;
	wire[opt_at + 1] = 'a';
	memcpy(wire + opt_at + 2, env->query + opt_at, 11);
	size_t wire_len = env->query_len + 2;
	memcpy(env->query, wire, wire_len);
	env->query_len = wire_len;
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_FORMERR);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_FORMERR);
	assert_int_equal(knot_wire_get_arcount(env->out), 0);
	size_t len;
	knot_pkt_t *r = slip(env, wire, wire_len, &len);
	assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_FORMERR);
	assert_int_equal(knot_wire_get_arcount(env->out), 0);
	knot_pkt_free(r);
	/* The same OPT with its root owner: an answer. */
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0);
	ask(env, "127.1.0.1", false);
	assert_int_equal(env->res.cls, PC_DNS_ANSWER);
}

/* Appends rdata to the query's OPT, its last record (make_query's). */
static void opt_rdata(struct env *env, const uint8_t *rdata, uint16_t len)
{
	size_t opt_at = env->query_len - 11;
	knot_wire_write_u16(env->query + opt_at + 9, len);
	memcpy(env->query + env->query_len, rdata, len);
	env->query_len += len;
}

/* pc_dns_answer's and pc_dns_slip's answers to env's query: the same
 * bytes (each checked to parse), and the answer's result in env->res. */
static size_t answer_and_slip_alike(struct env *env)
{
	ask(env, "127.1.0.1", false);
	size_t len;
	uint8_t answered[1232];
	assert_true(env->out_len <= sizeof(answered));
	memcpy(answered, env->out, env->out_len);
	size_t answered_len = env->out_len;
	knot_pkt_t *r = slip(env, env->query, env->query_len, &len);
	knot_pkt_free(r);
	assert_int_equal(len, answered_len);
	assert_memory_equal(env->out, answered, len);
	return len;
}

/* RFC 6891 §6.1.3: an OPT of a version we do not implement is answered
 * BADVERS (16: 0 in the header, 1 in the OPT's TTL) with our version,
 * 0, before an unknown opcode's NOTIMP and before the FORMERR of a query
 * with no question or with answer records, as BIND 9 and Knot order
 * them; a query that does not parse stays a FORMERR. The slip alike,
 * except that beside a record whose rdata it does not read (libknot's
 * parse may refuse it) it reflects no OPT. */
static void test_badvers_before_notimp_and_formerr(void **state)
{
	struct env *env = *state;
	for (int i = 0; i < 5; i++) {
		make_query(env, "cdn.acme.net", KNOT_RRTYPE_SOA, true, NULL, 0);
		size_t opt_at = env->query_len - 11;
		env->query[opt_at + 6] = 1;    /* version 1 */
		env->query[opt_at + 7] = 0x80; /* DO */
		if (i == 0)                    /* dig +edns=1 +noednsneg +opcode=15 */
			knot_wire_set_opcode(env->query, 15);
		if (i == 1) { /* no question */
			memmove(env->query + KNOT_WIRE_HEADER_SIZE, env->query + opt_at, 11);
			env->query_len = KNOT_WIRE_HEADER_SIZE + 11;
			knot_wire_set_qdcount(env->query, 0);
		}
		if (i == 2) { /* the OPT in the answer section, where it is no OPT */
			knot_wire_set_ancount(env->query, 1);
			knot_wire_set_arcount(env->query, 0);
		}
		if (i == 3) { /* an A record in the answer section, then the OPT */
			static const uint8_t a[] = {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1};
			memmove(env->query + opt_at + sizeof(a), env->query + opt_at, 11);
			memcpy(env->query + opt_at, a, sizeof(a));
			env->query_len += sizeof(a);
			knot_wire_set_ancount(env->query, 1);
		}
		if (i == 4) /* trailing bytes: does not parse */
			env->query[env->query_len++] = 0xff;
		if (i == 3) {
			/* The slip does not read the A record's rdata, so it
			 * reflects no OPT beside it: FORMERR for the answer
			 * record, no OPT. */
			size_t len;
			knot_pkt_t *r = slip(env, env->query, env->query_len, &len);
			assert_non_null(r);
			assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_FORMERR);
			assert_false(knot_pkt_has_edns(r));
			knot_pkt_free(r);
			ask(env, "127.1.0.1", false);
		} else {
			answer_and_slip_alike(env);
		}
		if (i == 2 || i == 4) {
			/* The OPT is not one (i == 2: FORMERR for an answer record,
			 * as before), or cannot be read: FORMERR, no OPT. */
			assert_int_equal(env->res.cls, PC_DNS_FORMERR);
			assert_int_equal(knot_wire_get_rcode(env->out), KNOT_RCODE_FORMERR);
			assert_false(knot_pkt_has_edns(env->resp));
			continue;
		}
		assert_int_equal(env->res.cls, PC_DNS_BADVERS);
		assert_int_equal(env->res.rcode, KNOT_RCODE_BADVERS);
		assert_int_equal(knot_wire_get_rcode(env->out), 0);
		assert_false(knot_wire_get_aa(env->out));
		assert_int_equal(knot_wire_get_ancount(env->out), 0);
		assert_true(knot_pkt_has_edns(env->resp));
		assert_int_equal(knot_edns_get_ext_rcode(env->resp->opt_rr),
		                 KNOT_RCODE_BADVERS >> 4);
		assert_int_equal(knot_edns_get_version(env->resp->opt_rr), 0);
		assert_true(knot_edns_do(env->resp->opt_rr));
		assert_int_equal(knot_wire_get_qdcount(env->out), i == 1 ? 0 : 1);
	}
	/* Version 0, unknown opcode: NOTIMP still. */
	make_query(env, "cdn.acme.net", KNOT_RRTYPE_SOA, true, NULL, 0);
	knot_wire_set_opcode(env->query, 15);
	answer_and_slip_alike(env);
	assert_int_equal(env->res.cls, PC_DNS_NOTIMP);
}

/* The RRL slip reads the query's OPT as pc_dns_answer's parse does:
 * options that do not fill its rdata make the query malformed (FORMERR,
 * no OPT reflected), a malformed client subnet is the FORMERR with an OPT
 * (RFC 7871 §7.1.2), and good options give TC with an OPT; the same
 * bytes from both, and nothing of the options ever copied. */
static void test_slip_checks_opt_rdata(void **state)
{
	struct env *env = *state;
	static const struct {
		uint8_t rdata[16];
		uint16_t len;
		uint8_t rcode;
		bool opt;
	} cases[] = {
	    {{0, 8, 0}, 3, KNOT_RCODE_FORMERR, false},                       /* a cut header */
	    {{0, 100, 0, 9, 1, 2}, 6, KNOT_RCODE_FORMERR, false},            /* past the rdata */
	    {{0, 8, 0, 4, 0, 1, 33, 0}, 8, KNOT_RCODE_FORMERR, true},        /* prefix 33 */
	    {{0, 8, 0, 6, 0, 1, 8, 0, 10, 0}, 10, KNOT_RCODE_FORMERR, true}, /* address too long */
	    {{0, 100, 0, 2, 1, 2}, 6, KNOT_RCODE_NOERROR, true},             /* unknown, fine */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0);
		opt_rdata(env, cases[i].rdata, cases[i].len);
		if (cases[i].rcode == KNOT_RCODE_NOERROR) {
			/* An answer, and a slip that is TC with an empty OPT. */
			ask(env, "127.1.0.1", false);
			assert_int_equal(env->res.cls, PC_DNS_ANSWER);
			size_t len;
			knot_pkt_t *r = slip(env, env->query, env->query_len, &len);
			assert_true(knot_wire_get_tc(env->out));
			assert_true(knot_pkt_has_edns(r));
			assert_int_equal(knot_edns_get_options(r->opt_rr, &r->edns_opts, NULL),
			                 KNOT_EOK);
			assert_int_equal(r->opt_rr->rrs.rdata->len, 0);
			knot_pkt_free(r);
			continue;
		}
		answer_and_slip_alike(env);
		assert_int_equal(env->res.cls, PC_DNS_FORMERR);
		assert_int_equal(knot_wire_get_rcode(env->out), cases[i].rcode);
		assert_false(knot_wire_get_tc(env->out));
		assert_int_equal(knot_pkt_has_edns(env->resp), cases[i].opt);
	}
	/* A TSIG after the OPT, its rdata empty (malformed for libknot): the
	 * FORMERR without an OPT from both. */
	make_query(env, "ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0);
	static const uint8_t tsig[] = {0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
	memcpy(env->query + env->query_len, tsig, sizeof(tsig));
	env->query_len += sizeof(tsig);
	knot_wire_set_arcount(env->query, 2);
	answer_and_slip_alike(env);
	assert_int_equal(env->res.cls, PC_DNS_FORMERR);
	assert_false(knot_pkt_has_edns(env->resp));
}

/* Inserts text after the line of yaml where after is first found; the
 * result is malloc'ed. */
static char *yaml_insert(const char *yaml, const char *after, const char *text)
{
	const char *at = strstr(yaml, after);
	assert_non_null(at);
	at = strchr(at + strlen(after), '\n') + 1;
	size_t head = (size_t)(at - yaml), len = strlen(yaml) + strlen(text) + 1;
	char *out = malloc(len);
	assert_non_null(out);
	memcpy(out, yaml, head);
	strcpy(out + head, text);
	strcat(out, at);
	return out;
}

/* The direct writer (with pc_dns_zones) against the libknot path, query by
 * query, where compression has more to do than in the default zone: name
 * servers in and out of the zone, the hostmaster elsewhere, a negative TTL.
 * Each path has its own live state; the bytes and results must agree. */
static void test_direct_writer_matches_libknot(void **state)
{
	struct env *env = *state;
	char *with_ns = yaml_insert(pc_default_config_yaml, "    domain: cdn.acme.net",
	                            "    dns: {ns: [b.ns.cdn.acme.net, ns.example.org]}\n");
	char *yaml = yaml_insert(with_ns, "\ndns:", "  negative_ttl: 60\n");
	free(with_ns);
	pc_model *model = fixture_load_text(yaml);
	free(yaml);
	const struct pc_dns_params *dns = pc_dns_settings(fixture_config(model));
	pc_live *live_knot = NULL, *live_direct = NULL;
	pc_dns_zones *zones = NULL;
	assert_int_equal(pc_live_new(model, &live_knot), 0);
	assert_int_equal(pc_live_new(model, &live_direct), 0);
	assert_int_equal(pc_dns_zones_new(model, dns, &zones), 0);
	pc_hosts *hosts = NULL;
	assert_int_equal(pc_hosts_new(model, &hosts), 0);
	static const struct {
		const char *name;
		uint16_t qtype;
		bool edns;
		const char *ecs;
		uint8_t ecs_len;
	} queries[] = {
	    {"ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, true, "127.2.0.0", 24},
	    {"ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_A, false, NULL, 0},
	    {"AD102.Web.ABC.cdn.acme.NET", KNOT_RRTYPE_AAAA, true, "127.2.0.0", 24},
	    {"x.y.web.abc.cdn.acme.net", KNOT_RRTYPE_AAAA, false, NULL, 0},
	    {"ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_AAAA, true, "2001:db8:200::", 48},
	    {"chan4.abc.tv.cdn.acme.net", KNOT_RRTYPE_A, true, "127.5.0.0", 16},
	    {"abc.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0},
	    {"cdn.acme.net", KNOT_RRTYPE_SOA, true, NULL, 0},
	    {"CDN.acme.net", KNOT_RRTYPE_SOA, false, NULL, 0},
	    {"cdn.acme.net", KNOT_RRTYPE_SOA, true, "127.2.0.0", 24},
	    /* The libknot path's (a name server's name, a TXT). */
	    {"b.ns.cdn.acme.net", KNOT_RRTYPE_A, true, NULL, 0},
	    {"ad102.web.abc.cdn.acme.net", KNOT_RRTYPE_TXT, true, NULL, 0},
	};
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		/* UDP, TCP, and each again with DO set when there is an OPT. */
		for (int run = 0; run < 4; run++) {
			int tcp = run & 1;
			bool dnssec_ok = run >= 2;
			if (dnssec_ok && !queries[i].edns)
				continue;
			make_query(env, queries[i].name, queries[i].qtype, queries[i].edns,
			           queries[i].ecs, queries[i].ecs_len);
			if (dnssec_ok) {
				int name_len =
				    knot_dname_wire_check(env->query + KNOT_WIRE_HEADER_SIZE,
				                          env->query + env->query_len, NULL);
				assert_true(name_len > 0);
				env->query[KNOT_WIRE_HEADER_SIZE + name_len + 4 + 7] |= 0x80;
			}
			struct pc_answer_ctx ctx = {
			    .model = model, .node = model->self_node, .now_ms = 1764000000000ULL};
			assert_int_equal(pc_addr_parse("127.2.0.10", &ctx.source), 0);
			struct pc_dns_query query = {
			    .wire = env->query, .len = env->query_len, .tcp = tcp, .dns = dns};
			static uint8_t knot_out[65535], direct_out[65535];
			struct pc_dns_result knot_res, direct_res;
			ctx.live = live_knot;
			size_t knot_len = pc_dns_answer(env->scratch, &ctx, &query, knot_out,
			                                tcp ? sizeof(knot_out) : 1232, &knot_res);
			ctx.live = live_direct;
			ctx.hosts = hosts;
			query.zones = zones;
			/* The scratch is the libknot path's only: without one, a
			 * query that should go direct and did not would crash. */
			bool go_direct = i < 10;
			size_t direct_len =
			    pc_dns_answer(go_direct ? NULL : env->scratch, &ctx, &query, direct_out,
			                  tcp ? sizeof(direct_out) : 1232, &direct_res);
			assert_true(knot_len > 0);
			assert_int_equal(direct_len, knot_len);
			assert_memory_equal(direct_out, knot_out, knot_len);
			assert_int_equal(direct_res.cls, knot_res.cls);
			assert_int_equal(direct_res.rcode, knot_res.rcode);
			assert_int_equal(direct_res.decided, knot_res.decided);
			assert_int_equal(direct_res.ecs, knot_res.ecs);
			assert_int_equal(direct_res.question_end, knot_res.question_end);
			if (dnssec_ok) {
				knot_pkt_t *resp =
				    knot_pkt_new(direct_out, (uint16_t)direct_len, NULL);
				assert_int_equal(knot_pkt_parse(resp, 0), KNOT_EOK);
				assert_true(knot_pkt_has_edns(resp) && knot_edns_do(resp->opt_rr));
				knot_pkt_free(resp);
			}
		}
	}
	pc_dns_zones_free(zones);
	pc_hosts_free(hosts);
	pc_live_free(live_direct);
	pc_live_free(live_knot);
	fixture_free(model);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_primary_peer_outside_by_ecs),
	    cmocka_unit_test(test_ecs_scope_echoed),
	    cmocka_unit_test(test_source_address_without_ecs),
	    cmocka_unit_test(test_negative_answers),
	    cmocka_unit_test(test_apex_and_any),
	    cmocka_unit_test(test_case_preserved),
	    cmocka_unit_test(test_signature_required),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_z_and_cd_bits),
	    cmocka_unit_test(test_edns_in_every_answer),
	    cmocka_unit_test(test_slip_without_deciding),
	    cmocka_unit_test(test_slip_carries_opt),
	    cmocka_unit_test(test_opt_owner_not_root),
	    cmocka_unit_test(test_badvers_before_notimp_and_formerr),
	    cmocka_unit_test(test_slip_checks_opt_rdata),
	    cmocka_unit_test(test_direct_writer_matches_libknot),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

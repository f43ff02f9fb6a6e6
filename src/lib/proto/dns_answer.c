/* See dns_answer.h. The order of checks follows RFC 1035/6891/7871 and what
 * Knot and gdnsd do: header sanity, opcode, question, EDNS version, client
 * subnet, class, zone, then the name itself. */
#include "lib/proto/dns_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libknot/libknot.h>

#include "lib/base/err.h"
#include "lib/naming/hosts.h"
#include "lib/naming/naming.h"

/* A query's parsed packet, the response's packet and their record arrays
 * fit comfortably; libknot gets them from this bump allocator. */
enum { SCRATCH_BYTES = 512 * 1024, QUERY_MAX = 65535, SOA_RDATA_MAX = 2 * KNOT_DNAME_MAXLEN + 20 };

struct pc_dns_scratch {
	knot_mm_t mm;
	size_t used;
	uint8_t query_copy[QUERY_MAX];
	_Alignas(16) uint8_t memory[SCRATCH_BYTES];
};

static void *scratch_alloc(void *ctx, size_t len)
{
	struct pc_dns_scratch *scratch = ctx;
	size_t size = (len + 15) & ~(size_t)15;
	if (size > SCRATCH_BYTES - scratch->used)
		return NULL;
	void *p = scratch->memory + scratch->used;
	scratch->used += size;
	return p;
}

static void scratch_free(void *p)
{
	(void)p; /* everything goes at the next reset */
}

int pc_dns_scratch_new(pc_dns_scratch **out)
{
	pc_dns_scratch *scratch = malloc(sizeof(*scratch));
	if (scratch == NULL)
		return PC_ENOMEM;
	scratch->mm = (knot_mm_t){.ctx = scratch, .alloc = scratch_alloc, .free = scratch_free};
	scratch->used = 0;
	*out = scratch;
	return PC_OK;
}

void pc_dns_scratch_free(pc_dns_scratch *scratch)
{
	free(scratch);
}

const char *pc_dns_class_name(enum pc_dns_class cls)
{
	static const char *const names[PC_DNS__CLASS_COUNT] = {
	    [PC_DNS_ANSWER] = "answer",     [PC_DNS_APEX] = "apex",
	    [PC_DNS_NODATA] = "nodata",     [PC_DNS_NXDOMAIN] = "nxdomain",
	    [PC_DNS_REFUSED] = "refused",   [PC_DNS_DECOY] = "decoy",
	    [PC_DNS_SERVFAIL] = "servfail", [PC_DNS_FORMERR] = "formerr",
	    [PC_DNS_BADVERS] = "badvers",   [PC_DNS_NOTIMP] = "notimp",
	    [PC_DNS_DROPPED] = "dropped",
	};
	return (unsigned)cls < PC_DNS__CLASS_COUNT ? names[cls] : "unknown";
}

/* Everything one answer needs, so helpers take one argument. */
struct ctx {
	pc_dns_scratch *scratch;
	const struct pc_answer_ctx *answer;
	const pc_model *model; /* answer->model */
	const struct pc_dns_query *query;
	struct pc_dns_result *res;
	knot_pkt_t *q, *r;
	knot_rrset_t opt; /* response OPT, when the query had EDNS */
	bool edns;
	knot_edns_client_subnet_t ecs;
	uint32_t zone; /* CDN index */
	uint32_t ttl;
};

/* The flags every response gets from its query's: RFC 1035 §4.1.1, Z is
 * zero in every response; RFC 4035 §3.2.2, CD is copied only into
 * responses to QUERY (for another opcode it means nothing), and so is RD
 * (what recursion would an unknown opcode desire? ISC's compliance
 * matrix, ednscomp's "opcodeflg", counts an echoed RD as a failure). */
static void response_flags(uint8_t *out)
{
	knot_wire_set_qr(out);
	knot_wire_clear_z(out);
	if (knot_wire_get_opcode(out) != KNOT_OPCODE_QUERY) {
		knot_wire_clear_cd(out);
		knot_wire_clear_rd(out);
	}
}

/* A response with only the header (and the question when it parsed): for
 * queries too broken for libknot's response builder, and the TC "slip"
 * of response rate limiting. */
static size_t header_only(const struct pc_dns_query *query, uint8_t *out, size_t question_end,
                          uint8_t rcode, struct pc_dns_result *res)
{
	memcpy(out, query->wire, question_end);
	response_flags(out);
	knot_wire_clear_aa(out);
	knot_wire_clear_tc(out);
	knot_wire_clear_ra(out);
	knot_wire_clear_ad(out);
	knot_wire_set_rcode(out, rcode);
	knot_wire_set_qdcount(out, question_end > KNOT_WIRE_HEADER_SIZE ? 1 : 0);
	knot_wire_set_ancount(out, 0);
	knot_wire_set_nscount(out, 0);
	knot_wire_set_arcount(out, 0);
	res->rcode = rcode;
	res->question_end = question_end;
	return question_end;
}

/* RFC 6891 §6.1.1 and §7: a query with an OPT record gets one back, an
 * error's too, unless the OPT itself is what could not be parsed: our
 * payload, version 0, DO copied (RFC 3225 §3), no options; ext_rcode the
 * upper 8 bits of the RCODE (§6.1.3). Appended to a header_only response
 * of len bytes; returns the new length. */
static size_t append_opt(const struct pc_dns_query *query, bool dnssec_ok, uint8_t ext_rcode,
                         uint8_t *out, size_t len)
{
	uint8_t *opt = out + len;
	opt[0] = 0;
	knot_wire_write_u16(opt + 1, KNOT_RRTYPE_OPT);
	knot_wire_write_u16(opt + 3, query->dns->edns_payload);
	knot_wire_write_u32(opt + 5,
	                    (uint32_t)ext_rcode << 24 | (dnssec_ok ? KNOT_EDNS_DO_MASK : 0));
	knot_wire_write_u16(opt + 9, 0);
	knot_wire_set_arcount(out, 1);
	return len + 11;
}

/* RFC 6891 §6.1.2: an OPT's owner MUST be the root name, which libknot's
 * parser does not check (BIND answers FORMERR, as we do). */
static bool opt_owner_bad(const knot_pkt_t *q)
{
	return q->opt_rr != NULL && q->opt_rr->owner[0] != 0;
}

/* append_opt when the query (parsed by libknot, q; NULL when it did not
 * parse) had a good OPT record. */
static size_t header_only_opt(const struct pc_dns_query *query, const knot_pkt_t *q, uint8_t *out,
                              size_t len)
{
	if (q == NULL || !knot_pkt_has_edns(q) || opt_owner_bad(q))
		return len;
	return append_opt(query, knot_edns_do(q->opt_rr), 0, out, len);
}

/* RFC 6891 §6.1.3: a query (parsed, q, or NULL) whose good OPT asks for a
 * version we do not implement is answered BADVERS. As in BIND 9
 * (ns__client_request: process_opt before the class and opcode checks)
 * and Knot (prepare_answer: the version before the question), that comes
 * before an unknown opcode's NOTIMP and before the FORMERR of a query
 * with no question or with answer or authority records; only a query
 * that does not parse (its OPT unreadable) is a FORMERR first. */
static bool bad_version(const knot_pkt_t *q)
{
	return q != NULL && knot_pkt_has_edns(q) && !opt_owner_bad(q) &&
	       knot_edns_get_version(q->opt_rr) != KNOT_EDNS_VERSION;
}

/* BADVERS (16) as a header_only response up to question_end: the low
 * 4 bits (0) in the header, the upper 8 in our OPT, of version 0. */
static size_t header_only_badvers(const struct pc_dns_query *query, bool dnssec_ok, uint8_t *out,
                                  size_t question_end, struct pc_dns_result *res)
{
	size_t len = header_only(query, out, question_end, KNOT_RCODE_NOERROR, res);
	res->cls = PC_DNS_BADVERS;
	res->rcode = KNOT_RCODE_BADVERS;
	return append_opt(query, dnssec_ok, KNOT_RCODE_BADVERS >> 4, out, len);
}

static int put_record(struct ctx *c, const knot_dname_t *owner, uint16_t type, uint32_t ttl,
                      const uint8_t *rdata, uint16_t rdata_len, uint16_t hint)
{
	knot_rrset_t rr;
	knot_rrset_init(&rr, (knot_dname_t *)owner, type, KNOT_CLASS_IN, ttl);
	int ret = knot_rrset_add_rdata(&rr, rdata, rdata_len, &c->scratch->mm);
	if (ret != KNOT_EOK)
		return ret;
	ret = knot_pkt_put(c->r, hint, &rr, 0);
	if (ret == KNOT_ESPACE)
		c->res->truncated = true;
	return ret;
}

static const knot_dname_t *apex_dname(struct ctx *c)
{
	/* The apex is a suffix of the question name: point into it, so the
	 * compressor finds it and the client's case is kept. */
	const knot_dname_t *name = knot_pkt_qname(c->q);
	size_t labels = knot_dname_labels(name, NULL);
	const struct pc_cdn *cdn = &c->model->cdns[c->zone];
	size_t zone_labels = 1;
	for (uint32_t i = 0; i < cdn->domain_len; i++)
		zone_labels += cdn->domain[i] == '.';
	for (size_t i = zone_labels; i < labels; i++)
		name += name[0] + 1; /* an uncompressed copy */
	return name;
}

/* The wire form of the presentation name prefix + text (no escapes: a
 * '\\' makes it fail), what knot_dname_from_str makes of it, without
 * snprintf and libknot's general parser on every answer. Returns the
 * length, or 0 when the name is not a plain one or does not fit. */
static size_t plain_wire(const char *prefix, const char *text, uint8_t *out, size_t size)
{
	if (size > KNOT_DNAME_MAXLEN)
		size = KNOT_DNAME_MAXLEN;
	size_t at = 0, label = 0, n = 0; /* out[label]: the length of the n-byte label */
	const char *parts[2] = {prefix, text};
	for (int k = 0; k < 2; k++) {
		for (const char *p = parts[k]; *p != '\0'; p++) {
			if (*p == '\\')
				return 0;
			if (*p == '.') {
				if (n == 0)
					return 0; /* an empty label */
				out[label] = (uint8_t)n;
				n = 0;
				continue;
			}
			if (n == 0)
				label = at++;
			if (++n > KNOT_DNAME_MAXLABELLEN || at >= size)
				return 0;
			out[at++] = (uint8_t)*p;
		}
	}
	if (n > 0)
		out[label] = (uint8_t)n;
	else if (at == 0)
		return 0; /* the root: left to libknot */
	if (at >= size)
		return 0;
	out[at++] = 0;
	return at;
}

static size_t ns_name(const pc_model *model, uint32_t zone, uint32_t i, uint8_t *out, size_t size)
{
	const struct pc_cdn *cdn = &model->cdns[zone];
	size_t len = cdn->n_ns_names > 0 ? plain_wire("", cdn->ns_names[i], out, size)
	                                 : plain_wire("ns1.", cdn->domain, out, size);
	if (len > 0)
		return len;
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	if (cdn->n_ns_names > 0)
		snprintf(text, sizeof(text), "%s.", cdn->ns_names[i]);
	else
		snprintf(text, sizeof(text), "ns1.%s.", cdn->domain);
	if (knot_dname_from_str(out, text, size) == NULL)
		return 0;
	return knot_dname_size(out);
}

/* The SOA rdata of a zone, uncompressed: MNAME, RNAME, five numbers.
 * Returns the length (0 when a name does not convert); *mname_len the
 * MNAME's. rdata has SOA_RDATA_MAX bytes. */
static size_t soa_rdata(const pc_model *model, uint32_t zone, const struct pc_dns_params *dns,
                        uint8_t *rdata, size_t *mname_len)
{
	size_t mname = ns_name(model, zone, 0, rdata, KNOT_DNAME_MAXLEN);
	if (mname == 0)
		return 0;
	if (plain_wire("", dns->hostmaster, rdata + mname, KNOT_DNAME_MAXLEN) == 0) {
		char rname_text[KNOT_DNAME_TXT_MAXLEN + 1];
		snprintf(rname_text, sizeof(rname_text), "%s.", dns->hostmaster);
		if (knot_dname_from_str(rdata + mname, rname_text, KNOT_DNAME_MAXLEN) == NULL)
			return 0;
	}
	size_t len = mname + knot_dname_size(rdata + mname);
	uint32_t fields[5] = {dns->soa_serial, 3600, 600, 86400, dns->soa_minimum};
	for (int i = 0; i < 5; i++, len += 4)
		knot_wire_write_u32(rdata + len, fields[i]);
	*mname_len = mname;
	return len;
}

/* RFC 2308: the SOA of a negative answer carries the negative TTL. */
static uint32_t soa_ttl(const struct pc_dns_params *dns, bool authority)
{
	return authority ? dns->soa_minimum : 3600;
}

static int put_soa(struct ctx *c, knot_section_t section)
{
	uint8_t rdata[SOA_RDATA_MAX];
	size_t mname_len;
	size_t len = soa_rdata(c->model, c->zone, c->query->dns, rdata, &mname_len);
	if (len == 0)
		return KNOT_EINVAL;
	knot_pkt_begin(c->r, section);
	return put_record(c, apex_dname(c), KNOT_RRTYPE_SOA,
	                  soa_ttl(c->query->dns, section == KNOT_AUTHORITY), rdata, (uint16_t)len,
	                  0);
}

static int put_addresses(struct ctx *c, const knot_dname_t *owner, uint16_t hint,
                         const struct pc_addr_list *list, uint16_t qtype, uint32_t ttl,
                         uint32_t *written)
{
	uint8_t family = qtype == KNOT_RRTYPE_A ? PC_AF_INET : PC_AF_INET6;
	for (uint32_t i = 0; i < list->count; i++) {
		if (list->items[i].family != family)
			continue;
		int ret = put_record(c, owner, qtype, ttl, list->items[i].bytes,
		                     family == PC_AF_INET ? 4 : 16, hint);
		if (ret != KNOT_EOK)
			return ret;
		(*written)++;
	}
	return KNOT_EOK;
}

static void negative(struct ctx *c, enum pc_dns_class cls)
{
	c->res->cls = cls;
	if (cls == PC_DNS_NXDOMAIN)
		knot_wire_set_rcode(c->r->wire, KNOT_RCODE_NXDOMAIN);
	put_soa(c, KNOT_AUTHORITY);
}

/* RFC 8482: a minimal answer to ANY. */
static void answer_any(struct ctx *c, const knot_dname_t *owner, uint16_t hint)
{
	static const uint8_t hinfo[] = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
	knot_pkt_begin(c->r, KNOT_ANSWER);
	put_record(c, owner, KNOT_RRTYPE_HINFO, c->ttl, hinfo, sizeof(hinfo), hint);
}

static void answer_apex(struct ctx *c, uint16_t qtype)
{
	const knot_dname_t *owner = knot_pkt_qname(c->q);
	c->res->cls = PC_DNS_APEX;
	if (qtype == KNOT_RRTYPE_SOA) {
		put_soa(c, KNOT_ANSWER);
	} else if (qtype == KNOT_RRTYPE_NS) {
		const struct pc_cdn *cdn = &c->model->cdns[c->zone];
		uint32_t n = cdn->n_ns_names > 0 ? cdn->n_ns_names : 1;
		knot_pkt_begin(c->r, KNOT_ANSWER);
		for (uint32_t i = 0; i < n; i++) {
			uint8_t rdata[KNOT_DNAME_MAXLEN];
			size_t len = ns_name(c->model, c->zone, i, rdata, sizeof(rdata));
			if (len > 0 && put_record(c, owner, KNOT_RRTYPE_NS, 3600, rdata,
			                          (uint16_t)len, KNOT_COMPR_HINT_QNAME) != KNOT_EOK)
				return;
		}
		/* Glue: the name servers answer on the CDN's DNS anycast addresses. */
		knot_pkt_begin(c->r, KNOT_ADDITIONAL);
		for (uint32_t i = 0; i < n; i++) {
			uint8_t name[KNOT_DNAME_MAXLEN];
			uint32_t written = 0;
			if (ns_name(c->model, c->zone, i, name, sizeof(name)) == 0 ||
			    knot_dname_in_bailiwick(name, apex_dname(c)) < 0)
				continue;
			const struct pc_addr_list *glue = pc_cdn_anycast(c->model, cdn, "dns");
			if (put_addresses(c, name, 0, glue, KNOT_RRTYPE_A, 3600, &written) !=
			        KNOT_EOK ||
			    put_addresses(c, name, 0, glue, KNOT_RRTYPE_AAAA, 3600, &written) !=
			        KNOT_EOK)
				return;
		}
	} else if (qtype == KNOT_RRTYPE_ANY) {
		answer_any(c, owner, KNOT_COMPR_HINT_QNAME);
	} else {
		negative(c, PC_DNS_NODATA);
	}
}

/* A name server's own name: its addresses are the CDN's DNS anycast ones. */
static bool answer_ns_host(struct ctx *c, const char *name, size_t len, uint16_t qtype)
{
	const struct pc_cdn *cdn = &c->model->cdns[c->zone];
	uint32_t n = cdn->n_ns_names > 0 ? cdn->n_ns_names : 1;
	for (uint32_t i = 0; i < n; i++) {
		bool match;
		if (cdn->n_ns_names > 0) {
			const char *ns = cdn->ns_names[i];
			match = strlen(ns) == len && strncasecmp(ns, name, len) == 0;
		} else {
			/* The default name server, ns1.<domain>: the name is already
			 * known to end in the domain. */
			match = len == 4 + cdn->domain_len && strncasecmp(name, "ns1.", 4) == 0;
		}
		if (!match)
			continue;
		c->res->cls = PC_DNS_APEX;
		uint32_t written = 0;
		if (qtype == KNOT_RRTYPE_A || qtype == KNOT_RRTYPE_AAAA) {
			knot_pkt_begin(c->r, KNOT_ANSWER);
			put_addresses(c, knot_pkt_qname(c->q), KNOT_COMPR_HINT_QNAME,
			              pc_cdn_anycast(c->model, cdn, "dns"), qtype, 3600, &written);
		}
		if (written == 0 && !c->res->truncated)
			negative(c, PC_DNS_NODATA);
		return true;
	}
	return false;
}

static uint8_t answer_mode(const pc_model *model, uint32_t cdn, uint32_t service)
{
	uint8_t mode = model->services[service].dns_mode;
	return mode == PC_DNS_MODE_INHERIT ? model->cdns[cdn].dns_mode : mode;
}

/* pc_answer_sends_fn: a server answer sends the client to the servers
 * (the object is remembered on the first, however many are answered); a
 * redirector or anycast answer sends it to a redirector, which decides and
 * remembers again. */
static bool sends_to_servers(const struct pc_answer_ctx *ctx, const pc_request *req,
                             const pc_decision *decision, void *arg)
{
	uint8_t mode = answer_mode(ctx->model, decision->cdn, req->service);
	if (arg != NULL)
		*(uint8_t *)arg = mode; /* decide_codepoint's, not looked up twice */
	return mode == PC_DNS_MODE_SERVER;
}

/* The object decision for a codepoint's A or AAAA query (its signature
 * admitted); client: an EDNS client subnet's address, or NULL for the
 * packet's source. Returns PC_OK with res->decision and *mode for an
 * answer; PC_ENOSERVER with res->decided for a NODATA (servers exist, none
 * with an address of this family); anything else is a SERVFAIL. The one
 * decision of both writers (libknot's and the direct one). */
static int decide_codepoint(const struct pc_answer_ctx *answer, const struct pc_dns_params *dns,
                            const pc_name *name, uint16_t qtype, const pc_addr *client,
                            struct pc_dns_result *res, uint8_t *mode)
{
	const pc_model *model = answer->model;
	pc_request req;
	pc_answer_request_init(answer, &req);
	if (client != NULL)
		req.client = *client;
	req.provider = name->provider;
	req.service = name->service;
	req.object = name->object;
	req.object_len = name->object_len;
	req.family = qtype == KNOT_RRTYPE_A ? PC_AF_INET : PC_AF_INET6;
	req.max_answers = dns->max_answers;

	pc_decision *decision = &res->decision;
	uint8_t sent_mode = PC_DNS_MODE_INHERIT; /* none yet: sends_to_servers sets it */
	int rc = pc_answer_decide(answer, &req, decision, sends_to_servers, &sent_mode);
	if (rc == PC_ENOSERVER) {
		/* None with an address of this family: a redirector answer does
		 * not care, a server answer is NODATA when servers of the other
		 * family exist. Neither names a server: nothing to remember. */
		req.family = PC_AF_NONE;
		rc = pc_answer_decide(answer, &req, decision, NULL, NULL);
		if (rc == PC_OK &&
		    answer_mode(model, decision->cdn, name->service) == PC_DNS_MODE_SERVER) {
			res->decided = true;
			return PC_ENOSERVER;
		}
	}
	if (rc != PC_OK)
		return rc == PC_ENOSERVER ? PC_EINVAL : rc;
	*mode = sent_mode != PC_DNS_MODE_INHERIT ? sent_mode
	                                         : answer_mode(model, decision->cdn, name->service);
	res->decided = true;
	return PC_OK;
}

/* Receives the addresses of an answer in order; false stops them. */
typedef bool (*put_address_fn)(void *arg, const pc_addr *addr);

/* The addresses an answer in mode gives for a decision, of one family. */
static void answer_addresses(const pc_model *model, const pc_decision *decision, uint8_t mode,
                             uint32_t service, uint8_t family, put_address_fn put, void *arg)
{
	const struct pc_cdn *serving = &model->cdns[decision->cdn];
	const struct pc_addr_list *list;
	if (mode == PC_DNS_MODE_SERVER) {
		for (uint32_t i = 0; i < decision->n_servers; i++) {
			const struct pc_server *server = &model->servers[decision->servers[i]];
			/* One address per server, so answers name distinct servers. */
			for (uint32_t a = 0; a < server->addresses.count; a++) {
				if (server->addresses.items[a].family != family)
					continue;
				if (!put(arg, &server->addresses.items[a]))
					return;
				break;
			}
		}
		return;
	}
	if (mode == PC_DNS_MODE_REDIRECTOR)
		list = &serving->redirectors;
	else
		list = pc_cdn_anycast(
		    model, serving,
		    model->services[service].scheme_mask == PC_SCHEME_RTSP ? "rtsp" : "http");
	for (uint32_t i = 0; i < list->count; i++)
		if (list->items[i].family == family && !put(arg, &list->items[i]))
			return;
}

struct knot_addresses {
	struct ctx *c;
	uint16_t qtype;
	uint32_t written;
};

static bool put_knot_address(void *arg, const pc_addr *addr)
{
	struct knot_addresses *a = arg;
	struct pc_addr_list one = {(pc_addr *)addr, 1};
	return put_addresses(a->c, knot_pkt_qname(a->c->q), KNOT_COMPR_HINT_QNAME, &one, a->qtype,
	                     a->c->ttl, &a->written) == KNOT_EOK;
}

static void answer_codepoint(struct ctx *c, const pc_name *name, uint16_t qtype)
{
	const pc_model *model = c->model;
	const knot_dname_t *owner = knot_pkt_qname(c->q);
	const uint16_t hint = KNOT_COMPR_HINT_QNAME;
	const struct pc_service *service = &model->services[name->service];
	c->ttl = service->dns_ttl != PC_NONE ? service->dns_ttl : model->cdns[c->zone].dns_ttl;

	if (qtype == KNOT_RRTYPE_ANY) {
		c->res->cls = PC_DNS_ANSWER;
		answer_any(c, owner, hint);
		return;
	}
	if (qtype != KNOT_RRTYPE_A && qtype != KNOT_RRTYPE_AAAA) {
		negative(c, PC_DNS_NODATA);
		return;
	}
	uint32_t written = 0;
	if (!pc_name_signature_ok(model, name)) {
		if (c->query->dns->sig_failure == PC_SIG_FAIL_REFUSE) {
			c->res->cls = PC_DNS_REFUSED;
			knot_wire_set_rcode(c->r->wire, KNOT_RCODE_REFUSED);
			return;
		}
		/* The patent's decoy: an address the content servers ignore. */
		c->res->cls = PC_DNS_DECOY;
		struct pc_addr_list decoys = {
		    .items = (pc_addr[2]){c->query->dns->decoy4, c->query->dns->decoy6},
		    .count = 2};
		knot_pkt_begin(c->r, KNOT_ANSWER);
		put_addresses(c, owner, hint, &decoys, qtype, c->ttl, &written);
		if (written == 0 && !c->res->truncated)
			negative(c, PC_DNS_NODATA);
		return;
	}

	pc_addr client, *ecs_client = NULL;
	if (c->res->ecs && c->ecs.source_len > 0) {
		memset(&client, 0, sizeof(client));
		client.family = c->ecs.family == KNOT_ADDR_FAMILY_IPV4 ? PC_AF_INET : PC_AF_INET6;
		memcpy(client.bytes, c->ecs.address, (c->ecs.source_len + 7) / 8);
		ecs_client = &client;
	}
	uint8_t mode = PC_DNS_MODE_SERVER;
	int rc = decide_codepoint(c->answer, c->query->dns, name, qtype, ecs_client, c->res, &mode);
	if (rc == PC_ENOSERVER) {
		negative(c, PC_DNS_NODATA);
		return;
	}
	if (rc != PC_OK) {
		c->res->cls = PC_DNS_SERVFAIL;
		knot_wire_set_rcode(c->r->wire, KNOT_RCODE_SERVFAIL);
		return;
	}
	c->res->cls = PC_DNS_ANSWER;
	knot_pkt_begin(c->r, KNOT_ANSWER);
	struct knot_addresses a = {c, qtype, 0};
	answer_addresses(model, &c->res->decision, mode, name->service,
	                 qtype == KNOT_RRTYPE_A ? PC_AF_INET : PC_AF_INET6, put_knot_address, &a);
	if (a.written == 0 && !c->res->truncated)
		negative(c, PC_DNS_NODATA);
}

/* The presentation form of a wire name (parsed by libknot: labels of at
 * most 63 bytes, no compression in the question, 255 bytes in all) whose
 * bytes are letters, digits, '-' and '_' only, without the trailing dot:
 * what knot_dname_to_str writes for it, less its general escaping. Returns
 * the length; 0 for the root or any other byte (libknot's turn). out has
 * room for KNOT_DNAME_TXT_MAXLEN + 1 bytes. */
static size_t plain_text(const knot_dname_t *name, char *out)
{
	size_t at = 0;
	for (uint8_t n = *name++; n != 0; n = *name++) {
		if (n > KNOT_DNAME_MAXLABELLEN)
			return 0;
		if (at > 0)
			out[at++] = '.';
		for (uint8_t i = 0; i < n; i++) {
			unsigned char ch = name[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
				return 0;
			out[at++] = (char)ch;
		}
		name += n;
	}
	out[at] = '\0';
	return at;
}

static void answer_question(struct ctx *c)
{
	uint16_t qtype = knot_pkt_qtype(c->q);
	if (knot_pkt_qclass(c->q) != KNOT_CLASS_IN) {
		c->res->cls = PC_DNS_REFUSED;
		knot_wire_set_rcode(c->r->wire, KNOT_RCODE_REFUSED);
		return;
	}
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	size_t len = plain_text(knot_pkt_qname(c->q), text);
	if (len == 0) {
		if (knot_dname_to_str(text, knot_pkt_qname(c->q), sizeof(text)) == NULL) {
			c->res->cls = PC_DNS_REFUSED;
			knot_wire_set_rcode(c->r->wire, KNOT_RCODE_REFUSED);
			return;
		}
		len = strlen(text);
		if (len > 0 && text[len - 1] == '.')
			len--;
	}
	/* The common case first: a codepoint that parses (one zone look-up).
	 * Anything else is the apex, a name server, or a name that does not
	 * exist, told apart below. */
	pc_name name;
	bool parsed = pc_name_parse(c->model, text, len, &name) == PC_OK;
	size_t codepoint_len = 0;
	c->zone = parsed ? name.cdn : pc_model_cdn_for_name(c->model, text, len, &codepoint_len);
	if (c->zone == PC_NONE || !pc_model_node_serves(c->model, c->answer->node, c->zone)) {
		c->res->cls = PC_DNS_REFUSED;
		knot_wire_set_rcode(c->r->wire, KNOT_RCODE_REFUSED);
		return;
	}
	/* Zones here are synthesized per query: there is nothing to transfer. */
	if (qtype == KNOT_RRTYPE_AXFR || qtype == KNOT_RRTYPE_IXFR) {
		c->res->cls = PC_DNS_REFUSED;
		knot_wire_set_rcode(c->r->wire, KNOT_RCODE_REFUSED);
		return;
	}
	knot_wire_set_aa(c->r->wire);
	c->ttl = c->model->cdns[c->zone].dns_ttl;
	if (parsed)
		answer_codepoint(c, &name, qtype);
	else if (codepoint_len == 0)
		answer_apex(c, qtype);
	else if (!answer_ns_host(c, text, len, qtype))
		negative(c, PC_DNS_NXDOMAIN);
}

/* RFC 7871 §6 and §7.1.2: a malformed client subnet is a FORMERR. The raw
 * option is checked because libknot's parser quietly clears address bits
 * beyond the source prefix, which the RFC wants refused. */
static bool ecs_valid(const uint8_t *data, uint16_t len)
{
	if (len < 4)
		return false;
	unsigned family = (unsigned)data[0] << 8 | data[1];
	unsigned source = data[2], scope = data[3];
	unsigned max = family == KNOT_ADDR_FAMILY_IPV4   ? 32
	               : family == KNOT_ADDR_FAMILY_IPV6 ? 128
	                                                 : 0;
	if (max == 0 || source > max || scope != 0 || len != 4 + (source + 7u) / 8u)
		return false;
	if (source % 8 != 0 && (data[len - 1] & (0xffu >> (source % 8))) != 0)
		return false;
	return true;
}

static size_t udp_limit(const struct ctx *c, size_t out_size)
{
	if (c->query->tcp)
		return out_size < QUERY_MAX ? out_size : QUERY_MAX;
	size_t limit = KNOT_WIRE_MIN_PKTSIZE;
	if (c->edns) {
		size_t asked = knot_edns_get_payload(c->q->opt_rr);
		limit = asked < c->query->dns->edns_payload ? asked : c->query->dns->edns_payload;
		if (limit < KNOT_WIRE_MIN_PKTSIZE)
			limit = KNOT_WIRE_MIN_PKTSIZE;
	}
	return limit < out_size ? limit : out_size;
}

/* ---- the direct writer: the common queries without libknot ----
 *
 * A query of the one shape nearly every resolver sends — QUERY, one
 * question of a plain name in class IN, no records but at most one OPT
 * whose only option is a client subnet — for a codepoint's A or AAAA or a
 * zone apex's SOA is parsed and answered here, byte for byte what the
 * libknot path below writes for it (the fuzz target compares the two on
 * every input). Anything else, or anything odd, goes to that path before
 * any decision is made. */

struct pc_dns_zones {
	const pc_model *model;
	struct zone_soa {
		uint8_t rdata[SOA_RDATA_MAX];
		uint16_t len; /* 0: left to the libknot path */
		uint16_t mname_len;
		uint8_t labels; /* the domain's */
		/* The whole SOA record of the answer to the apex's own SOA
		 * query, as direct_soa writes it after that question (its
		 * names compress into the question only). 0: not made. */
		uint16_t apex_rr_len;
		uint8_t apex_rr[2 + 10 + SOA_RDATA_MAX];
	} * soa; /* per CDN */
};

static void apex_rr_make(pc_dns_zones *zones, uint32_t zone, const struct pc_dns_params *dns);

int pc_dns_zones_new(const pc_model *model, const struct pc_dns_params *dns, pc_dns_zones **out)
{
	if (model == NULL || dns == NULL || out == NULL)
		return PC_EINVAL;
	pc_dns_zones *zones = calloc(1, sizeof(*zones));
	if (zones == NULL)
		return PC_ENOMEM;
	zones->model = model;
	zones->soa = calloc(model->n_cdns > 0 ? model->n_cdns : 1, sizeof(*zones->soa));
	if (zones->soa == NULL) {
		pc_dns_zones_free(zones);
		return PC_ENOMEM;
	}
	for (uint32_t i = 0; i < model->n_cdns; i++) {
		struct zone_soa *soa = &zones->soa[i];
		size_t mname_len = 0;
		soa->len = (uint16_t)soa_rdata(model, i, dns, soa->rdata, &mname_len);
		soa->mname_len = (uint16_t)mname_len;
		const struct pc_cdn *cdn = &model->cdns[i];
		soa->labels = 1;
		for (uint32_t c = 0; c < cdn->domain_len; c++)
			soa->labels += cdn->domain[c] == '.';
		if (soa->len > 0)
			apex_rr_make(zones, i, dns);
	}
	*out = zones;
	return PC_OK;
}

void pc_dns_zones_free(pc_dns_zones *zones)
{
	if (zones == NULL)
		return;
	free(zones->soa);
	free(zones);
}

struct direct {
	const struct pc_dns_query *query;
	struct pc_dns_result *res;
	uint8_t *out;
	size_t size;  /* written so far */
	size_t limit; /* the response's limit less the OPT record's room */
	uint16_t an, ns;
	uint32_t ttl; /* of address records */
	/* libknot's compression hint (knot_compr_t.suffix): where the last
	 * name worth pointing into starts, and its labels. */
	size_t suffix_pos;
	unsigned suffix_labels;
	/* The query. */
	size_t question_end;
	uint16_t qtype, qclass;
	unsigned qlabels;
	bool edns;
	bool dnssec_ok; /* the OPT's DO bit */
	uint16_t payload;
	const uint8_t *ecs; /* the client subnet option's data, or NULL */
	uint16_t ecs_len;
	struct pc_host_name *name; /* the question's, split (not zeroed with the rest) */
};

/* libknot's knot_tolower: ASCII letters only. */
static uint8_t ascii_lower(uint8_t ch)
{
	return ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch - 'A' + 'a') : ch;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The query, if it has the one shape handled here. */
static bool direct_parse(struct direct *d)
{
	const uint8_t *w = d->query->wire;
	size_t len = d->query->len;
	if (len < KNOT_WIRE_HEADER_SIZE + 5 || knot_wire_get_opcode(w) != KNOT_OPCODE_QUERY ||
	    knot_wire_get_qdcount(w) != 1 || knot_wire_get_ancount(w) != 0 ||
	    knot_wire_get_nscount(w) != 0 || knot_wire_get_arcount(w) > 1)
		return false;
	size_t name_len;
	if (!pc_host_name_from_wire(w + KNOT_WIRE_HEADER_SIZE, len - KNOT_WIRE_HEADER_SIZE, d->name,
	                            &name_len))
		return false;
	size_t at = KNOT_WIRE_HEADER_SIZE + name_len;
	if (len - at < 4)
		return false;
	d->qlabels = (unsigned)d->name->n;
	d->qtype = get16(w + at);
	d->qclass = get16(w + at + 2);
	at += 4;
	d->question_end = at;
	if (knot_wire_get_arcount(w) == 0)
		return at == len;
	/* The OPT record: root owner, version 0, options filling its rdata. */
	if (len - at < 11 || w[at] != 0 || get16(w + at + 1) != KNOT_RRTYPE_OPT || w[at + 6] != 0)
		return false;
	d->edns = true;
	d->dnssec_ok = (w[at + 7] & 0x80) != 0;
	d->payload = get16(w + at + 3);
	/* libknot's parser calls an OPT asking for less than 512 malformed
	 * (a FORMERR): its path's to answer. */
	if (d->payload < KNOT_WIRE_MIN_PKTSIZE)
		return false;
	size_t rdlen = get16(w + at + 9);
	at += 11;
	if (len - at != rdlen)
		return false;
	while (at < len) {
		if (len - at < 4)
			return false;
		uint16_t code = get16(w + at), olen = get16(w + at + 2);
		at += 4;
		if (olen > len - at || code != KNOT_EDNS_OPTION_CLIENT_SUBNET || d->ecs != NULL)
			return false;
		d->ecs = w + at;
		d->ecs_len = olen;
		at += olen;
	}
	return d->ecs == NULL || ecs_valid(d->ecs, d->ecs_len);
}

/* knot_compr_put_dname (libknot/packet/compr.c) for an uncompressed name:
 * the same bytes, and the same hint for the next name. Returns the bytes
 * written at d->out + pos, 0 when they would pass max. */
static size_t direct_name(struct direct *d, const uint8_t *name, size_t pos, size_t max)
{
	uint8_t *dst = d->out + pos;
	unsigned name_labels = 0;
	for (const uint8_t *p = name; *p != 0; p += *p + 1)
		name_labels++;
	if (name_labels == 0) {
		if (max < 1)
			return 0;
		dst[0] = 0;
		return 1;
	}
	const uint8_t *wire = d->out;
	const uint8_t *suffix = wire + d->suffix_pos;
	unsigned suffix_labels = d->suffix_labels;
#define NEXT_SUFFIX(s)                                                                             \
	do {                                                                                       \
		(s) += *(s) + 1;                                                                   \
		while (((s)[0] & 0xc0) == 0xc0)                                                    \
			(s) = wire + (((s)[0] & 0x3f) << 8 | (s)[1]);                              \
	} while (0)
	while (suffix_labels > name_labels) {
		NEXT_SUFFIX(suffix);
		suffix_labels--;
	}
	size_t written = 0;
	unsigned labels = name_labels;
	while (labels > suffix_labels) {
		if (written + *name + 1u > max)
			return 0;
		memcpy(dst + written, name, *name + 1u);
		written += *name + 1u;
		name += *name + 1;
		labels--;
	}
	const uint8_t *match_begin = name, *compr_ptr = suffix;
	while (name[0] != 0) {
		const uint8_t *next_name = name + name[0] + 1, *next_suffix = suffix;
		NEXT_SUFFIX(next_suffix);
		bool match = name[0] == suffix[0];
		for (uint8_t i = 0; match && i < name[0]; i++)
			match = ascii_lower(name[1 + i]) == ascii_lower(suffix[1 + i]);
		if (!match) {
			size_t mismatch = (size_t)(name - match_begin) + name[0] + 1u;
			if (written + mismatch > max)
				return 0;
			memcpy(dst + written, match_begin, mismatch);
			written += mismatch;
			match_begin = next_name;
			compr_ptr = next_suffix;
		}
		name = next_name;
		suffix = next_suffix;
	}
#undef NEXT_SUFFIX
	if (match_begin == name) {
		if (written + 1 > max)
			return 0;
		dst[written++] = 0;
	} else {
		if (written + 2 > max)
			return 0;
		knot_wire_put_pointer(dst + written, (uint16_t)(compr_ptr - wire));
		written += 2;
	}
	if (written > 2 && pos + written < KNOT_WIRE_PTR_MAX) {
		d->suffix_pos = pos;
		d->suffix_labels = name_labels;
	}
	return written;
}

static size_t room(const struct direct *d)
{
	return d->limit > d->size ? d->limit - d->size : 0;
}

/* TYPE, CLASS IN, TTL and RDLENGTH after an owner at d->size + at. */
static void direct_rr_fields(struct direct *d, size_t at, uint16_t type, uint32_t ttl,
                             uint16_t rdlen)
{
	uint8_t *p = d->out + d->size + at;
	put16(p, type);
	put16(p + 2, KNOT_CLASS_IN);
	knot_wire_write_u32(p + 4, ttl);
	put16(p + 8, rdlen);
}

/* One A or AAAA record owned by the question name (a pointer to it). */
static bool direct_address(void *arg, const pc_addr *addr)
{
	struct direct *d = arg;
	uint16_t rdlen = addr->family == PC_AF_INET ? 4 : 16;
	if (room(d) < 12u + rdlen) {
		knot_wire_set_tc(d->out);
		d->res->truncated = true;
		return false;
	}
	knot_wire_put_pointer(d->out + d->size, KNOT_WIRE_HEADER_SIZE);
	direct_rr_fields(d, 2, d->qtype, d->ttl, rdlen);
	/* Constant lengths: two moves, not a call. */
	if (rdlen == 4)
		memcpy(d->out + d->size + 12, addr->bytes, 4);
	else
		memcpy(d->out + d->size + 12, addr->bytes, 16);
	d->size += 12u + rdlen;
	d->an++;
	return true;
}

static void direct_truncated(struct direct *d)
{
	knot_wire_set_tc(d->out);
	d->res->truncated = true;
}

/* The zone's SOA, owned by the apex (a suffix of the question name). */
static void direct_soa(struct direct *d, const pc_dns_zones *zones, uint32_t zone, bool authority)
{
	const struct zone_soa *soa = &zones->soa[zone];
	if (!authority && d->qlabels == soa->labels && soa->apex_rr_len > 0) {
		if (room(d) < soa->apex_rr_len)
			return direct_truncated(d);
		memcpy(d->out + d->size, soa->apex_rr, soa->apex_rr_len);
		d->size += soa->apex_rr_len;
		d->an++;
		return;
	}
	const uint8_t *owner = d->out + KNOT_WIRE_HEADER_SIZE;
	for (unsigned i = soa->labels; i < d->qlabels; i++)
		owner += *owner + 1;
	size_t at = d->size, max = room(d);
	size_t used = direct_name(d, owner, at, max);
	if (used == 0 || max - used < 10)
		return direct_truncated(d);
	size_t fields = used;
	used += 10;
	size_t n = direct_name(d, soa->rdata, at + used, max - used);
	if (n == 0)
		return direct_truncated(d);
	used += n;
	n = direct_name(d, soa->rdata + soa->mname_len, at + used, max - used);
	if (n == 0 || max - used - n < 20)
		return direct_truncated(d);
	used += n;
	memcpy(d->out + at + used, soa->rdata + soa->len - 20, 20);
	used += 20;
	direct_rr_fields(d, fields, KNOT_RRTYPE_SOA, soa_ttl(d->query->dns, authority),
	                 (uint16_t)(used - fields - 10));
	d->size += used;
	if (authority)
		d->ns++;
	else
		d->an++;
}

static void apex_rr_make(pc_dns_zones *zones, uint32_t zone, const struct pc_dns_params *dns)
{
	struct zone_soa *soa = &zones->soa[zone];
	const struct pc_cdn *cdn = &zones->model->cdns[zone];
	uint8_t wire[KNOT_WIRE_HEADER_SIZE + KNOT_DNAME_MAXLEN + 4 + sizeof(soa->apex_rr)];
	memset(wire, 0, KNOT_WIRE_HEADER_SIZE);
	size_t name_len =
	    plain_wire("", cdn->domain, wire + KNOT_WIRE_HEADER_SIZE, KNOT_DNAME_MAXLEN);
	if (name_len == 0)
		return; /* left to direct_soa */
	struct pc_dns_query query = {.dns = dns};
	struct pc_dns_result res;
	struct direct d = {.query = &query, .res = &res, .out = wire, .qlabels = soa->labels};
	d.size = KNOT_WIRE_HEADER_SIZE + name_len + 4;
	d.limit = sizeof(wire);
	d.suffix_pos = KNOT_WIRE_HEADER_SIZE;
	d.suffix_labels = soa->labels;
	size_t start = d.size;
	direct_soa(&d, zones, zone, false);
	if (d.an == 1 && d.size - start <= sizeof(soa->apex_rr)) {
		memcpy(soa->apex_rr, wire + start, d.size - start);
		soa->apex_rr_len = (uint16_t)(d.size - start);
	}
}

static void direct_nodata(struct direct *d, const pc_dns_zones *zones, uint32_t zone)
{
	d->res->cls = PC_DNS_NODATA;
	direct_soa(d, zones, zone, true);
}

/* Answers a query of the shape above into out; false (nothing decided,
 * nothing written that counts) for the libknot path. */
static bool direct_answer(const pc_dns_zones *zones, const struct pc_answer_ctx *answer,
                          const struct pc_dns_query *query, uint8_t *out, size_t out_size,
                          struct pc_dns_result *res, size_t *out_len)
{
	struct pc_host_name qname;
	struct direct d = {.query = query, .res = res, .out = out, .name = &qname};
	if (answer->hosts == NULL || !direct_parse(&d) || d.qclass != KNOT_CLASS_IN)
		return false;
	const pc_model *model = answer->model;
	pc_name name;
	uint32_t zone;
	size_t codepoint_len;
	bool apex = false;
	if (pc_hosts_split_parse(answer->hosts, d.name, true, &name, &zone, &codepoint_len) ==
	    PC_OK) {
		if ((d.qtype != KNOT_RRTYPE_A && d.qtype != KNOT_RRTYPE_AAAA) ||
		    !pc_name_signature_ok(model, &name))
			return false;
	} else {
		if (zone == PC_NONE || codepoint_len != 0 || d.qtype != KNOT_RRTYPE_SOA)
			return false;
		apex = true;
	}
	if (!pc_model_node_serves(model, answer->node, zone) || zones->soa[zone].len == 0)
		return false;

	/* From here on the query is answered here: knot_pkt_init_response's
	 * header, then the flags pc_dns_answer sets. */
	const struct pc_dns_params *dns = query->dns;
	size_t limit = KNOT_WIRE_MIN_PKTSIZE;
	if (query->tcp) {
		limit = QUERY_MAX;
	} else if (d.edns) {
		limit = d.payload < dns->edns_payload ? d.payload : dns->edns_payload;
		if (limit < KNOT_WIRE_MIN_PKTSIZE)
			limit = KNOT_WIRE_MIN_PKTSIZE;
	}
	if (limit > out_size)
		limit = out_size;
	memcpy(out, query->wire, d.question_end);
	knot_wire_clear_tc(out);
	knot_wire_clear_ad(out);
	knot_wire_clear_ra(out);
	response_flags(out);
	knot_wire_set_aa(out);
	d.size = d.question_end;
	d.suffix_pos = KNOT_WIRE_HEADER_SIZE;
	d.suffix_labels = d.qlabels;
	size_t opt_size = d.edns ? 11u + (d.ecs != NULL ? 4u + d.ecs_len : 0u) : 0u;
	d.limit = limit - opt_size;
	res->question_end = d.question_end;
	res->ecs = d.ecs != NULL;

	if (apex) {
		res->cls = PC_DNS_APEX;
		direct_soa(&d, zones, zone, false);
	} else {
		const struct pc_service *service = &model->services[name.service];
		d.ttl = service->dns_ttl != PC_NONE ? service->dns_ttl : model->cdns[zone].dns_ttl;
		pc_addr client, *ecs_client = NULL;
		if (d.ecs != NULL && d.ecs[2] > 0) {
			memset(&client, 0, sizeof(client));
			client.family =
			    get16(d.ecs) == KNOT_ADDR_FAMILY_IPV4 ? PC_AF_INET : PC_AF_INET6;
			memcpy(client.bytes, d.ecs + 4, (d.ecs[2] + 7u) / 8u);
			ecs_client = &client;
		}
		uint8_t mode = PC_DNS_MODE_SERVER;
		int rc = decide_codepoint(answer, dns, &name, d.qtype, ecs_client, res, &mode);
		if (rc == PC_ENOSERVER) {
			direct_nodata(&d, zones, zone);
		} else if (rc != PC_OK) {
			res->cls = PC_DNS_SERVFAIL;
			knot_wire_set_rcode(out, KNOT_RCODE_SERVFAIL);
		} else {
			res->cls = PC_DNS_ANSWER;
			answer_addresses(model, &res->decision, mode, name.service,
			                 d.qtype == KNOT_RRTYPE_A ? PC_AF_INET : PC_AF_INET6,
			                 direct_address, &d);
			if (d.an == 0 && !res->truncated)
				direct_nodata(&d, zones, zone);
		}
	}

	if (d.edns) {
		/* knot_edns_init's OPT: our payload, version 0, DO copied; the
		 * client subnet echoed with the decision's scope (RFC 7871 §7.2.1). */
		uint8_t *opt = out + d.size;
		opt[0] = 0;
		put16(opt + 1, KNOT_RRTYPE_OPT);
		put16(opt + 3, dns->edns_payload);
		knot_wire_write_u32(opt + 5, d.dnssec_ok ? KNOT_EDNS_DO_MASK : 0);
		put16(opt + 9, (uint16_t)(opt_size - 11));
		if (d.ecs != NULL) {
			put16(opt + 11, KNOT_EDNS_OPTION_CLIENT_SUBNET);
			put16(opt + 13, d.ecs_len);
			memcpy(opt + 15, d.ecs, d.ecs_len);
			opt[15 + 3] = res->decided ? (uint8_t)res->decision.client_scope : 0;
		}
		d.size += opt_size;
	}
	knot_wire_set_ancount(out, d.an);
	knot_wire_set_nscount(out, d.ns);
	knot_wire_set_arcount(out, d.edns ? 1 : 0);
	res->rcode = knot_wire_get_rcode(out);
	res->truncated = knot_wire_get_tc(out);
	*out_len = d.size;
	return true;
}

size_t pc_dns_answer(pc_dns_scratch *scratch, const struct pc_answer_ctx *answer,
                     const struct pc_dns_query *query, uint8_t *out, size_t out_size,
                     struct pc_dns_result *res)
{
	const pc_model *model = answer->model;
	memset(res, 0, sizeof(*res));
	res->cls = PC_DNS_DROPPED;
	/* Too short for a header, or a response (reflection fodder): silence. */
	if (pc_dns_ignored(query->wire, query->len) || out_size < KNOT_WIRE_MIN_PKTSIZE)
		return 0;
	size_t direct_len;
	if (query->zones != NULL &&
	    direct_answer(query->zones, answer, query, out, out_size, res, &direct_len))
		return direct_len;
	scratch->used = 0;
	memcpy(scratch->query_copy, query->wire, query->len);

	struct ctx c = {
	    .scratch = scratch, .answer = answer, .model = model, .query = query, .res = res};
	bool notimp = knot_wire_get_opcode(query->wire) != KNOT_OPCODE_QUERY;
	if (notimp || knot_wire_get_qdcount(query->wire) != 1) {
		/* Parsed only for an OPT record to answer with. */
		const knot_pkt_t *with_opt = NULL;
		if (knot_wire_get_arcount(query->wire) > 0) {
			c.q = knot_pkt_new(scratch->query_copy, (uint16_t)query->len, &scratch->mm);
			if (c.q != NULL && knot_pkt_parse(c.q, 0) == KNOT_EOK)
				with_opt = c.q;
		}
		if (bad_version(with_opt))
			return header_only_badvers(
			    query, knot_edns_do(with_opt->opt_rr), out,
			    KNOT_WIRE_HEADER_SIZE +
			        (with_opt->qname_size > 0 ? knot_pkt_question_size(with_opt) : 0),
			    res);
		res->cls = notimp ? PC_DNS_NOTIMP : PC_DNS_FORMERR;
		return header_only_opt(query, with_opt, out,
		                       header_only(query, out, KNOT_WIRE_HEADER_SIZE,
		                                   notimp ? KNOT_RCODE_NOTIMPL : KNOT_RCODE_FORMERR,
		                                   res));
	}
	c.q = knot_pkt_new(scratch->query_copy, (uint16_t)query->len, &scratch->mm);
	if (c.q == NULL)
		return 0;
	/* Only the additional section may carry records in a query (EDNS);
	 * a query with answer or authority records is malformed for us. */
	int parsed = knot_pkt_parse(c.q, 0);
	const knot_pkt_t *with_opt = parsed == KNOT_EOK ? c.q : NULL;
	size_t question_end = KNOT_WIRE_HEADER_SIZE;
	if (c.q->qname_size > 0)
		question_end += knot_pkt_question_size(c.q);
	if (parsed != KNOT_EOK || opt_owner_bad(c.q) ||
	    ((c.q->sections[KNOT_ANSWER].count != 0 || c.q->sections[KNOT_AUTHORITY].count != 0) &&
	     !bad_version(c.q))) {
		res->cls = PC_DNS_FORMERR;
		return header_only_opt(
		    query, with_opt, out,
		    header_only(query, out, question_end, KNOT_RCODE_FORMERR, res));
	}
	c.edns = knot_pkt_has_edns(c.q);

	c.r = knot_pkt_new(out, (uint16_t)udp_limit(&c, out_size), &scratch->mm);
	if (c.r == NULL || knot_pkt_init_response(c.r, c.q) != KNOT_EOK)
		return 0;
	response_flags(c.r->wire);
	knot_wire_clear_ra(c.r->wire);
	knot_wire_clear_ad(c.r->wire);
	res->question_end = question_end;

	uint8_t ext_rcode = 0;
	if (c.edns) {
		if (knot_edns_init(&c.opt, query->dns->edns_payload, 0, 0, &scratch->mm) !=
		    KNOT_EOK)
			return 0;
		if (knot_edns_do(c.q->opt_rr))
			knot_edns_set_do(&c.opt); /* RFC 3225 §3: copied */
		if (knot_edns_get_version(c.q->opt_rr) != KNOT_EDNS_VERSION) {
			res->cls = PC_DNS_BADVERS;
			ext_rcode = KNOT_RCODE_BADVERS >> 4;
		} else {
			uint8_t *option = knot_pkt_edns_option(c.q, KNOT_EDNS_OPTION_CLIENT_SUBNET);
			if (option != NULL) {
				uint8_t *raw = knot_edns_opt_get_data(option);
				uint16_t raw_len = knot_edns_opt_get_length(option);
				if (!ecs_valid(raw, raw_len) ||
				    knot_edns_client_subnet_parse(&c.ecs, raw, raw_len) !=
				        KNOT_EOK) {
					res->cls = PC_DNS_FORMERR;
					return header_only_opt(query, c.q, out,
					                       header_only(query, out, question_end,
					                                   KNOT_RCODE_FORMERR,
					                                   res));
				}
				res->ecs = true;
				uint8_t data[4 + KNOT_EDNS_CLIENT_SUBNET_ADDRESS_MAXLEN];
				uint16_t size = knot_edns_client_subnet_size(&c.ecs);
				if (knot_edns_client_subnet_write(data, sizeof(data), &c.ecs) !=
				        KNOT_EOK ||
				    knot_edns_add_option(&c.opt, KNOT_EDNS_OPTION_CLIENT_SUBNET,
				                         size, data, &scratch->mm) != KNOT_EOK)
					return 0;
			}
		}
		if (knot_pkt_reserve(c.r, (uint16_t)knot_edns_wire_size(&c.opt)) != KNOT_EOK)
			return 0;
	}

	if (res->cls != PC_DNS_BADVERS)
		answer_question(&c);

	if (c.edns) {
		if (res->ecs) {
			/* RFC 7871 §7.2.1: the scope says how far the answer holds. */
			uint8_t *option =
			    knot_edns_get_option(&c.opt, KNOT_EDNS_OPTION_CLIENT_SUBNET, NULL);
			uint8_t scope = res->decided ? (uint8_t)res->decision.client_scope : 0;
			if (option != NULL)
				knot_edns_opt_get_data(option)[3] = scope;
		}
		knot_edns_set_ext_rcode(&c.opt, ext_rcode);
		knot_pkt_reclaim(c.r, (uint16_t)knot_edns_wire_size(&c.opt));
		knot_pkt_begin(c.r, KNOT_ADDITIONAL);
		if (knot_pkt_put(c.r, 0, &c.opt, KNOT_PF_NOTRUNC) != KNOT_EOK)
			return 0;
	}
	res->rcode = (uint16_t)(ext_rcode << 4 | knot_wire_get_rcode(c.r->wire));
	res->truncated = knot_wire_get_tc(c.r->wire);
	return c.r->size;
}

bool pc_dns_ignored(const uint8_t *wire, size_t len)
{
	return len < KNOT_WIRE_HEADER_SIZE || len > QUERY_MAX || knot_wire_get_qr(wire);
}

/* The query's OPT record found by walking its sections from at (the end
 * of its questions), names bounds- and loop-checked by libknot, without
 * its parse, but refusing what that parse or pc_dns_answer refuses:
 * records whose names or lengths do not parse, trailing bytes, an OPT out
 * of the additional section, a second one, an owner other than the root
 * (opt_owner_bad), a payload under 512 (libknot 3.2's parse refuses it,
 * see direct_parse) or options that do not fill its rdata exactly
 * (knot_edns_get_options); ecs_bad when the last client subnet (the one
 * knot_pkt_edns_option finds) is one ecs_valid refuses. A TSIG is refused too: libknot checks its
 * rdata, which is not read here, and no well-formed query to this role needs one. Other
 * records' rdata is not read either, so beside them the OPT is not reflected. */
struct slip_opt {
	bool malformed, present, dnssec_ok, ecs_bad, records; /* records: answer or authority */
	uint8_t version;
};

/* Whether the options fill the rdata exactly; *ecs_bad when the last
 * client subnet is one pc_dns_answer answers FORMERR. */
static bool slip_opt_rdata_ok(const uint8_t *p, uint16_t rdlen, bool *ecs_bad)
{
	const uint8_t *ecs = NULL;
	uint16_t ecs_len = 0;
	for (uint16_t at = 0; at < rdlen;) {
		if (rdlen - at < 4)
			return false;
		uint16_t code = get16(p + at), olen = get16(p + at + 2);
		at += 4;
		if (olen > rdlen - at)
			return false;
		if (code == KNOT_EDNS_OPTION_CLIENT_SUBNET) {
			ecs = p + at;
			ecs_len = olen;
		}
		at += olen;
	}
	knot_edns_client_subnet_t parsed;
	*ecs_bad =
	    ecs != NULL && (!ecs_valid(ecs, ecs_len) ||
	                    knot_edns_client_subnet_parse(&parsed, ecs, ecs_len) != KNOT_EOK);
	return true;
}

static struct slip_opt slip_opt(const uint8_t *wire, size_t len, size_t at)
{
	const struct slip_opt malformed = {.malformed = true};
	const uint8_t *p = wire + at, *end = wire + len;
	unsigned before = knot_wire_get_ancount(wire) + knot_wire_get_nscount(wire);
	unsigned records = before + knot_wire_get_arcount(wire);
	struct slip_opt found = {.records = before > 0};
	bool unread = false; /* a record whose rdata libknot's parse would check */
	for (unsigned i = 0; i < records; i++) {
		/* An OPT's root owner without a call. */
		int n = p < end && *p == 0 ? 1 : knot_dname_wire_check(p, end, wire);
		if (n <= 0 || end - p < n + 10)
			return malformed;
		uint16_t type = get16(p + n), rdlen = get16(p + n + 8);
		if (end - p - n - 10 < rdlen || type == KNOT_RRTYPE_TSIG)
			return malformed;
		if (type == KNOT_RRTYPE_OPT) {
			if (i < before || found.present ||
			    (*p != 0 && knot_dname_labels(p, wire) != 0) ||
			    get16(p + n + 2) < KNOT_WIRE_MIN_PKTSIZE ||
			    !slip_opt_rdata_ok(p + n + 10, rdlen, &found.ecs_bad))
				return malformed;
			found.present = true;
			found.version = p[n + 5];
			found.dnssec_ok = (p[n + 6] & 0x80) != 0;
		} else {
			unread = true;
		}
		p += n + 10 + rdlen;
	}
	if (p != end)
		return malformed; /* trailing bytes: libknot's FORMERR */
	/* Beside other records the OPT is not reflected (nor BADVERS
	 * answered): their rdata is not read here, and if libknot refuses
	 * it pc_dns_answer sends a FORMERR without one. */
	if (unread)
		found.present = false;
	return found;
}

size_t pc_dns_slip(const struct pc_dns_query *query, uint8_t *out, size_t out_size)
{
	struct pc_dns_result res;
	if (pc_dns_ignored(query->wire, query->len) || out_size < KNOT_WIRE_MIN_PKTSIZE)
		return 0;
	/* The question, and the OPT of a NOTIMP or a question-count FORMERR,
	 * as pc_dns_answer's libknot parse reads them: one question at most,
	 * its name uncompressed. */
	const uint8_t *end = query->wire + query->len;
	unsigned qdcount = knot_wire_get_qdcount(query->wire);
	size_t at = KNOT_WIRE_HEADER_SIZE;
	bool questions_ok = qdcount <= 1;
	if (qdcount == 1) {
		int n = knot_dname_wire_check(query->wire + at, end, NULL);
		questions_ok = n > 0 && query->len - at >= (size_t)n + 4;
		at += questions_ok ? (size_t)n + 4 : 0;
	}
	struct slip_opt opt = questions_ok ? slip_opt(query->wire, query->len, at)
	                                   : (struct slip_opt){.malformed = true};
	/* pc_dns_answer's order: what does not parse, BADVERS, then NOTIMP
	 * and the FORMERR of a question count. */
	if (opt.present && opt.version != KNOT_EDNS_VERSION)
		return header_only_badvers(query, opt.dnssec_ok, out, at, &res);
	bool header_only_rcode =
	    knot_wire_get_opcode(query->wire) != KNOT_OPCODE_QUERY || qdcount != 1;
	size_t len;
	if (header_only_rcode || !questions_ok) {
		uint8_t rcode = knot_wire_get_opcode(query->wire) != KNOT_OPCODE_QUERY
		                    ? KNOT_RCODE_NOTIMPL
		                    : KNOT_RCODE_FORMERR;
		len = header_only(query, out, KNOT_WIRE_HEADER_SIZE, rcode, &res);
	} else {
		/* at is the question's end: a name, then type and class. A
		 * malformed client subnet (RFC 7871 §7.1.2) and answer or
		 * authority records are the FORMERR pc_dns_answer sends (with
		 * the OPT for the former; beside records, slip_opt reflects
		 * none). */
		bool formerr = opt.malformed || opt.records || opt.ecs_bad;
		len = header_only(query, out, at, formerr ? KNOT_RCODE_FORMERR : KNOT_RCODE_NOERROR,
		                  &res);
		if (!formerr)
			knot_wire_set_tc(out);
	}
	/* RFC 6891 §7: a truncated answer keeps its OPT (BIND's slip does). */
	return opt.present ? append_opt(query, opt.dnssec_ok, 0, out, len) : len;
}

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
#include "lib/naming/naming.h"

/* A query's parsed packet, the response's packet and their record arrays
 * fit comfortably; libknot gets them from this bump allocator. */
enum { SCRATCH_BYTES = 512 * 1024, QUERY_MAX = 65535 };

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
 * responses to QUERY (for another opcode it means nothing). */
static void response_flags(uint8_t *out)
{
	knot_wire_set_qr(out);
	knot_wire_clear_z(out);
	if (knot_wire_get_opcode(out) != KNOT_OPCODE_QUERY)
		knot_wire_clear_cd(out);
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

static size_t ns_name(struct ctx *c, uint32_t i, uint8_t *out, size_t size)
{
	const struct pc_cdn *cdn = &c->model->cdns[c->zone];
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

static int put_soa(struct ctx *c, knot_section_t section)
{
	const struct pc_dns_params *dns = c->query->dns;
	uint8_t rdata[2 * KNOT_DNAME_MAXLEN + 20];
	size_t mname = ns_name(c, 0, rdata, KNOT_DNAME_MAXLEN);
	if (mname == 0)
		return KNOT_EINVAL;
	if (plain_wire("", dns->hostmaster, rdata + mname, KNOT_DNAME_MAXLEN) == 0) {
		char rname_text[KNOT_DNAME_TXT_MAXLEN + 1];
		snprintf(rname_text, sizeof(rname_text), "%s.", dns->hostmaster);
		if (knot_dname_from_str(rdata + mname, rname_text, KNOT_DNAME_MAXLEN) == NULL)
			return KNOT_EINVAL;
	}
	size_t len = mname + knot_dname_size(rdata + mname);
	uint32_t fields[5] = {dns->soa_serial, 3600, 600, 86400, dns->soa_minimum};
	for (int i = 0; i < 5; i++, len += 4)
		knot_wire_write_u32(rdata + len, fields[i]);
	knot_pkt_begin(c->r, section);
	/* RFC 2308: the SOA of a negative answer carries the negative TTL. */
	uint32_t ttl = section == KNOT_AUTHORITY ? dns->soa_minimum : 3600;
	return put_record(c, apex_dname(c), KNOT_RRTYPE_SOA, ttl, rdata, (uint16_t)len, 0);
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
			size_t len = ns_name(c, i, rdata, sizeof(rdata));
			if (len > 0 && put_record(c, owner, KNOT_RRTYPE_NS, 3600, rdata,
			                          (uint16_t)len, KNOT_COMPR_HINT_QNAME) != KNOT_EOK)
				return;
		}
		/* Glue: the name servers answer on the CDN's DNS anycast addresses. */
		knot_pkt_begin(c->r, KNOT_ADDITIONAL);
		for (uint32_t i = 0; i < n; i++) {
			uint8_t name[KNOT_DNAME_MAXLEN];
			uint32_t written = 0;
			if (ns_name(c, i, name, sizeof(name)) == 0 ||
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
	(void)arg;
	return answer_mode(ctx->model, decision->cdn, req->service) == PC_DNS_MODE_SERVER;
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

	pc_request req;
	pc_answer_request_init(c->answer, &req);
	if (c->res->ecs && c->ecs.source_len > 0) {
		memset(&req.client, 0, sizeof(req.client));
		req.client.family =
		    c->ecs.family == KNOT_ADDR_FAMILY_IPV4 ? PC_AF_INET : PC_AF_INET6;
		memcpy(req.client.bytes, c->ecs.address, (c->ecs.source_len + 7) / 8);
	}
	req.provider = name->provider;
	req.service = name->service;
	req.object = name->object;
	req.object_len = name->object_len;
	req.family = qtype == KNOT_RRTYPE_A ? PC_AF_INET : PC_AF_INET6;
	req.max_answers = c->query->dns->max_answers;

	pc_decision *decision = &c->res->decision;
	uint8_t mode = PC_DNS_MODE_SERVER;
	int rc = pc_answer_decide(c->answer, &req, decision, sends_to_servers, NULL);
	if (rc == PC_ENOSERVER) {
		/* None with an address of this family: a redirector answer does
		 * not care, a server answer is NODATA when servers of the other
		 * family exist. Neither names a server: nothing to remember. */
		req.family = PC_AF_NONE;
		rc = pc_answer_decide(c->answer, &req, decision, NULL, NULL);
		if (rc == PC_OK &&
		    answer_mode(model, decision->cdn, name->service) == PC_DNS_MODE_SERVER) {
			c->res->decided = true;
			negative(c, PC_DNS_NODATA);
			return;
		}
	}
	if (rc != PC_OK) {
		c->res->cls = PC_DNS_SERVFAIL;
		knot_wire_set_rcode(c->r->wire, KNOT_RCODE_SERVFAIL);
		return;
	}
	mode = answer_mode(model, decision->cdn, name->service);
	c->res->decided = true;
	c->res->cls = PC_DNS_ANSWER;
	knot_pkt_begin(c->r, KNOT_ANSWER);
	const struct pc_cdn *serving = &model->cdns[decision->cdn];
	if (mode == PC_DNS_MODE_SERVER) {
		for (uint32_t i = 0; i < decision->n_servers; i++) {
			const struct pc_server *server = &model->servers[decision->servers[i]];
			/* One address per server, so answers name distinct servers. */
			for (uint32_t a = 0; a < server->addresses.count; a++) {
				if (server->addresses.items[a].family !=
				    (qtype == KNOT_RRTYPE_A ? PC_AF_INET : PC_AF_INET6))
					continue;
				struct pc_addr_list one = {&server->addresses.items[a], 1};
				if (put_addresses(c, owner, hint, &one, qtype, c->ttl, &written) !=
				    KNOT_EOK)
					return;
				break;
			}
		}
	} else if (mode == PC_DNS_MODE_REDIRECTOR) {
		put_addresses(c, owner, hint, &serving->redirectors, qtype, c->ttl, &written);
	} else {
		const char *role =
		    model->services[name->service].scheme_mask == PC_SCHEME_RTSP ? "rtsp" : "http";
		put_addresses(c, owner, hint, pc_cdn_anycast(model, serving, role), qtype, c->ttl,
		              &written);
	}
	if (written == 0 && !c->res->truncated)
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
	scratch->used = 0;
	memcpy(scratch->query_copy, query->wire, query->len);

	struct ctx c = {
	    .scratch = scratch, .answer = answer, .model = model, .query = query, .res = res};
	if (knot_wire_get_opcode(query->wire) != KNOT_OPCODE_QUERY) {
		res->cls = PC_DNS_NOTIMP;
		return header_only(query, out, KNOT_WIRE_HEADER_SIZE, KNOT_RCODE_NOTIMPL, res);
	}
	if (knot_wire_get_qdcount(query->wire) != 1) {
		res->cls = PC_DNS_FORMERR;
		return header_only(query, out, KNOT_WIRE_HEADER_SIZE, KNOT_RCODE_FORMERR, res);
	}
	c.q = knot_pkt_new(scratch->query_copy, (uint16_t)query->len, &scratch->mm);
	if (c.q == NULL)
		return 0;
	/* Only the additional section may carry records in a query (EDNS);
	 * a query with answer or authority records is malformed for us. */
	int parsed = knot_pkt_parse(c.q, 0);
	size_t question_end = KNOT_WIRE_HEADER_SIZE;
	if (c.q->qname_size > 0)
		question_end += knot_pkt_question_size(c.q);
	if (parsed != KNOT_EOK || c.q->sections[KNOT_ANSWER].count != 0 ||
	    c.q->sections[KNOT_AUTHORITY].count != 0) {
		res->cls = PC_DNS_FORMERR;
		return header_only(query, out, question_end, KNOT_RCODE_FORMERR, res);
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
					return header_only(query, out, question_end,
					                   KNOT_RCODE_FORMERR, res);
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

size_t pc_dns_slip(const struct pc_dns_query *query, uint8_t *out, size_t out_size)
{
	struct pc_dns_result res;
	if (pc_dns_ignored(query->wire, query->len) || out_size < KNOT_WIRE_MIN_PKTSIZE)
		return 0;
	if (knot_wire_get_opcode(query->wire) != KNOT_OPCODE_QUERY)
		return header_only(query, out, KNOT_WIRE_HEADER_SIZE, KNOT_RCODE_NOTIMPL, &res);
	if (knot_wire_get_qdcount(query->wire) != 1)
		return header_only(query, out, KNOT_WIRE_HEADER_SIZE, KNOT_RCODE_FORMERR, &res);
	/* The question is a name (bounds and compression checked by libknot),
	 * then type and class. */
	const uint8_t *name = query->wire + KNOT_WIRE_HEADER_SIZE;
	const uint8_t *end = query->wire + query->len;
	int name_len = knot_dname_wire_check(name, end, query->wire);
	if (name_len <= 0 || end - name < name_len + 2 * (int)sizeof(uint16_t))
		return header_only(query, out, KNOT_WIRE_HEADER_SIZE, KNOT_RCODE_FORMERR, &res);
	size_t question_end = KNOT_WIRE_HEADER_SIZE + (size_t)name_len + 2 * sizeof(uint16_t);
	size_t len = header_only(query, out, question_end, KNOT_RCODE_NOERROR, &res);
	knot_wire_set_tc(out);
	return len;
}

size_t pc_dns_truncate(uint8_t *response, const struct pc_dns_result *res)
{
	knot_wire_set_tc(response);
	knot_wire_set_ancount(response, 0);
	knot_wire_set_nscount(response, 0);
	knot_wire_set_arcount(response, 0);
	return res->question_end;
}

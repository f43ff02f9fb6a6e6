/* libFuzzer target: the DNS role's query path, from raw packet to response,
 * over the embedded default federation. Besides not crashing, a response
 * must fit the buffer, echo the query's ID and have QR set; and the direct
 * writer (with the generation's pc_dns_zones) must answer exactly what the
 * libknot path answers: the same bytes, the same result. Each path has its
 * own live state, so agreement usage moves alike in both. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>
#include <sodium.h>

#include "lib/model/config.h"
#include "lib/naming/hosts.h"
#include "lib/proto/sections.h"
#include "lib/proto/dns_answer.h"

static pc_config *config;
static const pc_model *model;
static pc_live *live, *live_knot;
static pc_dns_scratch *scratch;
static pc_dns_zones *zones;
static pc_hosts *hosts;

static void setup(void)
{
	struct pc_config_options opts = {.source = "default", .sections = pc_role_sections};
	if (sodium_init() < 0 || pc_config_load(pc_default_config_yaml, pc_default_config_yaml_len,
	                                        &opts, NULL, NULL, &config) != 0)
		abort();
	model = pc_config_model(config);
	if (pc_live_new(model, &live) != 0 || pc_live_new(model, &live_knot) != 0 ||
	    pc_dns_scratch_new(&scratch) != 0 ||
	    pc_dns_zones_new(model, pc_dns_settings(config), &zones) != 0 ||
	    pc_hosts_new(model, &hosts) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (model == NULL)
		setup();
	static uint8_t out[65535], knot_out[65535];
	/* The first byte picks UDP or TCP and the client family. */
	uint8_t mode = size > 0 ? data[0] : 0;
	struct pc_answer_ctx ctx = {
	    .model = model,
	    .live = live,
	    .node = model->self_node,
	    .now_ms = 1764000000000ULL,
	};
	ctx.source.family = (mode & 2) ? 6 : 4;
	memcpy(ctx.source.bytes,
	       (mode & 2) ? (const uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, 0x02}
	                  : (const uint8_t[16]){127, 2, 0, 10},
	       16);
	struct pc_dns_query query = {
	    .wire = size > 0 ? data + 1 : data,
	    .len = size > 0 ? size - 1 : 0,
	    .tcp = mode & 1,
	    .dns = pc_dns_settings(config),
	};
	size_t out_size = (mode & 1) ? sizeof(out) : 1232;
	struct pc_dns_result knot_res;
	struct pc_answer_ctx knot_ctx = ctx;
	knot_ctx.live = live_knot;
	size_t knot_len = pc_dns_answer(scratch, &knot_ctx, &query, knot_out, out_size, &knot_res);
	struct pc_dns_result res;
	query.zones = zones;
	ctx.hosts = hosts;
	size_t len = pc_dns_answer(scratch, &ctx, &query, out, out_size, &res);
	if (len != knot_len || memcmp(out, knot_out, len) != 0 || res.cls != knot_res.cls ||
	    res.rcode != knot_res.rcode || res.truncated != knot_res.truncated ||
	    res.ecs != knot_res.ecs || res.decided != knot_res.decided ||
	    res.question_end != knot_res.question_end)
		abort();
	if (res.decided && (res.decision.branch != knot_res.decision.branch ||
	                    res.decision.cdn != knot_res.decision.cdn ||
	                    res.decision.n_servers != knot_res.decision.n_servers ||
	                    memcmp(res.decision.servers, knot_res.decision.servers,
	                           res.decision.n_servers * sizeof(res.decision.servers[0])) != 0 ||
	                    res.decision.client_scope != knot_res.decision.client_scope))
		abort();
	if (len > 0) {
		if (len < 12 || len > ((mode & 1) ? sizeof(out) : 1232u))
			abort();
		if (memcmp(out, query.wire, 2) != 0 || !(out[2] & 0x80))
			abort();
		if (len < res.question_end)
			abort();
	}
	/* The RRL slip, made from the same bytes without deciding: at most the
	 * header, question and an OPT (no longer than the query's own), the
	 * same id, QR and TC or a header-only error, Z clear (RFC 1035 4.1.1). */
	size_t slip = pc_dns_slip(&query, out, 1232);
	if (slip > 0 && (slip < 12 || slip > query.len || memcmp(out, query.wire, 2) != 0 ||
	                 !(out[2] & 0x80) || (out[3] & 0x40)))
		abort();
	/* And a client can read it (a question compressed into the header,
	 * echoed, could not be). */
	if (slip > 0) {
		knot_pkt_t *parsed = knot_pkt_new(out, (uint16_t)slip, NULL);
		if (parsed == NULL || knot_pkt_parse(parsed, 0) != KNOT_EOK)
			abort();
		/* An OPT only where the answer has one: the slip reads the
		 * query's OPT as the answer's parse does, and reflects none
		 * that parse refuses. */
		bool slip_opt = knot_pkt_has_edns(parsed);
		knot_pkt_free(parsed);
		if (slip_opt && knot_len > 0) {
			knot_pkt_t *answer = knot_pkt_new(knot_out, (uint16_t)knot_len, NULL);
			if (answer == NULL || knot_pkt_parse(answer, 0) != KNOT_EOK ||
			    !knot_pkt_has_edns(answer))
				abort();
			knot_pkt_free(answer);
		}
	}
	return 0;
}

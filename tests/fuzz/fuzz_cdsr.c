/* libFuzzer target: the CDSR codec and answer over the embedded default
 * federation. The first byte picks the side: even, a request through
 * pc_cdsr_request_parse and pc_cdsr_answer (the client's family and node
 * from its bits); odd, a response through pc_cdsr_response_parse (the
 * client side). Besides not crashing: a response is never larger than its
 * request, always parses back with the request's nonce, and a request
 * that parses writes back to the same fields, and the answer is the same
 * byte for byte with what is built at load (the generation's host
 * table, pc_hosts, and pc_cdsr_prebuilt's hint blocks) as without (each
 * with its own live state, which answers change). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/naming/hosts.h"
#include "lib/proto/cdsr.h"
#include "lib/proto/cdsr_answer.h"
#include "lib/model/config.h"
#include "lib/proto/sections.h"

static pc_config *config;
static const pc_model *model;
static pc_live *live;
static pc_live *live_walk; /* the answers without the host table */
static pc_cdsr_prebuilt *prebuilt;
static pc_hosts *hosts;

static void setup(void)
{
	struct pc_config_options opts = {.source = "default", .sections = pc_role_sections};
	if (sodium_init() < 0 || pc_config_load(pc_default_config_yaml, pc_default_config_yaml_len,
	                                        &opts, NULL, NULL, &config) != 0)
		abort();
	model = pc_config_model(config);
	if (pc_live_new(model, &live) != 0 || pc_live_new(model, &live_walk) != 0 ||
	    pc_cdsr_prebuilt_new(model, &prebuilt) != 0 || pc_hosts_new(model, &hosts) != 0)
		abort();
}

static void check_round_trip(const uint8_t *wire, size_t len, const struct pc_cdsr_request *req)
{
	static uint8_t again[PC_CDSR_REQUEST_MAX];
	int n = pc_cdsr_request_write(req, len, again, sizeof(again));
	struct pc_cdsr_request back;
	if (n != (int)len || pc_cdsr_request_parse(again, (size_t)n, &back) != 0)
		abort();
	if (back.nonce != req->nonce || back.flags != req->flags || back.url_len != req->url_len ||
	    memcmp(back.url, req->url, req->url_len) != 0 || back.n_avoid != req->n_avoid ||
	    back.family != req->family || back.prefer_cdn_len != req->prefer_cdn_len)
		abort();
	(void)wire;
}

static void request_side(uint8_t mode, const uint8_t *wire, size_t len)
{
	struct pc_cdsr_request req;
	int rc = pc_cdsr_request_parse(wire, len, &req);
	if (rc == 0)
		check_round_trip(wire, len, &req);

	static uint8_t out[PC_CDSR_REQUEST_MAX + 64];
	struct pc_answer_ctx ctx = {
	    .model = model,
	    .live = live,
	    .hosts = hosts,
	    .node = (mode & 4) ? PC_NONE : model->self_node,
	    .now_ms = 1764000000000ULL,
	};
	ctx.source.family = (mode & 2) ? 6 : 4;
	memcpy(ctx.source.bytes,
	       (mode & 2) ? (const uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, 0x01}
	                  : (const uint8_t[16]){127, (uint8_t)(1 + (mode >> 3) % 7), 0, 10},
	       16);
	struct pc_cdsr_query query = {.wire = wire, .len = len, .prebuilt = prebuilt};
	struct pc_cdsr_result res;
	size_t n = pc_cdsr_answer(&ctx, &query, out, sizeof(out), &res);
	static uint8_t walked[sizeof(out)];
	struct pc_cdsr_result walked_res;
	struct pc_answer_ctx walk_ctx = ctx;
	walk_ctx.live = live_walk;
	walk_ctx.hosts = NULL;
	query.prebuilt = NULL;
	if (pc_cdsr_answer(&walk_ctx, &query, walked, sizeof(walked), &walked_res) != n ||
	    memcmp(walked, out, n) != 0 || walked_res.status != res.status)
		abort();
	if (n == 0) {
		/* Only what is not a request, or too short for a header. */
		if (res.status != PC_CDSR_DROPPED || (req.header_ok && len >= PC_CDSR_HEADER_LEN))
			abort();
		return;
	}
	/* No amplification, and a response the client can read. */
	if (n > len || !req.header_ok)
		abort();
	struct pc_cdsr_response resp;
	if (pc_cdsr_response_parse(out, n, &resp) != 0 || resp.nonce != req.nonce ||
	    resp.status != res.status || (resp.status == PC_CDSR_OK && !(rc == 0 && res.decided)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (model == NULL)
		setup();
	uint8_t mode = size > 0 ? data[0] : 0;
	const uint8_t *wire = size > 0 ? data + 1 : data;
	size_t len = size > 0 ? size - 1 : 0;
	if (mode & 1) {
		struct pc_cdsr_response resp;
		if (pc_cdsr_response_parse(wire, len, &resp) == 0 &&
		    resp.n_hints > PC_CDSR_MAX_HINTS)
			abort();
	} else {
		request_side(mode, wire, len);
	}
	return 0;
}

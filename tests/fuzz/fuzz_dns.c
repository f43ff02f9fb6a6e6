/* libFuzzer target: the DNS role's query path, from raw packet to response,
 * over the embedded default federation. Besides not crashing, a response
 * must fit the buffer, echo the query's ID and have QR set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/model/config.h"
#include "lib/proto/sections.h"
#include "lib/proto/dns_answer.h"

static pc_config *config;
static const pc_model *model;
static pc_live *live;
static pc_dns_scratch *scratch;

static void setup(void)
{
	struct pc_config_options opts = {.source = "default", .sections = pc_role_sections};
	if (sodium_init() < 0 || pc_config_load(pc_default_config_yaml, pc_default_config_yaml_len,
	                                        &opts, NULL, NULL, &config) != 0)
		abort();
	model = pc_config_model(config);
	if (pc_live_new(model, &live) != 0 || pc_dns_scratch_new(&scratch) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (model == NULL)
		setup();
	static uint8_t out[65535];
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
	struct pc_dns_result res;
	size_t len =
	    pc_dns_answer(scratch, &ctx, &query, out, (mode & 1) ? sizeof(out) : 1232, &res);
	if (len > 0) {
		if (len < 12 || len > ((mode & 1) ? sizeof(out) : 1232u))
			abort();
		if (memcmp(out, query.wire, 2) != 0 || !(out[2] & 0x80))
			abort();
		if (len < res.question_end)
			abort();
	}
	/* The RRL slip, made from the same bytes without deciding: at most the
	 * header and question, the same id, QR and TC or a header-only error,
	 * Z clear (RFC 1035 4.1.1). */
	size_t slip = pc_dns_slip(&query, out, 1232);
	if (slip > 0 && (slip < 12 || slip > query.len || memcmp(out, query.wire, 2) != 0 ||
	                 !(out[2] & 0x80) || (out[3] & 0x40)))
		abort();
	return 0;
}

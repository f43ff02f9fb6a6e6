/* bench_cdsr_answer: N CDSR answers in one process, no sockets, for
 * counting the library's instructions per answer without the kernel and
 * the daemon around it (bench/RESULTS.md, "CDSR answer instructions"):
 *
 *   valgrind --tool=callgrind --toggle-collect=pc_cdsr_answer \
 *       build-bench/bench/bench_cdsr_answer [-n N] [-w] [CONFIG]
 *
 * The request is bench/instructions.sh's (http://abc.cdn.acme.net/
 * www.abc.com/x, hints, family 4, padded to 512) from 127.2.0.10, a
 * client in beta's AS: PEER, beta's server. The clock moves 2 ms per
 * answer, under the default acme-beta agreement's 1 000 decisions a
 * second, so every answer takes that branch; the program prints the
 * branches it got and fails unless all were PEER. -w: without what is
 * built at load (pc_cdsr_prebuilt, the host table pc_hosts), for the
 * before/after of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/base/file.h"
#include "lib/model/config.h"
#include "lib/model/live.h"
#include "lib/naming/hosts.h"
#include "lib/policy/affinity.h"
#include "lib/proto/cdsr_answer.h"
#include "lib/proto/sections.h"

static void print_diag(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "%s\n", message);
}

int main(int argc, char **argv)
{
	long n = 10000;
	bool prebuild = true;
	int opt;
	while ((opt = getopt(argc, argv, "n:w")) != -1) {
		switch (opt) {
		case 'n':
			n = atol(optarg);
			break;
		case 'w':
			prebuild = false;
			break;
		default:
			fprintf(stderr, "usage: bench_cdsr_answer [-n N] [-w] [CONFIG]\n");
			return 2;
		}
	}
	const char *path = optind < argc ? argv[optind] : "etc/peercdn.yaml";
	char *text = NULL;
	size_t len = 0;
	pc_config *config = NULL;
	struct pc_config_options opts = {.source = path, .sections = pc_role_sections};
	if (sodium_init() < 0 || pc_file_read(path, &text, &len) != 0 ||
	    pc_config_load(text, len, &opts, print_diag, NULL, &config) != 0) {
		fprintf(stderr, "bench_cdsr_answer: cannot load %s\n", path);
		return 1;
	}
	const pc_model *model = pc_config_model(config);
	pc_live *live = NULL;
	pc_affinity *affinity = NULL;
	pc_cdsr_prebuilt *prebuilt = NULL;
	pc_hosts *hosts = NULL;
	if (pc_live_new(model, &live) != 0 || pc_affinity_new(1 << 16, 300, &affinity) != 0 ||
	    (prebuild &&
	     (pc_cdsr_prebuilt_new(model, &prebuilt) != 0 || pc_hosts_new(model, &hosts) != 0)))
		return 1;

	struct pc_cdsr_request req = {.version = PC_CDSR_VERSION,
	                              .flags = PC_CDSR_F_HINTS,
	                              .nonce = 1,
	                              .url = "http://abc.cdn.acme.net/www.abc.com/x",
	                              .family = PC_AF_INET};
	req.url_len = (uint16_t)strlen(req.url);
	uint8_t wire[PC_CDSR_REQUEST_MAX], out[PC_CDSR_REQUEST_MAX];
	int wire_len = pc_cdsr_request_write(&req, 512, wire, sizeof(wire));
	pc_addr client;
	if (wire_len <= 0 || pc_addr_parse("127.2.0.10", &client) != 0)
		return 1;
	struct pc_answer_ctx ctx = {.model = model,
	                            .live = live,
	                            .affinity = affinity,
	                            .hosts = hosts,
	                            .node = model->self_node,
	                            .source = client,
	                            .now_ms = 1764000000000ULL};
	struct pc_cdsr_query query = {wire, (size_t)wire_len, prebuilt};
	unsigned long branches[5] = {0};
	size_t bytes = 0;
	for (long i = 0; i < n; i++) {
		struct pc_cdsr_result res;
		ctx.now_ms += 2;
		bytes += pc_cdsr_answer(&ctx, &query, out, sizeof(out), &res);
		branches[res.decided && res.decision.branch < 4 ? res.decision.branch : 4]++;
	}
	printf("answers %ld bytes %zu PRIMARY %lu PEER %lu OUTSIDE %lu other %lu prebuilt %s\n", n,
	       bytes, branches[1], branches[2], branches[3], branches[0] + branches[4],
	       prebuild ? "yes" : "no");
	pc_cdsr_prebuilt_free(prebuilt);
	pc_hosts_free(hosts);
	pc_affinity_free(affinity);
	pc_live_free(live);
	pc_config_free(config);
	free(text);
	return branches[2] == (unsigned long)n ? 0 : 1;
}

/* peercdnctl: the operator's command-line tool.
 *
 *   peercdnctl check FILE             check a config, exit 0 (good) or 1
 *   peercdnctl keys                   print every config key (docs/config.md)
 *   peercdnctl explain [options] NAME-or-URL
 *                                     print a policy decision and why
 *   peercdnctl name [options]         make (signed, encrypted) names
 *   peercdnctl prefill [--channel] --edge ADDR:PORT... URL...
 *                                     have edges fetch objects before clients ask
 *   peercdnctl [-S SOCKET] status|servers|reload|load|drain|undrain|push ...
 *                                     ask a running peercdnd (control.c)
 *
 * See peercdnctl(8) and docs/. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ctl/control.h"
#include "ctl/explain.h"
#include "ctl/prefill.h"
#include "ctl/reports.h"
#include "lib/base/err.h"
#include "lib/model/config.h"
#include "lib/model/live.h"
#include "lib/model/schema.h"
#include "lib/naming/naming.h"
#include "lib/policy/policy.h"
#include "lib/proto/sections.h"

static void usage(FILE *out)
{
	fputs("usage: peercdnctl check FILE\n"
	      "       peercdnctl keys\n"
	      "       peercdnctl explain [--config FILE] --client ADDR [--node NAME]\n"
	      "                          [--prefer CDN] [--avoid SERVER]... [--family 4|6]\n"
	      "                          [--answers N] [--load SERVER=N]... [--down SERVER]...\n"
	      "                          [--holds SERVER]... [--offer OFFER]... NAME-or-URL\n"
	      "       peercdnctl name [--config FILE] --provider NAME --object TEXT\n"
	      "                       [--service NAME] [--cdn NAME] [--sign] [--encrypt]\n"
	      "       peercdnctl prefill [--channel] --edge ADDR:PORT [--edge ADDR:PORT]...\n"
	      "                          [--timeout S] URL... (- reads URLs from stdin)\n"
	      "       peercdnctl reports [--path DIR] [--provider NAME] [--since TIME] [--json]\n"
	      "       peercdnctl [-S SOCKET] status|servers|reload\n"
	      "       peercdnctl [-S SOCKET] load SERVER N | drain SERVER | undrain SERVER\n"
	      "       peercdnctl [-S SOCKET] push FILE (- : stdin)\n"
	      "Without --config the embedded default federation is used.\n"
	      "explain --load SERVER=N sets the server's load to N in its capacity units\n"
	      "(servers[].capacity: N >= capacity is overloaded); --down marks it down;\n"
	      "--holds says the server holds the object (a replica: preferred in the band);\n"
	      "--offer CDN:SERVICES[:CAPACITY[:ASN,...]] is what a peer CDN offers ours\n"
	      "(claim 9): services (comma list, - for none), capacity in load units\n"
	      "(default unlimited), footprint ASNs (default: any client).\n",
	      out);
}

static void print_diag(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "%s\n", message);
}

/* Loads FILE, or the embedded default when path is NULL, with every role's
 * section (so `check` checks them too). Diagnostics go to stderr. */
static pc_config *load_config(const char *path)
{
	struct pc_config_options opts = {.sections = pc_role_sections};
	pc_config *config = NULL;
	pc_config_load_path(path, &opts, print_diag, NULL, &config);
	return config;
}

static int cmd_check(int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	pc_config *config = load_config(argv[1]);
	if (config == NULL) {
		fprintf(stderr, "%s: config rejected\n", argv[1]);
		return 1;
	}
	const pc_model *model = pc_config_model(config);
	printf("%s: ok: %" PRIu32 " CDNs, %" PRIu32 " ASes, %" PRIu32 " client networks, "
	       "%" PRIu32 " providers, %" PRIu32 " agreements, %" PRIu32 " servers, "
	       "%" PRIu32 " nodes\n",
	       argv[1], model->n_cdns, model->n_ases, model->n_client_nets, model->n_providers,
	       model->n_agreements, model->n_servers, model->n_nodes);
	pc_config_free(config);
	return 0;
}

/* ---- keys: the schema as docs/config.md's tables ---- */

static void print_row(const char *key, const char *type, const char *dflt, const char *help)
{
	bool has_help = help != NULL && *help != '\0';
	printf("| `%s` | %s | %s |%s%s |\n", key, type, dflt, has_help ? " " : "",
	       has_help ? help : "");
}

static void print_item(const struct pc_item *item)
{
	char type[256], dflt[256];
	pc_item_type_text(item, type, sizeof(type));
	pc_item_default_text(item, dflt, sizeof(dflt));
	print_row(item->key, type, dflt, item->help);
}

static void print_head(int level, const char *path)
{
	printf("\n%s `%s`\n\n| key | type | default | meaning |\n|---|---|---|---|\n",
	       level == 0 ? "##" : "###", path);
}

static void print_tables(const struct pc_item *table, const char *path, int level);

/* The tables under the items of table (whose path is path). */
static void print_nested(const struct pc_item *table, const char *path, int level)
{
	char sub[256];
	for (const struct pc_item *item = table; item->key != NULL; item++) {
		if (item->flags & PC_ITEM_ROLE_KEYS) {
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", item->key);
			print_head(level, sub);
			for (unsigned s = 0; pc_role_sections[s] != NULL; s++) {
				if (!pc_role_sections[s]->anycast)
					continue;
				char help[128];
				snprintf(help, sizeof(help),
				         "the CDN's anycast addresses of the `%s` role",
				         pc_role_sections[s]->name);
				print_row(pc_role_sections[s]->name, "list of addresses", "none",
				          help);
			}
		} else if (item->items != NULL) {
			snprintf(sub, sizeof(sub), "%s%s%s%s", path, *path ? "." : "", item->key,
			         item->type == PC_ITEM_LIST ? "[]" : "");
			print_tables(item->items, sub, level);
		}
	}
}

static void print_tables(const struct pc_item *table, const char *path, int level)
{
	print_head(level, path);
	for (const struct pc_item *item = table; item->key != NULL; item++)
		print_item(item);
	print_nested(table, path, level + 1);
}

static int cmd_keys(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	/* The top level: the federation's keys, then one per role section. */
	printf("## Top level\n\n| key | type | default | meaning |\n|---|---|---|---|\n");
	for (const struct pc_item *item = pc_config_items; item->key != NULL; item++)
		print_item(item);
	for (unsigned s = 0; pc_role_sections[s] != NULL; s++)
		print_row(pc_role_sections[s]->name, "mapping", "see below",
		          pc_role_sections[s]->help);
	print_nested(pc_config_items, "", 0);
	for (unsigned s = 0; pc_role_sections[s] != NULL; s++)
		print_tables(pc_role_sections[s]->items, pc_role_sections[s]->name, 0);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *signature_desc(enum pc_sig_state state)
{
	return state == PC_SIG_VALID ? "valid" : state == PC_SIG_INVALID ? "INVALID" : "absent";
}

static uint32_t need(uint32_t index, const char *what, const char *name)
{
	if (index == PC_NONE)
		fprintf(stderr, "unknown %s \"%s\"\n", what, name);
	return index;
}

struct explain_opts {
	const char *config, *client, *node, *prefer;
	const char *avoid[PC_MAX_AVOID];
	unsigned n_avoid;
	const char *load[64], *down[64], *holds[64], *offer[64];
	unsigned n_load, n_down, n_holds, n_offer;
	int family;
	unsigned answers;
};

/* --load and --down turn the static demo into "what if": a full server, a
 * dead one, and watch the decision move. */
static int apply_live(const pc_model *model, pc_live *live, const struct explain_opts *o)
{
	for (unsigned i = 0; i < o->n_load; i++) {
		const char *eq = strchr(o->load[i], '=');
		char name[128];
		if (eq == NULL || (size_t)(eq - o->load[i]) >= sizeof(name)) {
			fprintf(stderr, "--load wants SERVER=LOAD, got \"%s\"\n", o->load[i]);
			return -1;
		}
		memcpy(name, o->load[i], (size_t)(eq - o->load[i]));
		name[eq - o->load[i]] = '\0';
		uint32_t server = need(pc_model_server(model, name), "server", name);
		char *end;
		unsigned long load = strtoul(eq + 1, &end, 10);
		if (server == PC_NONE || *end != '\0' || load > UINT32_MAX)
			return -1;
		pc_live_set_load(live, server, (uint32_t)load);
	}
	for (unsigned i = 0; i < o->n_down; i++) {
		uint32_t server = need(pc_model_server(model, o->down[i]), "server", o->down[i]);
		if (server == PC_NONE)
			return -1;
		pc_live_set_health(live, server, PC_HEALTH_DOWN);
	}
	return 0;
}

/* --holds SERVER: the server holds the object (a replica, as its edge
 * reports after a fill or a pre-fill), so the decision shows the
 * preference for it. */
static int apply_holders(const pc_model *model, pc_live *live, const struct explain_opts *o,
                         const pc_name *name, uint64_t now)
{
	uint64_t key = pc_live_object_key(name->object, name->object_len);
	for (unsigned i = 0; i < o->n_holds; i++) {
		uint32_t server = need(pc_model_server(model, o->holds[i]), "server", o->holds[i]);
		if (server == PC_NONE)
			return -1;
		pc_live_replica_add(live, key, server, now);
	}
	return 0;
}

/* --offer CDN:SERVICES[:CAPACITY[:ASN,...]]: a peer CDN's offer (claim 9)
 * as the overlay would have brought it, received now. */
static int apply_offer(const pc_model *model, pc_live *live, const char *spec, uint64_t now)
{
	char text[1024];
	uint32_t ases[256], n_ases = 0;
	snprintf(text, sizeof(text), "%s", spec);
	char *save = NULL, *cdn_name = strtok_r(text, ":", &save);
	char *services = strtok_r(NULL, ":", &save);
	char *capacity = strtok_r(NULL, ":", &save), *footprint = strtok_r(NULL, ":", &save);
	if (cdn_name == NULL || services == NULL) {
		fprintf(stderr, "--offer wants CDN:SERVICES[:CAPACITY[:ASN,...]], got \"%s\"\n",
		        spec);
		return -1;
	}
	uint32_t cdn = need(pc_model_cdn(model, cdn_name), "CDN", cdn_name);
	if (cdn == PC_NONE)
		return -1;
	struct pc_live_offer offer = {.version = now, .capacity = UINT64_MAX};
	char *item_save = NULL;
	for (char *v = strtok_r(services, ",", &item_save); v != NULL && strcmp(v, "-") != 0;
	     v = strtok_r(NULL, ",", &item_save)) {
		uint32_t service = need(pc_model_service(model, v), "service", v);
		if (service == PC_NONE || service >= 64)
			return -1;
		offer.services |= UINT64_C(1) << service;
	}
	char *end = NULL;
	if (capacity != NULL && ((offer.capacity = strtoull(capacity, &end, 10)), *end != '\0')) {
		fprintf(stderr, "--offer: capacity is a number of load units, got \"%s\"\n",
		        capacity);
		return -1;
	}
	offer.footprint = footprint != NULL;
	for (char *a = footprint != NULL ? strtok_r(footprint, ",", &item_save) : NULL; a != NULL;
	     a = strtok_r(NULL, ",", &item_save)) {
		unsigned long asn = strtoul(a, &end, 10);
		uint32_t as = *end == '\0' && asn <= UINT32_MAX
		                  ? pc_model_as_by_asn(model, (uint32_t)asn)
		                  : PC_NONE;
		if (as == PC_NONE || n_ases == sizeof(ases) / sizeof(ases[0])) {
			fprintf(stderr, "--offer: unknown AS \"%s\"\n", a);
			return -1;
		}
		ases[n_ases++] = as;
	}
	return pc_live_offer_set(live, cdn, &offer, ases, n_ases, now) == PC_OK ? 0 : -1;
}

static int build_request(const pc_model *model, const struct explain_opts *o, pc_request *req)
{
	pc_request_init(req);
	if (o->client != NULL && pc_addr_parse(o->client, &req->client) != PC_OK) {
		fprintf(stderr, "--client: not an IPv4 or IPv6 address: \"%s\"\n", o->client);
		return -1;
	}
	req->node = model->self_node;
	if (o->node != NULL &&
	    (req->node = need(pc_model_node(model, o->node), "node", o->node)) == PC_NONE)
		return -1;
	if (o->prefer != NULL && (req->preferred_cdn = need(pc_model_cdn(model, o->prefer), "CDN",
	                                                    o->prefer)) == PC_NONE)
		return -1;
	for (unsigned i = 0; i < o->n_avoid; i++) {
		req->avoid[i] = need(pc_model_server(model, o->avoid[i]), "server", o->avoid[i]);
		if (req->avoid[i] == PC_NONE)
			return -1;
	}
	req->n_avoid = o->n_avoid;
	req->family = (uint8_t)o->family;
	req->max_answers = o->answers;
	req->now_ms = now_ms();
	return 0;
}

static int cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"client", required_argument, NULL, 'a'},
	    {"node", required_argument, NULL, 'n'},
	    {"prefer", required_argument, NULL, 'p'},
	    {"avoid", required_argument, NULL, 'v'},
	    {"family", required_argument, NULL, 'f'},
	    {"answers", required_argument, NULL, 'k'},
	    {"load", required_argument, NULL, 'l'},
	    {"down", required_argument, NULL, 'd'},
	    {"holds", required_argument, NULL, 'H'},
	    {"offer", required_argument, NULL, 'O'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct explain_opts o = {.answers = 1};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:a:n:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o.config = optarg;
			break;
		case 'a':
			o.client = optarg;
			break;
		case 'n':
			o.node = optarg;
			break;
		case 'p':
			o.prefer = optarg;
			break;
		case 'v':
			if (o.n_avoid == PC_MAX_AVOID) {
				fprintf(stderr, "at most %d --avoid\n", PC_MAX_AVOID);
				return 2;
			}
			o.avoid[o.n_avoid++] = optarg;
			break;
		case 'f':
			o.family = atoi(optarg);
			break;
		case 'k':
			o.answers = (unsigned)atoi(optarg);
			break;
		case 'l':
			if (o.n_load < 64)
				o.load[o.n_load++] = optarg;
			break;
		case 'd':
			if (o.n_down < 64)
				o.down[o.n_down++] = optarg;
			break;
		case 'H':
			if (o.n_holds < 64)
				o.holds[o.n_holds++] = optarg;
			break;
		case 'O':
			if (o.n_offer < 64)
				o.offer[o.n_offer++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (o.family != 0 && o.family != 4 && o.family != 6) ||
	    o.answers < 1 || o.answers > PC_MAX_ANSWERS) {
		usage(stderr);
		return 2;
	}
	const char *target = argv[optind];
	pc_config *config = load_config(o.config);
	if (config == NULL)
		return 1;
	const pc_model *model = pc_config_model(config);
	int status = 1;
	pc_live *live = NULL;
	pc_url url;
	pc_name *name = &url.name;
	bool is_url = strstr(target, "://") != NULL;
	int rc = is_url ? pc_url_parse(model, target, strlen(target), &url)
	                : pc_name_parse(model, target, strlen(target), name);
	if (rc != PC_OK) {
		fprintf(stderr, "%s: %s\n", target, pc_strerror(rc));
		goto out;
	}
	pc_request req;
	if (pc_live_new(model, &live) != PC_OK || apply_live(model, live, &o) != 0 ||
	    build_request(model, &o, &req) != 0 ||
	    apply_holders(model, live, &o, name, req.now_ms) != 0)
		goto out;
	for (unsigned i = 0; i < o.n_offer; i++)
		if (apply_offer(model, live, o.offer[i], req.now_ms) != 0)
			goto out;
	req.provider = name->provider;
	req.service = name->service;
	req.object = name->object;
	req.object_len = name->object_len;

	pc_decision decision;
	static pc_trace trace;
	rc = pc_policy_decide(model, live, &req, &decision, &trace);
	struct explain_input input = {
	    .target = target,
	    .is_url = is_url,
	    .object_desc = name->object,
	    .signature_desc = signature_desc(name->signature),
	    .encrypted = name->encrypted,
	    .now_ms = req.now_ms,
	};
	explain_print(stdout, model, &input, &req, rc, &decision, &trace);
	if (!pc_name_signature_ok(model, name))
		printf("warning   provider %s requires a valid signature: a redirector refuses "
		       "this name\n",
		       model->providers[name->provider].name);
	status = rc == PC_OK ? 0 : 1;
out:
	pc_live_free(live);
	pc_config_free(config);
	return status;
}

static int cmd_name(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"provider", required_argument, NULL, 'p'},
	    {"service", required_argument, NULL, 's'},
	    {"object", required_argument, NULL, 'o'},
	    {"cdn", required_argument, NULL, 'd'},
	    {"sign", no_argument, NULL, 'S'},
	    {"encrypt", no_argument, NULL, 'E'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *provider_name = NULL, *service_name = NULL, *object = NULL,
	           *cdn_name = NULL;
	bool sign = false, encrypt = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			provider_name = optarg;
			break;
		case 's':
			service_name = optarg;
			break;
		case 'o':
			object = optarg;
			break;
		case 'd':
			cdn_name = optarg;
			break;
		case 'S':
			sign = true;
			break;
		case 'E':
			encrypt = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || provider_name == NULL || object == NULL) {
		usage(stderr);
		return 2;
	}
	pc_config *loaded = load_config(config);
	if (loaded == NULL)
		return 1;
	const pc_model *model = pc_config_model(loaded);
	int status = 1;
	uint32_t provider =
	    need(pc_model_provider(model, provider_name), "provider", provider_name);
	uint32_t service = model->default_service;
	if (service_name != NULL)
		service = need(pc_model_service(model, service_name), "service", service_name);
	uint32_t cdn = PC_NONE;
	if (cdn_name != NULL)
		cdn = need(pc_model_cdn(model, cdn_name), "CDN", cdn_name);
	else if (provider != PC_NONE && model->providers[provider].primary_cdns.count > 0)
		cdn = model->providers[provider].primary_cdns.items[0];
	if (provider == PC_NONE || service == PC_NONE || cdn == PC_NONE)
		goto out;
	uint8_t nonce[8];
	randombytes_buf(nonce, sizeof(nonce));
	char out_name[PC_NAME_MAX + 1];
	int rc = pc_name_make(model, provider, cdn, service, object, sign, encrypt, nonce, out_name,
	                      sizeof(out_name));
	if (rc < 0) {
		fprintf(stderr, "cannot make the name: %s\n", pc_strerror(rc));
		goto out;
	}
	printf("%s\n", out_name);
	status = 0;
out:
	pc_config_free(loaded);
	return status;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fputs("peercdnctl: libsodium failed to initialise\n", stderr);
		return 1;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "keys") == 0)
		return cmd_keys(argc - 1, argv + 1);
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	if (strcmp(cmd, "name") == 0)
		return cmd_name(argc - 1, argv + 1);
	if (strcmp(cmd, "prefill") == 0)
		return prefill_main(argc - 1, argv + 1);
	if (strcmp(cmd, "reports") == 0)
		return reports_main(argc - 1, argv + 1);
	/* peercdnctl -S SOCKET CMD ...: the socket before the command too. */
	if ((strcmp(cmd, "-S") == 0 || strcmp(cmd, "--socket") == 0) && argc >= 4 &&
	    control_is_command(argv[3])) {
		char *args[argc];
		int n = 0;
		args[n++] = argv[3];
		args[n++] = argv[1];
		args[n++] = argv[2];
		for (int i = 4; i < argc; i++)
			args[n++] = argv[i];
		return control_main(n, args);
	}
	if (control_is_command(cmd))
		return control_main(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "peercdnctl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}

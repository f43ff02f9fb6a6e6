/* dns_settings: the "dns" section's keys, defaults and rules. */
#include "lib/proto/dns_settings.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/base/err.h"

_Static_assert(offsetof(struct pc_dns_params, decoy6) ==
                   offsetof(struct pc_dns_params, decoy4) + sizeof(pc_addr),
               "decoy is read as one PC_ITEM_FAMILY2 pair");

#define MAX_TTL 2147483647u /* RFC 2181 §8 */

static const char *const sig_failures[] = {"refuse", "decoy", NULL};

// clang-format off
static const struct pc_item rrl_items[] = {
	PC_UINT("rate",        pc_dns_params, rrl_rate,    0, 10000000, 0,  NULL,
	        "responses per second per client prefix; 0 = off"),
	PC_UINT("slip",        pc_dns_params, rrl_slip,    0, 10,       2,  NULL,
	        "every Nth limited response is sent truncated (TC); 0 = none"),
	PC_UINT("ipv4_prefix", pc_dns_params, rrl_prefix4, 0, 32,       24, NULL,
	        "how client IPv4 addresses are grouped"),
	PC_UINT("ipv6_prefix", pc_dns_params, rrl_prefix6, 0, 128,      56, NULL, "same for IPv6"),
	PC_END,
};

static const struct pc_item xdp_items[] = PC_XDP_ITEMS(pc_dns_params, xdp);

static const struct pc_item dns_items[] = {
	PC_BOOL("enabled", pc_dns_params, enabled, true, "run the DNS role"),
	PC_ADDRS("listen", pc_dns_params, listen, "",
	         .default_doc = "the DNS anycast addresses of self's CDNs"),
	PC_UINT("port",                pc_dns_params, port,          1,   UINT16_MAX, 53,   NULL,
	        ""),
	PC_UINT("workers",             pc_dns_params, workers,       0,   1024,       0,    NULL,
	        "worker threads, and as many UDP threads per DNS and CDSR listen address; 0 = one per core"),
	/* DNS flag day 2020: no IP fragmentation. */
	PC_UINT("edns_payload",        pc_dns_params, edns_payload,  512, UINT16_MAX, 1232, NULL,
	        "advertised EDNS payload, also our UDP limit"),
	PC_UINT("max_answers",         pc_dns_params, max_answers,   1, PC_MAX_ANSWERS, 1,  NULL,
	        "addresses per A/AAAA answer"),
	PC_MS("tcp_idle_timeout_ms",   pc_dns_params, tcp_idle_ms,   1,   3600000,    10000,
	      "idle TCP connections are closed"),
	PC_UINT("tcp_max_clients",     pc_dns_params, tcp_max_clients,    1, 1000000, 1024, NULL,
	        "TCP connections per worker"),
	PC_UINT("tcp_max_per_source",  pc_dns_params, tcp_max_per_source, 1, 1000000, 16,   NULL,
	        "concurrent TCP connections per client address"),
	PC_ENUM("bad_signature", pc_dns_params, sig_failure, sig_failures, PC_SIG_FAIL_REFUSE,
	        "answer to a name whose required signature is bad"),
	PC_FAMILY2("decoy", pc_dns_params, decoy4, "the decoy answer (required by `decoy`)",
	           .flags = PC_ITEM_NONEMPTY),
	PC_SECTION("rrl", rrl_items, "response rate limiting"),
	PC_SECTION("xdp", xdp_items, "UDP queries over AF_XDP"),
	PC_HOST("hostmaster", pc_dns_params, hostmaster, "SOA RNAME",
	        .default_doc = "`hostmaster.<domain of self's first CDN>`"),
	PC_UINT("soa_serial",   pc_dns_params, soa_serial,  0, UINT32_MAX,  0, NULL, "SOA serial",
	        .default_doc = "0 = load time"),
	PC_UINT("negative_ttl", pc_dns_params, soa_minimum, 0, MAX_TTL, 0, "s",
	        "SOA minimum: TTL of negative answers"),
	PC_END,
};
// clang-format on

static const char *dns_check(const void *settings)
{
	const struct pc_dns_params *dns = settings;
	if (dns->sig_failure == PC_SIG_FAIL_DECOY && dns->decoy4.family == PC_AF_NONE &&
	    dns->decoy6.family == PC_AF_NONE)
		return "bad_signature decoy needs a decoy address";
	return NULL;
}

/* The SOA contact defaults to hostmaster at the zone of this node's first
 * CDN, or at the first CDN's. */
static int dns_finish(void *settings, const struct pc_section_env *env)
{
	struct pc_dns_params *dns = settings;
	const pc_model *m = env->model;
	if (dns->soa_serial == 0)
		dns->soa_serial = env->load_time_s;
	if (dns->hostmaster != NULL)
		return PC_OK;
	const char *domain = "invalid";
	if (env->self_node != PC_NONE && m->nodes[env->self_node].cdns.count > 0)
		domain = m->cdns[m->nodes[env->self_node].cdns.items[0]].domain;
	else if (m->n_cdns > 0)
		domain = m->cdns[0].domain;
	size_t len = strlen("hostmaster.") + strlen(domain) + 1;
	char *text = pc_arena_alloc(env->arena, len);
	if (text == NULL)
		return PC_ENOMEM;
	snprintf(text, len, "hostmaster.%s", domain);
	dns->hostmaster = text;
	return PC_OK;
}

const struct pc_section pc_dns_section =
    PC_SETTINGS("dns", pc_dns_params, dns_items, true, "the DNS role of this node",
                .check = dns_check, .finish = dns_finish);

const struct pc_dns_params *pc_dns_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_dns_section);
}

/* dns_settings: the "dns" section's keys, defaults and rules. */
#include "lib/proto/dns_settings.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/base/err.h"

#define DNS(field) offsetof(struct pc_dns_params, field)

_Static_assert(DNS(decoy6) == DNS(decoy4) + sizeof(pc_addr),
               "decoy is read as one PC_ITEM_FAMILY2 pair");

static const char *const sig_failures[] = {"refuse", "decoy", NULL};

static const struct pc_item rrl_items[] = {
    {.key = "rate",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = DNS(rrl_rate),
     .max = 10000000,
     .dflt = 0,
     .help = "responses per second per client prefix; 0 = off"},
    {.key = "slip",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = DNS(rrl_slip),
     .max = 10,
     .dflt = 2,
     .help = "every Nth limited response is sent truncated (TC); 0 = none"},
    {.key = "ipv4_prefix",
     .type = PC_ITEM_UINT,
     .size = 1,
     .offset = DNS(rrl_prefix4),
     .max = 32,
     .dflt = 24,
     .help = "how client IPv4 addresses are grouped"},
    {.key = "ipv6_prefix",
     .type = PC_ITEM_UINT,
     .size = 1,
     .offset = DNS(rrl_prefix6),
     .max = 128,
     .dflt = 56,
     .help = "same for IPv6"},
    {0},
};

static const struct pc_item dns_items[] = {
    {.key = "enabled",
     .type = PC_ITEM_BOOL,
     .offset = DNS(enabled),
     .dflt = true,
     .help = "run the DNS role"},
    {.key = "listen",
     .type = PC_ITEM_ADDRS,
     .offset = DNS(listen),
     .default_doc = "the DNS anycast addresses of self's CDNs",
     .help = ""},
    {.key = "port",
     .type = PC_ITEM_UINT,
     .size = 2,
     .offset = DNS(port),
     .min = 1,
     .max = UINT16_MAX,
     .dflt = 53,
     .help = ""},
    {.key = "workers",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = DNS(workers),
     .max = 1024,
     .dflt = 0,
     .help = "threads; 0 = one per core"},
    /* DNS flag day 2020: no IP fragmentation. */
    {.key = "edns_payload",
     .type = PC_ITEM_UINT,
     .size = 2,
     .offset = DNS(edns_payload),
     .min = 512,
     .max = UINT16_MAX,
     .dflt = 1232,
     .help = "advertised EDNS payload, also our UDP limit"},
    {.key = "max_answers",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = DNS(max_answers),
     .min = 1,
     .max = PC_MAX_ANSWERS,
     .dflt = 1,
     .help = "addresses per A/AAAA answer"},
    {.key = "tcp_idle_timeout_ms",
     .type = PC_ITEM_MS,
     .offset = DNS(tcp_idle_ms),
     .min = 1,
     .max = 3600000,
     .dflt = 10000,
     .help = "idle TCP connections are closed"},
    {.key = "tcp_max_clients",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = DNS(tcp_max_clients),
     .min = 1,
     .max = 1000000,
     .dflt = 1024,
     .help = "TCP connections per worker"},
    {.key = "tcp_max_per_source",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = DNS(tcp_max_per_source),
     .min = 1,
     .max = 1000000,
     .dflt = 16,
     .help = "concurrent TCP connections per client address"},
    {.key = "bad_signature",
     .type = PC_ITEM_ENUM,
     .size = 1,
     .offset = DNS(sig_failure),
     .names = sig_failures,
     .dflt = PC_SIG_FAIL_REFUSE,
     .help = "answer to a name whose required signature is bad"},
    {.key = "decoy",
     .type = PC_ITEM_FAMILY2,
     .flags = PC_ITEM_NONEMPTY,
     .offset = DNS(decoy4),
     .help = "the decoy answer (required by `decoy`)"},
    {.key = "rrl", .type = PC_ITEM_SECTION, .items = rrl_items, .help = "response rate limiting"},
    {.key = "hostmaster",
     .type = PC_ITEM_HOST,
     .offset = DNS(hostmaster),
     .default_doc = "`hostmaster.<domain of self's first CDN>`",
     .help = "SOA RNAME"},
    {.key = "soa_serial",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = DNS(soa_serial),
     .max = UINT32_MAX,
     .dflt = 0,
     .default_doc = "0 = load time",
     .help = "SOA serial"},
    {.key = "negative_ttl",
     .type = PC_ITEM_UINT,
     .size = 4,
     .offset = DNS(soa_minimum),
     .max = 2147483647u /* RFC 2181 §8 */,
     .unit = "s",
     .dflt = 0,
     .help = "SOA minimum: TTL of negative answers"},
    {0},
};

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

const struct pc_section pc_dns_section = {
    .name = "dns",
    .items = dns_items,
    .size = sizeof(struct pc_dns_params),
    .anycast = true,
    .help = "the DNS role of this node",
    .check = dns_check,
    .finish = dns_finish,
};

const struct pc_dns_params *pc_dns_settings(const pc_config *config)
{
	return pc_config_settings(config, &pc_dns_section);
}

/* dns_settings: the DNS role's settings (docs/config.md, "dns") and the
 * config section that fills them. The loader knows the section only as
 * data (lib/model/schema.h); peercdnd's DNS role and pc_dns_answer read
 * the struct. */
#ifndef PC_LIB_DNS_SETTINGS_H
#define PC_LIB_DNS_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/model/config.h"
#include "lib/model/model.h"
#include "lib/proto/xdp_listen.h"

/* What the DNS role does with a name whose provider requires a signature
 * when the signature is missing or wrong. */
enum pc_sig_failure { PC_SIG_FAIL_REFUSE = 0, PC_SIG_FAIL_DECOY };

struct pc_dns_params {
	bool enabled;
	struct pc_addr_list listen;  /* empty: the DNS anycast addresses of self's CDNs */
	uint16_t port;               /* 53 */
	uint32_t workers;            /* 0: one per core */
	uint16_t edns_payload;       /* advertised and used as the UDP limit: 1232 */
	uint32_t max_answers;        /* addresses per A/AAAA answer, 1..PC_MAX_ANSWERS */
	uint32_t tcp_idle_ms;        /* idle TCP connections are closed after this */
	uint32_t tcp_max_clients;    /* per worker */
	uint32_t tcp_max_per_source; /* concurrent connections from one address */
	uint8_t sig_failure;         /* enum pc_sig_failure */
	pc_addr decoy4, decoy6;      /* PC_SIG_FAIL_DECOY answers; one key fills both, in order */
	uint32_t rrl_rate;           /* responses per second per client prefix; 0 = off */
	uint32_t rrl_slip;           /* every Nth limited response is sent truncated; 0 = none */
	uint8_t rrl_prefix4, rrl_prefix6;
	const char *hostmaster; /* SOA RNAME, presentation form */
	uint32_t soa_serial;    /* the load time (pc_config_options) when the config has none */
	uint32_t soa_minimum;   /* negative-caching TTL */

	/* UDP over AF_XDP on these interfaces (node/xdp.c). */
	struct pc_xdp_params xdp;
};

extern const struct pc_section pc_dns_section;

/* The settings of a config loaded with pc_dns_section, or NULL. */
const struct pc_dns_params *pc_dns_settings(const pc_config *config);

#endif

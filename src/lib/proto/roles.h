/* roles: the roles a node can run, one line each. X(name) stands for the
 * role's config section, pc_<name>_section (lib/proto/<...>_settings.c),
 * and for its room in the daemon, pcd_role_<name> (src/node/<...>.c). Both
 * lists are made from this one line: the loader's sections (sections.c,
 * for peercdnctl, tests and fuzz targets) and the daemon's role table
 * (src/node/roles.c), where a role's place here is its slot. */
#ifndef PC_LIB_ROLES_H
#define PC_LIB_ROLES_H

#define PC_ROLES(X)                                                                                \
	X(dns)       /* APAR-DNS over UDP, TCP and XDP: dns_settings.c, node/dns.c */              \
	X(cdsr)      /* the CDSR responder: cdsr_settings.c, node/cdsr.c */                        \
	X(http)      /* the HTTP redirector: stream_settings.c, node/stream.c */                   \
	X(rtsp)      /* the RTSP redirector: stream_settings.c, node/stream.c */                   \
	X(edge)      /* the edge server (HTTP cache): edge_settings.c, node/edge*.c */             \
	X(icp)       /* ICP for legacy caches: icp_settings.c, node/icp.c */                       \
	X(directory) /* the directory: directory_settings.c, node/directory.c */                   \
	X(health)    /* probes into the live state: health_settings.c, node/health.c */            \
	X(reports)   /* the provider-report store: reports_settings.c, node/reports.c */           \
	X(overlay)   /* virtual links, routing, channels: overlay_settings.c, node/overlay.c */

#endif

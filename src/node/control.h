/* control: the operator's commands on this node (docs/control.md) —
 * status, servers, load, drain, undrain, push, reload — as functions. The
 * control socket (control_socket.c) calls them for peercdnctl; the overlay
 * will call the same ones when it brings a push or a drain from another
 * node of the CDN. Any thread may call them: each takes
 * node->reload_lock (so none slips between a reload's carry of the live
 * state and its swap) and none may be called by an online RCU reader.
 * Each writes its answer's lines (never an empty one) to out, and returns
 * 0 or a negative code: PC_ENOENT (no such server), PC_ECONFIG (the
 * config has errors, one line each in out: the old generation keeps
 * serving), or what the file system said. */
#ifndef PC_NODE_CONTROL_H
#define PC_NODE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/node.h"

/* version, pid, uptime, config generation and load time, roles, workers. */
int pcd_control_status(struct pcd_node *node, FILE *out);
/* One line per server of the model: its CDN, health, drained, load and
 * capacity as the live state holds them. */
int pcd_control_servers(struct pcd_node *node, FILE *out);
/* Sets a server's load (load units, as servers[].capacity). The health
 * role republishes the load of the node's own edge servers every second. */
int pcd_control_load(struct pcd_node *node, const char *server, uint32_t load, FILE *out);
/* drain: the server gets no new answers (health DRAINING, which health
 * checks never undo and a reload carries); !drain: back to UP, after which
 * the next health probe says DOWN again if it is down. */
int pcd_control_drain(struct pcd_node *node, const char *server, bool drain, FILE *out);
/* A new config (len bytes of YAML), applied as a reload is: validated
 * whole, kept (written over the config file), swapped in atomically as the
 * next generation; or refused whole. */
int pcd_control_push(struct pcd_node *node, const char *text, size_t len, FILE *out);
/* The config reloaded from where it comes from, as SIGHUP does. */
int pcd_control_reload(struct pcd_node *node, FILE *out);

#endif

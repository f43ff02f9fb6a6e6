/* role: the rooms' lifetimes, walked over the table of roles.c for
 * main.c, and what every role's file would otherwise write again
 * (listen addresses, counters summed over workers). See node/role.h. */
#include "node/role.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/policy/policy.h"
#include "node/log.h"
#include "node/net.h"
#include "node/node.h"

void pcd_rooms_init(struct pcd_node *node)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++)
		node->rooms[r] = (struct pcd_room){.role = pcd_roles[r], .slot = r, .node = node};
}

bool pcd_role_enabled(size_t slot, const struct pcd_generation *gen)
{
	return pcd_roles[slot]->listen(gen->settings[slot]).enabled;
}

bool pcd_rooms_any_enabled(const struct pcd_generation *gen)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++)
		if (pcd_role_enabled(r, gen))
			return true;
	return false;
}

unsigned pcd_roles_check_host(const pc_config *config, const char *source, FILE *out)
{
	unsigned problems = 0;
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		const void *settings = pc_config_settings(config, pcd_roles[r]->settings);
		if (pcd_roles[r]->check_host != NULL && settings != NULL)
			problems += pcd_roles[r]->check_host(settings, source, out);
	}
	return problems;
}

int pcd_rooms_start(struct pcd_node *node)
{
	const struct pcd_generation *gen = pcd_node_generation(node);
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		struct pcd_room *room = &node->rooms[r];
		if (!pcd_role_enabled(r, gen))
			continue;
		int err = room->role->start != NULL ? room->role->start(room) : 0;
		if (err != 0)
			return err;
		room->started = true;
	}
	return 0;
}

int pcd_rooms_open(struct pcd_node *node, struct pcd_worker *worker)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		const struct pcd_room *room = &node->rooms[r];
		if (!room->started)
			continue;
		/* Cache-line aligned: a state may keep a copy of its counters
		 * per thread (counter_copies), each on lines of its own. */
		size_t size = (room->role->state_size + 63) & ~(size_t)63;
		worker->role_state[r] = aligned_alloc(64, size);
		if (worker->role_state[r] == NULL)
			return -ENOMEM;
		memset(worker->role_state[r], 0, size);
		int err = room->role->open(room, worker, worker->role_state[r]);
		if (err != 0)
			return err;
	}
	return 0;
}

void pcd_rooms_leave(struct pcd_node *node)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		const struct pcd_room *room = &node->rooms[r];
		if (room->started && room->role->leave != NULL)
			room->role->leave(room);
	}
}

bool pcd_rooms_left(struct pcd_node *node)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		const struct pcd_room *room = &node->rooms[r];
		if (room->started && room->role->left != NULL && !room->role->left(room))
			return false;
	}
	return true;
}

void pcd_rooms_close(struct pcd_node *node, struct pcd_worker *worker)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		if (worker->role_state[r] != NULL)
			node->rooms[r].role->close(&node->rooms[r], worker->role_state[r]);
		free(worker->role_state[r]);
		worker->role_state[r] = NULL;
	}
}

void pcd_rooms_stop(struct pcd_node *node)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		struct pcd_room *room = &node->rooms[r];
		if (room->started && room->role->stop != NULL)
			room->role->stop(room);
		room->started = false;
	}
}

int pcd_rooms_generation_new(struct pcd_node *node, struct pcd_generation *gen)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		const struct pcd_room *room = &node->rooms[r];
		if (room->role->generation_new == NULL)
			continue;
		int err = room->role->generation_new(room, gen, &gen->role_state[r]);
		if (err != 0)
			return err;
	}
	return 0;
}

void pcd_rooms_generation_free(struct pcd_generation *gen)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++)
		if (gen->role_state[r] != NULL && pcd_roles[r]->generation_free != NULL)
			pcd_roles[r]->generation_free(gen->role_state[r]);
}

bool pcd_rooms_need_restart(const struct pcd_generation *old, const struct pcd_generation *fresh)
{
	for (size_t r = 0; pcd_roles[r] != NULL; r++) {
		const struct pcd_role *role = pcd_roles[r];
		struct pcd_listen a = role->listen(old->settings[r]);
		struct pcd_listen b = role->listen(fresh->settings[r]);
		if (a.enabled != b.enabled || a.port != b.port ||
		    !pcd_same_addrs(a.addrs, b.addrs) ||
		    (role->needs_restart != NULL &&
		     role->needs_restart(old->settings[r], fresh->settings[r])))
			return true;
	}
	return false;
}

unsigned pcd_room_listen_addresses(const struct pcd_room *room, const struct pcd_generation *gen,
                                   pc_addr *out, unsigned max, uint16_t *port)
{
	const char *name = room->role->name;
	struct pcd_listen listen = room->role->listen(pcd_room_settings(room, gen));
	*port = listen.port;
	unsigned n = pcd_listen_addresses(gen->model, listen.addrs, name, out, max);
	if (n == 0)
		pcd_log(PCD_LOG_ERROR, "no-listen",
		        "role=%s hint=\"set %s.listen or the anycast %s addresses of the node's "
		        "CDNs\"",
		        name, name, name);
	return n;
}

uint64_t pcd_role_counter_sum(const struct pcd_room *room, size_t offset)
{
	const struct pcd_node *node = room->node;
	uint64_t total = 0;
	for (unsigned w = 0; w < node->n_workers; w++) {
		const char *state = node->workers[w].role_state[room->slot];
		if (state == NULL)
			continue;
		unsigned copies = room->role->counter_copies ? room->role->counter_copies : 1;
		for (unsigned c = 0; c < copies; c++)
			total += atomic_load_explicit(
			    (const _Atomic uint64_t *)(state + offset +
			                               c * room->role->counter_stride),
			    memory_order_relaxed);
	}
	return total;
}

void pcd_role_metrics_responses(FILE *out, const struct pcd_room *room, const char *help,
                                const char *label, pcd_label_fn value, unsigned n, size_t offset)
{
	const char *role = room->role->name;
	fprintf(out,
	        "# HELP peercdn_%s_responses_total %s\n"
	        "# TYPE peercdn_%s_responses_total counter\n",
	        role, help, role);
	for (unsigned i = 0; i < n; i++) {
		char buf[16];
		fprintf(out, "peercdn_%s_responses_total{%s=\"%s\"} %llu\n", role, label,
		        value(i, buf, sizeof(buf)),
		        (unsigned long long)pcd_role_counter_sum(
		            room, offset + (size_t)i * sizeof(_Atomic uint64_t)));
	}
}

void pcd_role_metrics_counters(FILE *out, const struct pcd_room *room, const char *const names[],
                               int n, size_t offset)
{
	const char *role = room->role->name;
	for (int c = 0; c < n; c++)
		fprintf(out, "# TYPE peercdn_%s_%s_total counter\npeercdn_%s_%s_total %llu\n", role,
		        names[c], role, names[c],
		        (unsigned long long)pcd_role_counter_sum(
		            room, offset + (size_t)c * sizeof(_Atomic uint64_t)));
}

void pcd_role_metrics_common(FILE *out, const struct pcd_room *room, const char *what,
                             size_t branches_offset, const char *const names[], int n,
                             size_t misc_offset)
{
	const char *role = room->role->name;
	fprintf(out,
	        "# HELP peercdn_%s_decisions_total Policy decisions made for %s.\n"
	        "# TYPE peercdn_%s_decisions_total counter\n",
	        role, what, role);
	for (int b = PC_BRANCH_PRIMARY; b <= PC_BRANCH_OUTSIDE; b++)
		fprintf(out, "peercdn_%s_decisions_total{branch=\"%s\"} %llu\n", role,
		        pc_branch_name((enum pc_branch)b),
		        (unsigned long long)pcd_role_counter_sum(
		            room, branches_offset + (size_t)b * sizeof(_Atomic uint64_t)));
	pcd_role_metrics_counters(out, room, names, n, misc_offset);
}

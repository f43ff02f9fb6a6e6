/* reports: the node's store of provider reports (claim 3, docs/reports.md).
 * Every PEER and OUTSIDE answer that sends a client to a server becomes a
 * record (lib/policy/report: the line; lib/policy/report_log: the frame),
 * queued by the answering thread without blocking and appended by one
 * writer thread to checksummed, rotated segment files in the configured
 * directory. A role (pcd_role_reports) without sockets: its start opens
 * the store and puts it in node->reports, its stop drains and closes it.
 *
 * The overlay (issue 11) carries records to the provider's primary CDN
 * through the two hooks below: pcd_reports_set_shipper to hear of every
 * record made here once it is on disk, pcd_reports_receive to store a
 * record another node made (stored once, whatever the overlay repeats). */
#ifndef PC_NODE_REPORTS_H
#define PC_NODE_REPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/policy/answer.h"

struct pcd_reports;

/* pc_answer_report_fn for pc_answer_ctx.report, arg the store: formats the
 * record and queues it. Never blocks: when the queue is full the record is
 * dropped and counted (peercdn_reports_dropped_total). Any thread. */
void pcd_reports_decision(void *arg, const struct pc_answer_ctx *ctx, const pc_request *req,
                          const pc_decision *decision);

/* Queues a record made by another node (origin, its serial there, the
 * line). The writer stores it unless a record of origin with a serial at
 * least as high is stored already (a repeat: counted as a duplicate), so
 * the caller must hand one origin's records over in serial order, which
 * an overlay channel does (sequence-numbered, nothing twice). Returns 0,
 * -ENOSPC when dropped (queue full), -EINVAL for a malformed record. Any
 * thread; never blocks on the disk. */
int pcd_reports_receive(struct pcd_reports *reports, const char *origin, size_t origin_len,
                        uint64_t serial, const char *line, size_t line_len);

/* Called on the writer thread for every record this node made, once it is
 * written and synced, in serial order: the overlay's cue to ship it. It
 * must not block for long (the writer waits). NULL: none. Set before or
 * while the store runs; the previous shipper may still be called once. */
typedef void pcd_reports_ship_fn(void *arg, const char *origin, size_t origin_len, uint64_t serial,
                                 const char *line, size_t line_len);
void pcd_reports_set_shipper(struct pcd_reports *reports, pcd_reports_ship_fn *ship, void *arg);

#endif
